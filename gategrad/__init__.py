"""gategrad: a scalar autograd engine for seeing backpropagation gate by gate."""

from gategrad.engine import Value, gradcheck

__all__ = ["Value", "gradcheck"]
__version__ = "0.1.0"
