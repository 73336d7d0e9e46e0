"""gategrad: a scalar autograd engine for seeing backpropagation gate by gate."""

from gategrad import nn
from gategrad.engine import Value, gradcheck
from gategrad.viz import Stepper, draw_dot, render_walkthrough

__all__ = ["Value", "gradcheck", "draw_dot", "render_walkthrough", "Stepper", "nn"]
__version__ = "0.1.0"
