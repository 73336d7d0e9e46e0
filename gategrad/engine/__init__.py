"""The engine: `Value`, its gates and backpropagation. It imports nothing else of gategrad's."""

from gategrad.engine.value import Step, StepInput, Value, gc_paused, gradcheck

__all__ = ["Value", "Step", "StepInput", "gc_paused", "gradcheck"]
