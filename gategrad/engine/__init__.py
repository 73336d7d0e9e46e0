"""The engine: `Value`, its gates and backpropagation. It imports nothing else of gategrad's."""

from gategrad.engine.floats import fmt
from gategrad.engine.gates import GATES, Gate
from gategrad.engine.gradcheck import gradcheck
from gategrad.engine.value import Step, StepInput, Value, gc_paused, topological_order

__all__ = ["GATES", "Gate", "Step", "StepInput", "Value", "fmt", "gc_paused", "gradcheck", "topological_order"]
