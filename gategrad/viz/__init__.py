"""Pictures and pages: Graphviz drawings of a circuit, its walkthrough frames, the HTML stepper."""

from gategrad.viz.dot import CircuitGraph, Frame, GraphvizNotInstalled, draw_dot, render_walkthrough, walkthrough_frames
from gategrad.viz.stepper import Stepper

__all__ = [
    "CircuitGraph",
    "Frame",
    "GraphvizNotInstalled",
    "Stepper",
    "draw_dot",
    "render_walkthrough",
    "walkthrough_frames",
]
