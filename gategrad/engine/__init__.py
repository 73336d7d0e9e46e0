"""The engine: `Value`, its gates and backpropagation. It imports nothing else of gategrad's."""

from gategrad.engine.floats import fmt, json_number
from gategrad.engine.gates import GATES, Gate
from gategrad.engine.gradcheck import gradcheck
from gategrad.engine.nonfinite import describe_nonfinite, first_nonfinite, nonfinite_numbers, say_nonfinite
from gategrad.engine.value import Step, StepInput, Value, gc_paused, topological_order

__all__ = [
    "GATES",
    "Gate",
    "Step",
    "StepInput",
    "Value",
    "describe_nonfinite",
    "first_nonfinite",
    "fmt",
    "gc_paused",
    "gradcheck",
    "json_number",
    "nonfinite_numbers",
    "say_nonfinite",
    "topological_order",
]
