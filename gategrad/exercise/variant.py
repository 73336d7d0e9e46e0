"""What every kind of exercise is made of: a student's own random numbers, items with points, and their rule."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Any

EXACT = "exact"  # an answer is right when it equals the key (the numbers are integers, halves and quarters)
SIGNIFICANT = "sig3"  # right within one unit of the key's third significant digit
WORD = "word"  # a word or a whole number, compared as written


def student_rng(kind: str, seed: int, student: str) -> random.Random:
    """The random numbers of one student's variant: fixed by (kind, seed, student id), whatever the roster."""
    digest = hashlib.sha256(f"{kind}\x00{seed}\x00{student}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def is_hand_number(x: float, limit: float = 100.0) -> bool:
    """A number a student can carry by hand without rounding: a multiple of 1/4 no larger than `limit`."""
    return math.isfinite(x) and abs(x) <= limit and (x * 4).is_integer()


def tolerance(key: float, rule: str) -> float:
    """How far an answer may be from `key` and still be right, under `rule`."""
    if rule == SIGNIFICANT and key != 0.0 and math.isfinite(key):
        return 10.0 ** (math.floor(math.log10(abs(key))) - 2) * (1 + 1e-9)  # one unit in the third digit
    return 1e-9


@dataclass(frozen=True)
class Slip:
    """A classic wrong answer to an item: the mistake's code (a feedback sentence), the value it gives, its numbers."""

    code: str
    value: float
    numbers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"slip": self.code, "value": self.value, "numbers": self.numbers}


@dataclass(frozen=True)
class Item:
    """One thing a student answers: its key, its points, and how the sheet asks for it (HTML)."""

    answer: float | int | str
    points: int
    question: str
    slips: tuple[Slip, ...] = ()


@dataclass(frozen=True)
class Exercise:
    """One student's variant: the items in the sheet's order, the sheet's body, the worked solution (HTML)."""

    kind: str
    rule: str
    items: dict[str, Item]
    sheet_html: str
    solution_html: str
    files: dict[str, str] = field(default_factory=dict)  # extra files handed out, by name (the bug's numpy file)
