"""Batched replay: trace one sample's circuit once, then run it over a whole batch with numpy.

`trace` writes the circuit a function builds for one sample as a flat `Program` of gates;
`Plan` runs a program forward and backward over a batch, every gate at once for all
samples, each layer fused into a matrix product; `Replay` does so for a model and its loss,
for `nn.fit(..., engine="replay")`. It reads the engine; the engine never imports it.
"""

from gategrad.replay.kernels import KERNELS, Kernel
from gategrad.replay.plan import Plan
from gategrad.replay.trace import Instruction, Program, ReplayError, trace
from gategrad.replay.training import Replay

__all__ = ["KERNELS", "Instruction", "Kernel", "Plan", "Program", "Replay", "ReplayError", "trace"]
