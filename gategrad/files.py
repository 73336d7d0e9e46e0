"""Files read with a size limit and only when they are regular files; files written atomically.

Writes go to a temporary file `.gategrad-PID-RANDOM.tmp` in the target's folder, which is
fsynced and then renamed over the target: a reader sees the old file or the new one, never half
of one. A symlink is written through: its target is replaced, atomically, in the target's
folder, and the link stays a link.
"""

from __future__ import annotations

import os
import secrets
import stat
import time

TEMP_PREFIX, TEMP_SUFFIX = ".gategrad-", ".tmp"
_STARTED = time.time()  # temporary files older than this process are left over by a killed one


class FileRefused(ValueError):
    """A path gategrad will not read or write: not a regular file, too large, or empty."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _not_regular(path: str | os.PathLike[str], mode: int) -> FileRefused:
    return FileRefused(path, f"not a regular file ({_kind(mode)})")


def read_bytes(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at `path`, refusing anything else and any file over `limit` bytes.

    A directory, a named pipe or a device (also behind a symlink) is refused without being
    read, so `/dev/zero` cannot fill the memory and a pipe without a writer cannot hang.
    Raises FileRefused (a ValueError) naming the file and the reason; a missing file stays
    FileNotFoundError. At most `limit + 1` bytes are read, even from a file that grows.
    """
    if not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a whole number of bytes >= 0, got {limit!r}")
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode)
    # O_NONBLOCK: should the file be swapped for a pipe after the check, opening it cannot block.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb", buffering=0) as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(path, info.st_mode)
        if info.st_size > limit:
            raise FileRefused(path, f"{info.st_size:,} bytes, more than the limit of {limit:,}")
        # Ask for the size the file reports and one byte more, so no read allocates `limit`
        # bytes up front; keep going in 64 KB pieces for files that grow or report 0 (/proc).
        chunks, size = [], 0
        while size <= limit:
            chunk = f.read(min(max(info.st_size + 1 - size, 1 << 16), limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if size > limit:
        raise FileRefused(path, f"more than the limit of {limit:,} bytes")
    return b"".join(chunks)


def _target(path: str | os.PathLike[str]) -> tuple[str, int | None]:
    """The file a write to `path` replaces (symlinks followed) and its permission bits, None if it is new."""
    if not os.fspath(path):
        raise FileRefused(path, "an empty path names no file")
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target, None
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode)
    return target, stat.S_IMODE(mode)


def _create_temp(folder: str, mode: int) -> tuple[int, str]:
    """A new temporary file in `folder`, open for writing; `mode` goes through the umask."""
    while True:
        tmp = os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode), tmp
        except FileExistsError:
            continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:  # another user's process
        return True
    except (ProcessLookupError, OverflowError, ValueError):
        return False
    return True


def _remove_stale_temps(folder: str) -> None:
    """Delete temporary files a killed gategrad left in `folder`: ours by name, older than this process."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)):
            continue
        pid = name[len(TEMP_PREFIX) :].split("-")[0]
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < _STARTED and not (pid.isdigit() and _alive(int(pid))):
                os.unlink(entry.path)
        except OSError:
            continue


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether writing to `a` writes the file `b` names: one path once symlinks are followed, or a hard link."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fail now, as a save to `path` would later: create the temporary file beside the target and remove it.

    Raises FileRefused for an empty path or a target that is not a regular file (a directory,
    a device), and OSError (naming the file) when its folder is missing, read-only or not a
    place for files at all, such as `/proc`.
    """
    target, _ = _target(path)
    folder = os.path.dirname(target)
    fd, tmp = _create_temp(folder, 0o600)
    os.close(fd)
    os.unlink(tmp)
    _remove_stale_temps(folder)


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace the file at `path` with `data` (a str is written as UTF-8) in one step.

    Writes a temporary file in the target's folder, fsyncs it and renames it over the target, so
    an interruption leaves the old file whole. Re-saving keeps the file's permissions; a new file
    gets 0o644 less the umask. A symlink is written through: its target is replaced, in the
    target's folder. Temporary files a killed save left there are removed. Raises as `check_writable`.
    """
    if not isinstance(data, (str, bytes)):
        raise TypeError(f"atomic_write writes str or bytes, not {type(data).__name__}")
    content = data.encode("utf-8") if isinstance(data, str) else data
    target, mode = _target(path)
    folder = os.path.dirname(target)
    fd, tmp = _create_temp(folder, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)
    _remove_stale_temps(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename durable; some systems (Windows, some network filesystems) cannot, and that is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
