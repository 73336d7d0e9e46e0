"""Model files: a module's architecture and parameters as JSON, written atomically and read back exactly.

Version 2 adds an optional "data" section (a DataInfo) for a model trained on a table;
version 1 files, which have none, still load.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence
from typing import Any

from gategrad.files import atomic_write
from gategrad.nn.modules import MLP, Layer, Module, Neuron

FORMAT = "gategrad-model"
FORMAT_VERSION = 2
READS_VERSIONS = (1, 2)
LOSSES = ("hinge", "bce", "cross_entropy", "mse")


@dataclasses.dataclass(frozen=True)
class DataInfo:
    """How a model trained on a table reads one: the model file's "data" section.

    `features` and `target` name the columns. Each row is standardised column by column as
    (x - mean) / scale before the model sees it. `classes` names the classes, None for a
    regression; `loss` is the loss trained with (mse for a regression, else hinge, bce or
    cross_entropy), which says how to read the outputs.
    """

    features: Sequence[str]
    target: str
    mean: Sequence[float]
    scale: Sequence[float]
    classes: Sequence[str] | None
    loss: str

    def __post_init__(self) -> None:
        features = _names("features", self.features, least=1)
        if not isinstance(self.target, str) or not self.target:
            raise TypeError(f"target must be a column name, got {self.target!r}")
        if self.target in features:
            raise ValueError(f"target {self.target!r} is also a feature")
        mean = _numbers("mean", self.mean, len(features))
        scale = _numbers("scale", self.scale, len(features))
        if any(s <= 0 for s in scale):
            raise ValueError(f"every scale must be positive, got {list(scale)}")
        classes = None if self.classes is None else _names("classes", self.classes, least=2)
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {self.loss!r}")
        if (classes is None) != (self.loss == "mse"):
            raise ValueError(
                f"loss {self.loss} does not fit classes {self.classes!r}: mse is a regression, without classes"
            )
        if self.loss in ("hinge", "bce") and classes is not None and len(classes) != 2:
            raise ValueError(f"loss {self.loss} needs two classes, got {len(classes)}")
        for name, value in (("features", features), ("mean", mean), ("scale", scale), ("classes", classes)):
            object.__setattr__(self, name, value)  # frozen: store the checked tuples

    @property
    def outputs(self) -> int:
        """How many outputs a model reading this table has: one per class for cross_entropy, else one."""
        return len(self.classes) if self.loss == "cross_entropy" and self.classes is not None else 1


def _names(what: str, names: object, least: int) -> tuple[str, ...]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise TypeError(f"{what} must be a list of names, got {names!r}")
    if len(names) < least or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{what} must be at least {least} non-empty names, got {list(names)!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"{what} names one twice: {list(names)!r}")
    return tuple(names)


def _numbers(what: str, numbers: object, length: int) -> tuple[float, ...]:
    if isinstance(numbers, (str, bytes)) or not isinstance(numbers, Sequence):
        raise TypeError(f"{what} must be a list of numbers, got {numbers!r}")
    if len(numbers) != length:
        raise ValueError(f"{what} has {len(numbers)} numbers for {length} features")
    out = []
    for x in numbers:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(f"{what} must hold numbers, got {type(x).__name__}: {x!r}")
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


def save(model: Module, path: str | os.PathLike) -> None:
    """Write the architecture, `model.data_info` if set, and every parameter to a JSON model file, atomically.

    A save that fails or is interrupted leaves any earlier file at `path` untouched (see
    `gategrad.files.atomic_write`). Floats are written as repr, which reads back bit for bit.
    """
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": type(model).__name__,
        "config": model.config(),
    }
    if model.data_info is not None:
        doc["data"] = dataclasses.asdict(_check_fits(model.data_info, model))
    doc["parameters"] = model.state_dict()
    atomic_write(path, json.dumps(doc, indent=1))


_MODULES: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}


def load(path: str | os.PathLike) -> Module:
    """Read a model file written by `save()` and rebuild the model, its `data_info` included (None if absent).

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
    version = doc.get("version")
    if isinstance(version, bool) or version not in READS_VERSIONS:
        raise broken(f"version {version!r}; this gategrad reads versions {' and '.join(map(str, READS_VERSIONS))}")
    if "data" in doc and version < 2:
        raise broken(f'a "data" section in a version {version} file; it came with version 2')
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
    if "data" in doc:
        model.data_info = _data_info(doc["data"], model, broken)
    return model


def _data_info(section: object, model: Module, broken: Any) -> DataInfo:
    """The "data" section read strictly: exactly DataInfo's keys, its checks, and a fit with the model."""
    keys = [field.name for field in dataclasses.fields(DataInfo)]
    if not isinstance(section, dict) or sorted(section) != sorted(keys):
        found = sorted(section) if isinstance(section, dict) else type(section).__name__
        raise broken(f'the "data" section must have the keys {", ".join(keys)}; found {found}')
    try:
        return _check_fits(DataInfo(**section), model)
    except (TypeError, ValueError) as e:
        raise broken(f'"data": {e}') from None
