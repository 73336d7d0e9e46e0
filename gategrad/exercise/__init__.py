"""Exercise packs for teachers: one seeded variant per student, a key with the worked solution, and grading.

`new_pack` writes a pack (sheets, answer files or notebooks, keys) for a roster; `grade_pack` reads the
answers back and writes grades.csv and a feedback page per student. The three kinds: a circuit of small
exact gates, a two-layer net with concrete weights, and a numpy backprop with one planted mistake.
"""

from gategrad.exercise.grade import grade_pack
from gategrad.exercise.pack import FORMATS, KINDS, PackError, new_pack

__all__ = ["FORMATS", "KINDS", "PackError", "grade_pack", "new_pack"]
