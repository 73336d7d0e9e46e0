"""Your own data: a CSV file read as numbers, then standardised and split, with the standard library's `csv`.

The first row names the columns. The target column holds class labels (strings or integers)
or, for a regression, numbers; every other column is a numeric feature. A file that is not
such a table raises CSVError naming the file, and the line and column where it can.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import math
import os
import random
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gategrad.files import FileRefused, read_bytes
from gategrad.text import cut, listed, quoted

# Far more than gategrad trains in reasonable time: 64 MiB of CSV is about a million rows of
# a few columns, some hundreds of MB once read as Python floats.
MAX_BYTES = 64 * 2**20
MAX_CLASSES = 100  # labels a target column may have: more is an ID column, or numbers for a regression

_Row = TypeVar("_Row")
_Target = TypeVar("_Target")


class CSVError(ValueError):
    """A CSV file that is not a table gategrad can read; the message names the file, line and column."""


@dataclass
class Table:
    """A CSV file read as numbers; unpacks as `X, y, classes`.

    `X` holds the feature columns, `y` the target (class indices into `classes`, or numbers for
    a regression, where `classes` is None; None when no target was asked for), `features` and
    `target` their names, `columns` the header's, `rows` each row's fields as text when asked
    for (else None).
    """

    X: list[list[float]]
    y: list[int] | list[float] | None
    classes: list[str] | None
    features: list[str]
    target: str | None
    columns: list[str]
    rows: list[list[str]] | None = None

    def __iter__(self) -> Iterator[Any]:  # X, y and classes differ in type, as a tuple's items do
        return iter((self.X, self.y, self.classes))


def load_csv(
    path: str | os.PathLike[str],
    target: str | None = None,
    *,
    regression: bool = False,
    classes: Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    keep_rows: bool = False,
    arrays: bool = False,
) -> Table:
    """Read a CSV file: `X, y, classes = load_csv("iris.csv", target="species")`.

    The target's labels become class indices into `classes`, sorted (as numbers when they are
    all integers); with `regression=True` the target must be numbers, and `y` holds them.
    Every other column is a feature. To read a file as a trained model does, pass its
    `classes` (a label outside them is an error) and its `features` (those columns are read,
    in that order, and any others are left alone). `keep_rows` also keeps each row as text.
    `arrays=True` gives X and y as numpy arrays (8 bytes a number, where a list of lists of floats
    takes about 100 a row): what `gategrad train` trains on with replay.
    """
    name, reader, header, at, features = _open(path, target, features)
    where = [header.index(column) for column in features]
    t = None if target is None else header.index(target)
    known = None if classes is None else {label: i for i, label in enumerate(classes)}
    seen: dict[str, int] = {}  # each label's index in order of first appearance, sorted at the end
    X: list[list[float]] = []
    # class indices (a byte each up to 127 classes), or a regression's numbers
    small = known is None or len(known) <= 127
    y: Any = array("d" if regression else "b" if small else "q") if arrays else []
    flat = array("d")  # with `arrays`, X row after row
    rows: list[list[str]] | None = [] if keep_rows else None
    for line, row, numbers in _rows(name, reader, header, at, where):
        if arrays:
            flat.extend(numbers)
        else:
            X.append(numbers)
        if t is not None:
            label = row[t].strip()
            if not label:
                raise CSVError(f"{name}: line {line}, {_column(t, header)}: is empty; every row needs a target")
            if regression:
                y.append(_number(label, name, line, t, header, " (a regression's target must be)"))
            elif known is not None:
                if label not in known:
                    raise CSVError(
                        f"{name}: line {line}, {_column(t, header)}: {quoted(label)} is not one of the classes "
                        f"{listed(known)}"
                    )
                y.append(known[label])
            else:
                y.append(seen.setdefault(label, len(seen)))
                if len(seen) > MAX_CLASSES:
                    raise CSVError(_too_many_classes(name, line, header[t], label))
        if rows is not None:
            rows.append(row)
    if not (flat if arrays else X):
        raise CSVError(f"{name}: no rows after the header on {at}")
    if t is not None and not regression and known is None:
        classes, y = _sorted_classes(seen, y, name, header[t])
    names = None if classes is None or regression else list(classes)
    if arrays:
        import numpy as np  # only here: the toy datasets beside this module run without numpy

        X = np.frombuffer(flat, dtype=float).reshape(-1, len(where))  # type: ignore[assignment]
        y = np.frombuffer(y, dtype=float if regression else np.int8 if small else np.int64)
    return Table(X, y if t is not None else None, names, list(features), target, header, rows)


def _open(
    path: str | os.PathLike[str], target: str | None, features: Sequence[str] | None
) -> tuple[str, Any, list[str], str, list[str]]:
    """The file's name, its csv reader past the header, the header, the header's line and the feature columns."""
    name = os.fspath(path)
    reader = csv.reader(_lines(_read(name), name), strict=True)
    header = _header(reader, name)
    at = f"line {reader.line_num}"  # the header's, usually line 1
    if target is not None and target not in header:
        raise CSVError(f"{name}: {at}: no column {quoted(target)} to predict{_did_you_mean(target, header)}")
    if features is None:
        features = [column for column in header if column != target]
        if not features:
            raise CSVError(f"{name}: {at}: no feature columns, only the target {quoted(str(target))}")
    else:
        missing = [column for column in features if column not in header]
        if missing:
            raise CSVError(f"{name}: {at}: no column {quoted(missing[0])}; expected the features {listed(features)}")
    return name, reader, header, at, list(features)


def read_rows(
    path: str | os.PathLike[str], features: Sequence[str]
) -> tuple[list[str], Iterator[tuple[int, list[str], list[float]]]]:
    """The header of a CSV file, and its rows one at a time as (line, fields, the `features` as numbers).

    Unlike `load_csv`, nothing but the file's bytes and the current row is held: `predict` streams with it.
    """
    name, reader, header, at, features = _open(path, None, features)
    where = [header.index(column) for column in features]

    return header, _rows(name, reader, header, at, where)


def _rows(
    name: str, reader: Any, header: list[str], at: str, where: list[int]
) -> Iterator[tuple[int, list[str], list[float]]]:
    """The rows after the header, blank lines skipped, one at a time: (line, fields, the `where` columns as numbers)."""
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            line = reader.line_num
            if len(row) != len(header):
                raise CSVError(f"{name}: line {line} has {len(row)} columns, the header on {at} has {len(header)}")
            yield line, row, [_number(row[j], name, line, j, header) for j in where]
    except csv.Error as e:
        raise CSVError(f"{name}: line {reader.line_num}: {_csv_problem(e)}") from None


def _read(name: str) -> bytes:
    try:
        return read_bytes(name, MAX_BYTES)
    except FileRefused as e:
        raise CSVError(str(e)) from None


def _lines(raw: bytes, name: str) -> Iterator[str]:
    """The file's lines as text, one at a time (csv.reader reads any iterable of lines).

    Decoding a line at a time keeps one copy of the file in memory, not three (bytes, text,
    the reader's buffer), and tells the line number of a byte that is not UTF-8.
    """
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0  # as spreadsheets save "CSV UTF-8"
    number = 0
    while start < len(raw):
        end = raw.find(b"\n", start) + 1 or len(raw)
        number += 1
        line = raw[start:end]
        if b"\0" in line:
            raise CSVError(f"{name}: line {number}: not a text file (a NUL byte)")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CSVError(f"{name}: line {number}: not a UTF-8 text file (byte 0x{line[e.start]:02x})") from None
        yield text
        start = end


def _header(reader: Any, name: str) -> list[str]:
    """The first row that is not blank, each column's name stripped: every name given, none twice."""
    try:
        header = next((row for row in reader if row and (len(row) > 1 or row[0].strip())), None)
    except csv.Error as e:
        raise CSVError(f"{name}: line {reader.line_num}: {_csv_problem(e)}") from None
    if header is None:
        raise CSVError(f"{name}: the file is empty; its first line should name the columns")
    header = [column.strip() for column in header]
    for j, column in enumerate(header):
        if not column:
            raise CSVError(f"{name}: line {reader.line_num}, column {j + 1}: the header gives no name")
        if header.index(column) != j:
            first = header.index(column) + 1
            raise CSVError(
                f"{name}: line {reader.line_num}: column {quoted(column)} appears twice (columns {first} and {j + 1})"
            )
    return header


def _csv_problem(error: csv.Error) -> str:
    if "new-line character" in str(error):  # csv's own words suggest a Python fix, not a file fix
        return "a line ends with a lone carriage return (\\r): save the file with ordinary line ends"
    return f"not valid CSV ({error})"


def _column(j: int, header: list[str]) -> str:
    return f"column {j + 1} ({cut(header[j])})"


def _number(text: str, name: str, line: int, j: int, header: list[str], hint: str = "") -> float:
    try:
        x = float(text)
    except ValueError:
        problem = "is empty" if not text.strip() else f"{quoted(text)} is not a number"
        raise CSVError(f"{name}: line {line}, {_column(j, header)}: {problem}{hint}") from None
    if not math.isfinite(x):
        raise CSVError(f"{name}: line {line}, {_column(j, header)}: {quoted(text)} is not a finite number")
    return x


def _sorted_classes(seen: dict[str, int], y: Any, name: str, target: str) -> tuple[list[str], Any]:
    """The labels sorted (as numbers when all are integers), and y renumbered to match."""
    labels = list(seen)
    if len(labels) < 2:
        raise CSVError(
            f"{name}: column {quoted(target)} has one class, {quoted(labels[0])}: a classifier needs two or more"
        )
    if all(_parses(int, label) for label in labels):
        labels.sort(key=lambda label: (int(label), label))
    elif all(_parses(float, label) for label in labels):
        example = next(label for label in labels if not _parses(int, label))
        raise CSVError(
            f"{name}: column {quoted(target)} holds numbers such as {cut(example)}, not class labels: "
            "train a regression (--loss mse, or regression=True)"
        )
    else:
        labels.sort()
    rank = {label: i for i, label in enumerate(labels)}
    index = [rank[label] for label in seen]
    if isinstance(y, array):
        return labels, array(y.typecode, (index[i] for i in y))
    return labels, [index[i] for i in y]


def _too_many_classes(name: str, line: int, target: str, label: str) -> str:
    hint = "a regression's target? train with --loss mse" if _parses(float, label) else "an ID column?"
    return (
        f"{name}: line {line}: column {quoted(target)} has more than {MAX_CLASSES} different labels, more classes "
        f"than a net learns here; is it {hint} Choose another --target"
    )


def _parses(kind: type, text: str) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True


def _did_you_mean(name: str, columns: list[str]) -> str:
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f" (did you mean {quoted(close[0])}?)" if close else ""
    return f"{hint}; the columns are {listed(columns)}"


def mean_and_scale(X: Any) -> tuple[list[float], list[float]]:
    """Each column's mean and standard deviation (of all rows, as sklearn's StandardScaler); 1 if it is constant.

    X is a list of rows or a numpy array of them; either way the sums are exact (fsum).
    """
    if not len(X):
        raise ValueError("mean_and_scale needs at least one row")
    n = len(X)
    table = hasattr(X, "ndim")  # a numpy array: its columns are read as they are, no row made a list
    if not table and any(len(row) != len(X[0]) for row in X):
        raise ValueError("mean_and_scale needs rows of one length")
    mean, scale = [], []
    for j in range(len(X[0])):
        column = X[:, j] if table else [row[j] for row in X]  # a view of the array, or a list of its floats
        try:
            m = math.fsum(column) / n
            s = math.sqrt(math.fsum((x - m) * (x - m) for x in column) / n)
        except OverflowError:  # fsum's exact partial sums overflow where a plain sum would give inf
            m = s = math.inf
        if not (math.isfinite(m) and math.isfinite(s)):
            raise ValueError(f"column {j + 1}: its numbers are too large to standardise")
        mean.append(m)
        scale.append(s if s > 0 else 1.0)
    return mean, scale


def standardize(X: Any, mean: Sequence[float], scale: Sequence[float]) -> Any:
    """(x - mean) / scale, column by column: with `mean_and_scale(X)`, every column gets mean 0 and deviation 1.

    Rows in, rows out; a numpy array in, an array out (the same numbers, computed at once).
    """
    if len(mean) != len(scale):
        raise ValueError(f"mean has {len(mean)} numbers but scale has {len(scale)}")
    if hasattr(X, "ndim"):
        if X.ndim != 2 or X.shape[1] != len(mean):
            raise ValueError(f"an array of shape {X.shape}, but mean and scale have {len(mean)} numbers")
        out = X - mean
        out /= scale  # in place: one new array, not two
        return out
    for row in X:
        if len(row) != len(mean):
            raise ValueError(f"a row of {len(row)} numbers, but mean and scale have {len(mean)}")
    return [[(x - m) / s for x, m, s in zip(row, mean, scale)] for row in X]


def train_test_split(
    X: Sequence[_Row], y: Sequence[_Target], test_fraction: float, seed: int = 0
) -> tuple[list[_Row], list[_Row], list[_Target], list[_Target]]:
    """`X_train, X_test, y_train, y_test`, as sklearn's: a seeded shuffle, then `test_fraction` of the rows held out.

    The test rows are test_fraction * n rounded to a whole number; both parts must keep at least one row.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be a number between 0 and 1, got {test_fraction!r}")
    n_test = round(test_fraction * len(X))
    if not 1 <= n_test < len(X):
        part = "to test on" if n_test < 1 else "to train on"
        raise ValueError(f"a test fraction of {test_fraction} of {len(X)} rows leaves no rows {part}")
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    if hasattr(X, "ndim"):  # numpy arrays: the rows taken at once, the parts stay arrays
        return X[train], X[test], y[train], y[test]  # type: ignore[call-overload]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]
