"""Model files: a module's architecture and parameters as JSON, written atomically and read back exactly."""

from __future__ import annotations

import json
import os
import tempfile

from gategrad.nn.modules import MLP, Layer, Module, Neuron

FORMAT = "gategrad-model"
FORMAT_VERSION = 1


def save(model: Module, path: str | os.PathLike) -> None:
    """Write the architecture and every parameter to a JSON model file, atomically.

    The file is written beside `path` under a temporary name and then renamed over it,
    so a save that fails or is interrupted leaves any earlier file at `path` untouched.
    Floats are written as repr, which reads back bit for bit.
    """
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": type(model).__name__,
        "config": model.config(),
        "parameters": model.state_dict(),
    }
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".gategrad-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a model file is ordinary data
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


_MODULES: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}


def load(path: str | os.PathLike) -> Module:
    """Read a model file written by `save()` and rebuild the model.

    Raises FileNotFoundError for a missing file and ValueError, naming the file, for
    anything that is not a complete gategrad model file.
    """
    with open(path, "rb") as f:
        raw = f.read()

    def broken(problem: str) -> ValueError:
        return ValueError(f"{os.fspath(path)}: not a gategrad model file ({problem})")

    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise broken("not UTF-8 text") from None
    except ValueError as e:  # json's JSONDecodeError, or a number too long to read
        raise broken(f"invalid or truncated JSON: {e}") from None
    except RecursionError:
        raise broken("JSON nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise broken(f'no "format": "{FORMAT}" field')
    if doc.get("version") != FORMAT_VERSION:
        raise broken(f"version {doc.get('version')!r}; this gategrad reads version {FORMAT_VERSION}")
    name = doc.get("model")
    cls = _MODULES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise broken(f"unknown model {name!r}; expected one of {', '.join(_MODULES)}")
    config, state = doc.get("config"), doc.get("parameters")
    if not isinstance(config, dict) or not isinstance(state, dict):
        raise broken('"config" and "parameters" must be JSON objects')
    try:
        model = cls(**config)
        model.load_state_dict(state)
    except (TypeError, ValueError) as e:
        raise broken(str(e)) from None
    return model
