"""Data to train on: seeded toy datasets (`toy`) and your own CSV files (`tables`)."""

from gategrad.data.tables import (
    CSVError,
    Table,
    load_csv,
    mean_and_scale,
    read_rows,
    standardize,
    train_test_split,
)
from gategrad.data.toy import DATASETS, make_circles, make_moons, make_spiral, make_xor

__all__ = [
    "DATASETS",
    "CSVError",
    "Table",
    "load_csv",
    "make_circles",
    "make_moons",
    "make_spiral",
    "make_xor",
    "mean_and_scale",
    "read_rows",
    "standardize",
    "train_test_split",
]
