"""Data to train on: seeded toy datasets (`toy`) and your own CSV files (`tables`)."""

from gategrad.data.toy import make_circles, make_moons, make_spiral, make_xor

__all__ = ["make_circles", "make_moons", "make_spiral", "make_xor"]
