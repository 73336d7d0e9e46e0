"""`gategrad check`: referee a numpy backprop written by hand against the engine's exact gradients.

A learner's file defines params(), loss(p) and grads(p); `check` runs loss(p) on arrays of Values,
calls backward(), and compares grads(p) with the true gradient, array by array.
"""

from gategrad.check.diagnose import KINDS, RTOL, Diagnosis
from gategrad.check.report import Checked, Divergence, Report
from gategrad.check.run import CheckError, check, check_file, tap

__all__ = ["tap", "check", "check_file", "CheckError", "Report", "Checked", "Divergence", "Diagnosis", "KINDS", "RTOL"]
