"""Model files: a module's architecture and parameters as JSON, written atomically and read back exactly.

Loading trusts nothing in the file: it reads at most `MAX_BYTES`, refuses duplicate and unknown
keys, checks every size in "config" against the parameters the file holds (at most
`MAX_PARAMETERS`) before it builds anything, and accepts finite weights only.
"""

from __future__ import annotations

import json
import math
import os

from gategrad.files import FileRefused, atomic_write, read_bytes
from gategrad.nn.modules import MLP, Layer, Module, Neuron

FORMAT = "gategrad-model"
FORMAT_VERSION = 1  # the version save() writes
VERSIONS = {1}  # the versions load() reads
KEYS = {"format", "version", "model", "config", "parameters"}  # the top-level keys load() accepts
MAX_BYTES = 128 * 2**20  # 128 MiB, room for MAX_PARAMETERS at about 55 bytes each
MAX_PARAMETERS = 2_000_000  # MLP(2, [1000, 1000, 1]) has 1,005,001

_MODULES: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}
_CONFIG_KEYS = {
    "Neuron": {"nin", "activation"},
    "Layer": {"nin", "nout", "activation"},
    "MLP": {"nin", "nouts", "activation"},
}


def save(model: Module, path: str | os.PathLike) -> None:
    """Write the architecture and every parameter to a JSON model file, atomically.

    A save that fails or is interrupted leaves any earlier file at `path` untouched (see
    `gategrad.files.atomic_write`). Floats are written as repr, which reads back bit for bit.
    A NaN or infinite parameter is refused with a ValueError naming it: no model file holds one.
    """
    state = model.state_dict()
    for name, x in state.items():
        if isinstance(x, float) and not math.isfinite(x):
            raise ValueError(
                f"cannot save {os.fspath(path)}: parameter {name} is {x}; a model file holds finite weights"
            )
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": type(model).__name__,
        "config": model.config(),
        "parameters": state,
    }
    atomic_write(path, json.dumps(doc, indent=1, allow_nan=False))


class _Broken(ValueError):
    """Something in a model file that is not right; load() adds the file's name."""


def _object(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object that names each key once (json.loads would keep the last of two silently)."""
    doc: dict = {}
    for key, value in pairs:
        if key in doc:
            raise _Broken(f"the key {key!r} appears twice")
        doc[key] = value
    return doc


def _check_config(model: str, config: dict, held: int) -> None:
    """Each size in `config` against the `held` parameters, then their total, before anything is built."""
    unknown = sorted(set(config) - _CONFIG_KEYS[model])
    if unknown:
        raise _Broken(f'unknown key {unknown[0]!r} in "config"; a {model} has {", ".join(sorted(_CONFIG_KEYS[model]))}')
    if model == "MLP":
        nouts = config.get("nouts")
        if not isinstance(nouts, list) or not nouts:
            raise _Broken(f"config nouts must be a non-empty list of layer sizes, got {nouts!r}")
        fields = [("nin", config.get("nin")), *((f"nouts[{i}]", n) for i, n in enumerate(nouts))]
    elif model == "Layer":
        fields = [("nin", config.get("nin")), ("nout", config.get("nout"))]
    else:
        fields = [("nin", config.get("nin")), ("one neuron", 1)]
    for field, n in fields:
        if isinstance(n, bool) or not isinstance(n, int):
            raise _Broken(f"config {field} must be a whole number, got {n!r}")
        if n < 1:
            raise _Broken(f"config {field} must be at least 1, got {n}")
        # Every neuron has a bias and at least one weight: no size can exceed the parameters held.
        if n > held:
            noun = "parameter" if held == 1 else "parameters"
            raise _Broken(f"config {field} is {n:,}, more than the {held:,} {noun} the file holds")
    sizes = [n for _, n in fields]
    needed = sum(sizes[i + 1] * (sizes[i] + 1) for i in range(len(sizes) - 1))
    if needed != held:
        raise _Broken(f'"config" describes {needed:,} parameters, "parameters" holds {held:,}')


def _check_parameters(state: dict) -> None:
    """The number of parameters against MAX_PARAMETERS, and each one finite; names the first that is not."""
    if len(state) > MAX_PARAMETERS:
        raise _Broken(f'"parameters" holds {len(state):,}, more than the limit of {MAX_PARAMETERS:,}')
    for name, x in state.items():
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise _Broken(f"parameter {name} must be a number, got {type(x).__name__}: {x!r}")
        if isinstance(x, float) and not math.isfinite(x):
            raise _Broken(f"parameter {name} is {x}; every weight must be finite")


def _check(doc: object) -> tuple[type[Module], dict, dict]:
    """The module class, config and parameters of a parsed model file, every field checked."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _Broken(f'no "format": "{FORMAT}" field')
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version not in VERSIONS:
        known = ", ".join(map(str, sorted(VERSIONS)))
        raise _Broken(f"version {version!r}; this gategrad reads version {known}")
    unknown = sorted(set(doc) - KEYS)
    if unknown:
        raise _Broken(f"unknown key {unknown[0]!r}; a model file has {', '.join(sorted(KEYS))}")
    name = doc.get("model")
    if not isinstance(name, str) or name not in _MODULES:
        raise _Broken(f"unknown model {name!r}; expected one of {', '.join(_MODULES)}")
    config, state = doc.get("config"), doc.get("parameters")
    if not isinstance(config, dict) or not isinstance(state, dict):
        raise _Broken('"config" and "parameters" must be JSON objects')
    _check_parameters(state)
    _check_config(name, config, len(state))
    return _MODULES[name], config, state


def _parse(raw: bytes) -> object:
    """The JSON document in `raw`, each object's keys unique."""
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_object)
    except UnicodeDecodeError:
        raise _Broken("not UTF-8 text") from None
    except _Broken:
        raise
    except ValueError as e:  # json's JSONDecodeError, or a number too long to read
        raise _Broken(f"invalid or truncated JSON: {e}") from None
    except RecursionError:
        raise _Broken("JSON nested too deeply") from None


def load(path: str | os.PathLike) -> Module:
    """Read a model file written by `save()` and rebuild the model.

    Raises FileNotFoundError for a missing file, and ValueError naming the file for anything
    else: not a regular file or over MAX_BYTES (`gategrad.files.FileRefused`), or not a
    complete, consistent gategrad model file with finite weights.
    """
    try:
        # The file's bytes and text are let go before the model is built, lowering the peak.
        cls, config, state = _check(_parse(read_bytes(path, MAX_BYTES)))
        model = cls(**config)
        model.load_state_dict(state)
    except FileRefused:
        raise
    except (TypeError, ValueError) as e:  # ours, or the constructor's and load_state_dict's checks
        raise ValueError(f"{os.fspath(path)}: not a gategrad model file ({e})") from None
    return model
