"""Model files: a module's architecture and parameters as JSON, written atomically and read back exactly.

Loading trusts nothing in the file: it reads at most `MAX_BYTES`, refuses duplicate and unknown
keys, checks every size in "config" against the parameters the file holds (at most
`MAX_PARAMETERS`) before it builds anything, and accepts finite weights only.

Version 2 adds an optional "data" section (a DataInfo) for a model trained on a table;
version 1 files, which have none, still load. A regression's section may hold its target's mean
and scale; one without them (saved before they were) predicts the target as the net outputs it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from gategrad.files import FileRefused, atomic_write, read_bytes
from gategrad.nn.modules import MLP, Layer, Module, Neuron
from gategrad.text import cut, listed, quoted

FORMAT = "gategrad-model"
FORMAT_VERSION = 2  # the version save() writes
VERSIONS = {1, 2}  # the versions load() reads
KEYS = {"format", "version", "model", "config", "parameters", "data"}  # the top-level keys load() accepts
LOSSES = ("hinge", "bce", "cross_entropy", "mse")
MAX_BYTES = 128 * 2**20  # 128 MiB, room for MAX_PARAMETERS at about 55 bytes each
MAX_PARAMETERS = 2_000_000  # MLP(2, [1000, 1000, 1]) has 1,005,001

_OPTIONAL = {"target_mean", "target_scale"}  # a "data" section's keys that only a regression's may hold
_MODULES: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}
_CONFIG_KEYS = {
    "Neuron": {"nin", "activation"},
    "Layer": {"nin", "nout", "activation"},
    "MLP": {"nin", "nouts", "activation"},
}


@dataclasses.dataclass(frozen=True)
class DataInfo:
    """How a model trained on a table reads one: the model file's "data" section.

    `features` and `target` name the columns. Each row is standardised column by column as
    (x - mean) / scale before the model sees it. `classes` names the classes, None for a
    regression; `loss` is the loss trained with (mse for a regression, else hinge, bce or
    cross_entropy), which says how to read the outputs. A regression's net learns the target
    standardised too, (y - target_mean) / target_scale, so its output times target_scale plus
    target_mean is the prediction in the target's units; None for both means the net's output is.
    """

    features: Sequence[str]
    target: str
    mean: Sequence[float]
    scale: Sequence[float]
    classes: Sequence[str] | None
    loss: str
    target_mean: float | None = None
    target_scale: float | None = None

    def __post_init__(self) -> None:
        features = _names("features", self.features, least=1)
        if not isinstance(self.target, str) or not self.target:
            raise TypeError(f"target must be a column name, got {_shown(self.target)}")
        _text("target", self.target)
        if self.target in features:
            raise ValueError(f"target {quoted(self.target)} is also a feature")
        mean = _numbers("mean", self.mean, len(features))
        scale = _numbers("scale", self.scale, len(features))
        tiny = next((s for s in scale if not s >= sys.float_info.min), None)
        if tiny is not None:  # 1/scale must be finite: a subnormal scale turns every prediction into nan
            least = sys.float_info.min
            raise ValueError(f"every scale must be positive and a normal float (at least {least:g}), got {tiny!r}")
        classes = None if self.classes is None else _names("classes", self.classes, least=2)
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {_shown(self.loss)}")
        if (classes is None) != (self.loss == "mse"):
            raise ValueError(
                f"loss {self.loss} does not fit classes {_shown(self.classes)}: mse is a regression, without classes"
            )
        if self.loss in ("hinge", "bce") and classes is not None and len(classes) != 2:
            raise ValueError(f"loss {self.loss} needs two classes, got {len(classes)}")
        if (self.target_mean is None) != (self.target_scale is None):
            raise ValueError("target_mean and target_scale come together: give both or neither")
        if self.target_mean is not None:
            if classes is not None:
                raise ValueError(
                    "target_mean and target_scale standardise a regression's target; a classifier has none"
                )
            target_mean, target_scale = _numbers(
                "target_mean and target_scale", [self.target_mean, self.target_scale], 2
            )
            if not target_scale >= sys.float_info.min:  # as scale: a subnormal one makes every label inf
                least = sys.float_info.min
                raise ValueError(
                    f"target_scale must be positive and a normal float (at least {least:g}), got {target_scale!r}"
                )
            object.__setattr__(self, "target_mean", target_mean)
            object.__setattr__(self, "target_scale", target_scale)
        for name, value in (("features", features), ("mean", mean), ("scale", scale), ("classes", classes)):
            object.__setattr__(self, name, value)  # frozen: store the checked tuples

    @property
    def outputs(self) -> int:
        """How many outputs a model reading this table has: one per class for cross_entropy, else one."""
        return len(self.classes) if self.loss == "cross_entropy" and self.classes is not None else 1

    def target_value(self, output: float) -> float:
        """A regression net's output in the target's units: output * target_scale + target_mean."""
        if self.target_mean is None or self.target_scale is None:
            return output
        return output * self.target_scale + self.target_mean


def _names(what: str, names: object, least: int) -> tuple[str, ...]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"{what} must be a list of names, got {_shown(names)}")
    if len(names) < least or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{what} must be at least {least} non-empty names, got {_shown(list(names))}")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} names one twice: {quoted(name)}")
        seen.add(name)
        _text(what, name)
    return tuple(names)


def _text(what: str, name: str) -> None:
    """Refuse a name that is not text: a lone surrogate ("\\udc80" in JSON) cannot be printed or written."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what}: {quoted(name)} holds a lone surrogate, which is not text") from None


def _shown(x: object) -> str:
    """A value from a file, in a message: its repr cut to the first 80 characters."""
    return cut(repr(x))


def _numbers(what: str, numbers: object, length: int) -> tuple[float, ...]:
    if isinstance(numbers, (str, bytes)) or not isinstance(numbers, Sequence):
        raise TypeError(f"{what} must be a list of numbers, got {_shown(numbers)}")
    if len(numbers) != length:
        raise ValueError(f"{what} has {len(numbers)} numbers for {length} features")
    out = []
    for x in numbers:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(f"{what} must hold numbers, got {type(x).__name__}: {_shown(x)}")
        try:
            out.append(float(x))
        except OverflowError:
            raise ValueError(f"{what} holds a number too large for a float") from None
        if not math.isfinite(out[-1]):
            raise ValueError(f"{what} must hold finite numbers, got {x!r}")
    return tuple(out)


def _check_fits(info: object, model: Module) -> DataInfo:
    """`info`, once it is a DataInfo for as many inputs and outputs as `model` has."""
    if not isinstance(info, DataInfo):
        raise TypeError(f"data_info must be a DataInfo or None, got {type(info).__name__}")
    config = model.config()
    nout = config["nouts"][-1] if "nouts" in config else config.get("nout", 1)
    if len(info.features) != config["nin"]:
        raise ValueError(f"data_info names {len(info.features)} features, the model takes {config['nin']} inputs")
    if info.outputs != nout:
        what = f"{len(info.classes)} classes and loss {info.loss}" if info.classes else "a regression"
        raise ValueError(f"data_info ({what}) needs {info.outputs} outputs, the model has {nout}")
    return info


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write the architecture, `model.data_info` if set, and every parameter to a JSON model file, atomically.

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
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": type(model).__name__,
        "config": model.config(),
    }
    if model.data_info is not None:
        section = dataclasses.asdict(_check_fits(model.data_info, model))
        doc["data"] = {key: value for key, value in section.items() if key not in _OPTIONAL or value is not None}
    doc["parameters"] = state
    atomic_write(path, json.dumps(doc, indent=1, allow_nan=False))


class _Broken(ValueError):
    """Something in a model file that is not right; load() adds the file's name."""


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object that names each key once (json.loads would keep the last of two silently)."""
    doc: dict[str, object] = {}
    for key, value in pairs:
        if key in doc:
            raise _Broken(f"the key {quoted(key)} appears twice")
        doc[key] = value
    return doc


def _check_config(model: str, config: dict[str, object], held: int) -> None:
    """Each size in `config` against the `held` parameters, then their total, before anything is built."""
    unknown = sorted(set(config) - _CONFIG_KEYS[model])
    if unknown:
        known = ", ".join(sorted(_CONFIG_KEYS[model]))
        raise _Broken(f'unknown key {quoted(unknown[0])} in "config"; a {model} has {known}')
    if model == "MLP":
        nouts = config.get("nouts")
        if not isinstance(nouts, list) or not nouts:
            raise _Broken(f"config nouts must be a non-empty list of layer sizes, got {_shown(nouts)}")
        fields = [("nin", config.get("nin")), *((f"nouts[{i}]", n) for i, n in enumerate(nouts))]
    elif model == "Layer":
        fields = [("nin", config.get("nin")), ("nout", config.get("nout"))]
    else:
        fields = [("nin", config.get("nin")), ("one neuron", 1)]
    for field, n in fields:
        if isinstance(n, bool) or not isinstance(n, int):
            raise _Broken(f"config {field} must be a whole number, got {_shown(n)}")
        if n < 1:
            raise _Broken(f"config {field} must be at least 1, got {n}")
        # Every neuron has a bias and at least one weight: no size can exceed the parameters held.
        if n > held:
            noun = "parameter" if held == 1 else "parameters"
            raise _Broken(f"config {field} is {n:,}, more than the {held:,} {noun} the file holds")
    needed = parameter_count([n for _, n in fields])
    if needed != held:
        raise _Broken(f'"config" describes {needed:,} parameters, "parameters" holds {held:,}')


def parameter_count(sizes: Sequence[int]) -> int:
    """The parameters of an MLP with these layer sizes, inputs first: each neuron's weights and bias."""
    return sum(sizes[i + 1] * (sizes[i] + 1) for i in range(len(sizes) - 1))


def _check_parameters(state: dict[str, object]) -> None:
    """The number of parameters against MAX_PARAMETERS, and each one finite; names the first that is not."""
    if len(state) > MAX_PARAMETERS:
        raise _Broken(f'"parameters" holds {len(state):,}, more than the limit of {MAX_PARAMETERS:,}')
    for name, x in state.items():
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise _Broken(f"parameter {cut(name)} must be a number, got {type(x).__name__}: {_shown(x)}")
        if isinstance(x, float) and not math.isfinite(x):
            raise _Broken(f"parameter {cut(name)} is {x}; every weight must be finite")


def _check(doc: object) -> tuple[type[Module], dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """The module class, config, parameters and data section (None if absent) of a parsed model file, checked."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _Broken(f'no "format": "{FORMAT}" field')
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version not in VERSIONS:
        known = ", ".join(map(str, sorted(VERSIONS)))
        raise _Broken(f"version {_shown(version)}; this gategrad reads version {known}")
    unknown = sorted(set(doc) - KEYS)
    if unknown:
        raise _Broken(f"unknown key {quoted(unknown[0])}; a model file has {', '.join(sorted(KEYS))}")
    if "data" in doc and version < 2:
        raise _Broken(f'a "data" section in a version {version} file; it came with version 2')
    if "data" in doc and not isinstance(doc["data"], dict):
        raise _Broken(f'the "data" section must be a JSON object, got {type(doc["data"]).__name__}')
    name = doc.get("model")
    if not isinstance(name, str) or name not in _MODULES:
        raise _Broken(f"unknown model {_shown(name)}; expected one of {', '.join(_MODULES)}")
    config, state = doc.get("config"), doc.get("parameters")
    if not isinstance(config, dict) or not isinstance(state, dict):
        raise _Broken('"config" and "parameters" must be JSON objects')
    _check_parameters(state)
    _check_config(name, config, len(state))
    return _MODULES[name], config, state, doc.get("data")  # a dict, or None when absent


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


def load(path: str | os.PathLike[str]) -> Module:
    """Read a model file written by `save()` and rebuild the model, its `data_info` included (None if absent).

    Raises FileNotFoundError for a missing file, and ValueError naming the file for anything
    else: not a regular file or over MAX_BYTES (`gategrad.files.FileRefused`), or not a
    complete, consistent gategrad model file with finite weights.
    """
    try:
        # The file's bytes and text are let go before the model is built, lowering the peak.
        cls, config, state, data = _check(_parse(read_bytes(path, MAX_BYTES)))
        model = cls(**config)
        model.load_state_dict(state)
        if data is not None:
            model.data_info = _data_info(data, model)
    except FileRefused:
        raise
    except (TypeError, ValueError) as e:  # ours, or the constructor's and load_state_dict's checks
        raise ValueError(f"{os.fspath(path)}: not a gategrad model file ({e})") from None
    return model


def _data_info(section: dict[str, Any], model: Module) -> DataInfo:
    """The "data" section read strictly: exactly DataInfo's keys, its checks, and a fit with the model."""
    keys = [field.name for field in dataclasses.fields(DataInfo) if field.name not in _OPTIONAL]
    if not set(keys) <= set(section) <= set(keys) | _OPTIONAL:
        raise _Broken(
            f'the "data" section must have the keys {", ".join(keys)} (and a regression\'s may have '
            f"{', '.join(sorted(_OPTIONAL))}); found {listed(sorted(section), quote=True)}"
        )
    try:
        return _check_fits(DataInfo(**section), model)
    except (TypeError, ValueError) as e:
        raise _Broken(f'"data": {e}') from None
