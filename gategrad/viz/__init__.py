"""Pictures and pages: Graphviz drawings of a circuit, its walkthrough frames, the HTML stepper, a run's page."""

from gategrad.viz.dot import CircuitGraph, Frame, GraphvizNotInstalled, draw_dot, render_walkthrough, walkthrough_frames
from gategrad.viz.stepper import Stepper
from gategrad.viz.viewer import save_run

__all__ = [
    "CircuitGraph",
    "Frame",
    "GraphvizNotInstalled",
    "Stepper",
    "draw_dot",
    "render_walkthrough",
    "save_run",
    "walkthrough_frames",
]
