"""gategrad.files: bounded reads of regular files only, atomic writes, checks before work."""

import os
import stat
import subprocess
import sys
import time
import tracemalloc

import pytest

from gategrad import files
from gategrad.files import FileRefused, atomic_write, check_writable, read_bytes

# ---- read_bytes ----


def test_read_bytes_returns_a_small_file_whole(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b"0123456789")
    assert read_bytes(path, 10) == b"0123456789"


def test_read_bytes_refuses_a_file_one_byte_over_the_limit_naming_file_and_sizes(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 11)
    with pytest.raises(FileRefused, match=r"big\.json: 11 bytes, more than the limit of 10$"):
        read_bytes(path, 10)


def test_read_bytes_stops_after_limit_plus_one_bytes_of_a_file_whose_size_says_zero():
    # /proc files report st_size 0 and yet hold text: the cap must hold while reading.
    with pytest.raises(FileRefused, match="more than the limit of 16 bytes"):
        read_bytes("/proc/self/maps", 16)


def test_read_bytes_allocates_for_the_file_not_for_the_limit(tmp_path):
    path = tmp_path / "small.json"
    path.write_bytes(b"x" * 100_000)
    tracemalloc.start()
    try:
        assert read_bytes(path, 1 << 30) == b"x" * 100_000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 300_000  # measured: about 100 KB; a read of `limit + 1` bytes allocates 1 GiB


def test_read_bytes_reads_a_file_that_reports_size_zero_in_pieces():
    assert read_bytes("/proc/self/status", 1 << 20).startswith(b"Name:")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_read_bytes_refuses_a_device_without_reading_it(device):
    with pytest.raises(FileRefused, match=f"^{device}: not a regular file \\(a character device\\)$"):
        read_bytes(device, 1 << 30)


def test_read_bytes_refuses_a_symlink_to_dev_zero(tmp_path):
    link = tmp_path / "model.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(FileRefused, match="model.json: not a regular file \\(a character device\\)"):
        read_bytes(link, 1 << 30)


def test_read_bytes_refuses_a_directory(tmp_path):
    with pytest.raises(FileRefused, match="not a regular file \\(a directory\\)"):
        read_bytes(tmp_path, 100)


def test_read_bytes_refuses_a_named_pipe_without_a_writer_and_does_not_hang(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    code = f"from gategrad import files\ntry: files.read_bytes({str(fifo)!r}, 100)\nexcept ValueError as e: print(e)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout == f"{fifo}: not a regular file (a named pipe)\n"


def test_read_bytes_leaves_a_missing_file_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_bytes(tmp_path / "nowhere.json", 100)


def test_read_bytes_wants_a_whole_number_limit(tmp_path):
    with pytest.raises(ValueError, match="limit"):
        read_bytes(tmp_path, -1)


# ---- atomic_write ----


def test_atomic_write_writes_text_as_utf8_and_bytes_as_they_are(tmp_path):
    atomic_write(tmp_path / "t.txt", "∂L/∂x")
    atomic_write(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "t.txt").read_bytes() == "∂L/∂x".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(os.listdir(tmp_path)) == ["b.bin", "t.txt"]


def test_atomic_write_refuses_what_is_neither_text_nor_bytes(tmp_path):
    with pytest.raises(TypeError, match="str or bytes, not int"):
        atomic_write(tmp_path / "n", 5)  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_a_new_file_gets_0o644_less_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "new.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.json").st_mode) == 0o640


def test_resaving_keeps_the_existing_files_permissions(tmp_path):
    path = tmp_path / "private.json"
    atomic_write(path, "1")
    os.chmod(path, 0o600)
    atomic_write(path, "2")
    assert path.read_text() == "2"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_saving_to_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "store" / "model.json"
    target.write_text("old")
    link = tmp_path / "links" / "model.json"
    link.symlink_to(target)
    atomic_write(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert os.listdir(tmp_path / "store") == ["model.json"]
    assert os.listdir(tmp_path / "links") == ["model.json"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "model.json"
    link.symlink_to(tmp_path / "real.json")
    atomic_write(link, "x")
    assert (tmp_path / "real.json").read_text() == "x" and link.is_symlink()


@pytest.mark.parametrize("make, kind", [(lambda p: p.mkdir(), "a directory"), (os.mkfifo, "a named pipe")])
def test_atomic_write_refuses_to_replace_what_is_not_a_regular_file(tmp_path, make, kind):
    path = tmp_path / "out"
    make(path)
    with pytest.raises(FileRefused, match=f"out: not a regular file \\({kind}\\)"):
        atomic_write(path, "x")
    assert os.listdir(tmp_path) == ["out"]


def test_atomic_write_never_replaces_dev_null():
    with pytest.raises(FileRefused, match="/dev/null: not a regular file"):
        atomic_write("/dev/null", "x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_an_empty_path_is_refused():
    with pytest.raises(FileRefused, match="an empty path names no file"):
        atomic_write("", "x")
    with pytest.raises(FileRefused, match="an empty path names no file"):
        check_writable("")


def _kill_midway(folder):
    """A process killed with SIGKILL while it writes a temporary file into `folder`."""
    code = (
        "import os, signal\nfrom gategrad import files\n"
        f"fd, tmp = files._create_temp({str(folder)!r}, 0o644)\n"
        "os.write(fd, b'half a model')\nos.kill(os.getpid(), signal.SIGKILL)"
    )
    subprocess.run([sys.executable, "-c", code], timeout=60)


def test_the_next_save_in_a_fresh_process_removes_what_a_killed_save_left(tmp_path):
    _kill_midway(tmp_path)
    (left,) = os.listdir(tmp_path)
    assert left.startswith(".gategrad-") and left.endswith(".tmp")
    code = f"from gategrad.files import atomic_write\natomic_write({str(tmp_path / 'model.json')!r}, 'whole')"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert os.listdir(tmp_path) == ["model.json"]


def test_only_our_old_temporary_files_of_dead_processes_are_removed(tmp_path):
    old = time.time() - 3600
    dead = tmp_path / ".gategrad-999999999-0a1b2c.tmp"
    alive = tmp_path / f".gategrad-{os.getppid()}-0a1b2c.tmp"
    theirs = tmp_path / ".other-1.tmp"
    for path in (dead, alive, theirs):
        path.write_text("?")
        os.utime(path, (old, old))
    fresh = tmp_path / ".gategrad-999999998-0a1b2c.tmp"  # newer than this process: a save under way
    fresh.write_text("?")
    os.utime(fresh, (files._STARTED + 1, files._STARTED + 1))
    atomic_write(tmp_path / "model.json", "x")
    assert sorted(os.listdir(tmp_path)) == sorted([alive.name, theirs.name, fresh.name, "model.json"])


# ---- check_writable ----


def test_check_writable_leaves_nothing_behind(tmp_path):
    check_writable(tmp_path / "model.json")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "path, error",
    [
        ("/proc/gategrad-model.json", OSError),
        ("/proc/self/gategrad-model.json", OSError),
        ("/sys/gategrad-model.json", OSError),
        ("/nowhere/at/all/model.json", FileNotFoundError),
    ],
)
def test_check_writable_finds_a_folder_that_takes_no_files(path, error):
    with pytest.raises(error) as raised:
        check_writable(path)
    assert raised.value.filename is not None


def test_check_writable_refuses_a_directory(tmp_path):
    with pytest.raises(FileRefused, match="not a regular file \\(a directory\\)"):
        check_writable(tmp_path)
