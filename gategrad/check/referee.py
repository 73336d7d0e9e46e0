"""`gategrad check my_engine.py`: referee a learner's own micrograd-style `Value` class against gategrad's engine.

The referee finds out which ops the class has, runs small adversarial circuits and random ones
(hypothesis, shrunk to the smallest that fails) on it and on gategrad's engine, and reports each
difference as a finding: what kind of mistake, on which circuit, your numbers against the true
ones, and gategrad's own walk up to the first gate that differs. Pure Python, no numpy: the
browser playground runs it too (`check_engine_source`).
"""

from __future__ import annotations

import linecache
import math
import os
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gategrad.check import circuits
from gategrad.check.circuits import Circuit
from gategrad.engine import Step, Value, fmt, json_number, topological_order
from gategrad.explain import mistakes
from gategrad.explain.lang import ENGLISH, sentence, translator

KINDS = ("forward", "local_grad", "accumulation", "order", "seed", "reflected", "constant", "recursion")
RTOL, ATOL = 1e-7, 1e-9  # a learner's formula may round differently from gategrad's (tanh from exp, say)
RANDOM_EXAMPLES = 150  # random circuits hypothesis tries when the fixed ones find no wrong gradient
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class EngineError(ValueError):
    """The class cannot be checked: it cannot be found or built, or has no data, grad or backward()."""


@dataclass(frozen=True)
class Finding:
    """One thing the referee found: its kind, `wrong` or a `limit`, the circuit, your numbers and the true ones."""

    kind: str
    severity: str  # "wrong", or "limit" for what is a limit rather than a wrong gradient
    op: str | None  # the method at fault, where one is
    circuit: str  # the circuit as a Python program
    inputs: dict[str, float]
    yours: dict[str, float] | None  # None where your code raised
    true: dict[str, float]
    message: str  # the finding in words, in the report's language, with gategrad's walk
    mistake: str | None = None  # the misconception lab's name for it (`gategrad explain --mistake`), if one fits

    def to_json(self) -> dict[str, Any]:
        def numbers(d: dict[str, float] | None) -> dict[str, float | str] | None:
            return None if d is None else {k: json_number(x) for k, x in d.items()}

        return {
            "kind": self.kind,
            "severity": self.severity,
            "op": self.op,
            "circuit": self.circuit,
            "inputs": numbers(self.inputs),
            "yours": numbers(self.yours),
            "true": numbers(self.true),
            "message": self.message,
            "mistake": self.mistake,
        }


@dataclass(frozen=True)
class EngineReport:
    """What the referee found about one class; `text()` for people, `to_json()` for programs and the playground."""

    class_name: str
    tested: tuple[str, ...]  # the ops the class has, so the ones checked
    missing: tuple[str, ...]  # the ops it does not have: listed, not counted as failures
    circuits: int  # circuits run, random ones included
    random: int  # random circuits run
    findings: tuple[Finding, ...]
    lang: str = ENGLISH

    @property
    def ok(self) -> bool:
        """True when no finding is `wrong` (limits do not count)."""
        return not any(f.severity == "wrong" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "class": self.class_name,
            "ops": {"tested": list(self.tested), "missing": list(self.missing)},
            "circuits": self.circuits,
            "random_circuits": self.random,
            "findings": [f.to_json() for f in self.findings],
        }

    def text(self) -> str:
        """The report as `gategrad check` prints it, in the report's language."""
        t = translator(self.lang)
        if self.random:
            head = t.ngettext(
                "Your {cls} against gategrad's engine: {n} circuit run, {random} of them random (hypothesis).",
                "Your {cls} against gategrad's engine: {n} circuits run, {random} of them random (hypothesis).",
                self.circuits,
            )
        else:
            head = t.ngettext(
                "Your {cls} against gategrad's engine: {n} circuit run.",
                "Your {cls} against gategrad's engine: {n} circuits run.",
                self.circuits,
            )
        head = head.format(cls=self.class_name, n=self.circuits, random=self.random)
        lines = [head, t.gettext("Ops tested: {ops}").format(ops=" ".join(self.tested) or "-")]
        if self.missing:
            lines.append(t.gettext("Not in your class, so not tested: {ops}").format(ops=" ".join(self.missing)))
        wrong = sum(f.severity == "wrong" for f in self.findings)
        limits = len(self.findings) - wrong
        lines.append("")
        if wrong:
            lines.append(
                t.ngettext(
                    "{n} finding shows a wrong value or gradient.",
                    "{n} findings show wrong values or gradients.",
                    wrong,
                ).format(n=wrong)
            )
        else:
            lines.append(t.gettext("Every value and gradient agrees with gategrad's engine."))
        if limits:
            lines.append(
                t.ngettext(
                    "{n} limit, which is not a wrong gradient.", "{n} limits, which are not wrong gradients.", limits
                ).format(n=limits)
            )
        for k, f in enumerate(self.findings, start=1):
            severity = t.pgettext("severity", "wrong") if f.severity == "wrong" else t.pgettext("severity", "limit")
            title = f"{k}. {severity}: {f.kind}" + (f" ({f.op})" if f.op else "")
            body = "\n".join("   " + line if line else "" for line in f.message.splitlines())
            lines += ["", title, body]
        return "\n".join(lines)

    __str__ = text


# ---- the entry points ----


def check_engine(cls: Any, lang: str = ENGLISH, progress: Callable[[str], None] | None = None) -> EngineReport:
    """Referee the class `cls` against gategrad's engine; `progress` is told each circuit before it runs.

    Raises EngineError when the class cannot be built from a number or has no data, grad or backward().
    """
    translator(lang)  # an unknown language fails before any work
    name = getattr(cls, "__name__", repr(cls))
    if not callable(cls):
        raise EngineError(f"{name} is not a class")
    try:
        v = cls(2.0)
    except Exception as e:
        raise EngineError(f"{name}(2.0) raised {raised(e)}: the checker makes each input with {name}(number)") from None
    for attr in ("data", "grad"):
        if not hasattr(v, attr):
            raise EngineError(f"{name}(2.0) has no attribute {attr}: the checker needs data, grad and backward()")
    if not callable(getattr(v, "backward", None)):
        raise EngineError(f"{name} has no method backward(): the checker needs data, grad and backward()")
    try:
        data = float(v.data)
    except (TypeError, ValueError):
        data = math.nan
    if data != 2.0:
        raise EngineError(f"{name}(2.0).data is {v.data!r}, not 2.0")
    return _Referee(cls, name, lang, progress).run()


def check_engine_source(
    source: str, class_name: str = "Value", lang: str = ENGLISH, filename: str = "my_engine.py"
) -> EngineReport:
    """Run `source` (a learner's engine, as text) and referee its class `class_name`; what the playground calls.

    An exception in the source becomes an EngineError whose message is the traceback, trimmed to the source.
    """
    module = types.ModuleType(os.path.splitext(os.path.basename(filename))[0] or "my_engine")
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # so tracebacks show lines
    try:
        exec(compile(source, filename, "exec"), module.__dict__)
    except Exception as e:
        raise EngineError(traceback_in(e, filename) or raised(e)) from None
    return check_engine(find_class(module, class_name, filename), lang)


def find_class(module: Any, class_name: str, where: str) -> Any:
    """The class `class_name` that `module` defines or imports, or an EngineError saying what is there."""
    cls = getattr(module, class_name, None)
    if cls is None:
        classes = sorted(n for n, x in vars(module).items() if isinstance(x, type) and not n.startswith("_"))
        found = f"; it has {', '.join(classes)}: name one with {where}:ClassName" if classes else ""
        raise EngineError(f"{where} defines no class {class_name}{found}")
    if not isinstance(cls, type):
        raise EngineError(f"{class_name} in {where} is not a class but {type(cls).__name__}")
    return cls


def raised(e: BaseException) -> str:
    """An exception in one line, with the learner's line it came from: ``ZeroDivisionError: ... (line 12, in f)``."""
    text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    if isinstance(e, RecursionError):  # where the limit struck (a call or a hash inside it) varies from run to run
        text = "RecursionError: maximum recursion depth exceeded"
    frame = None
    tb = e.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE) and not filename.startswith(sys.prefix):
            frame = tb
        tb = tb.tb_next
    if frame is None:
        return text
    code = frame.tb_frame.f_code
    parts = [] if isinstance(e, RecursionError) else [f"line {frame.tb_lineno}"]
    if not ("ipykernel" in code.co_filename or code.co_filename.startswith("<")):  # a notebook cell has no file
        parts.insert(0, os.path.basename(code.co_filename))
    return f"{text} ({', '.join([*parts, f'in {code.co_name}'])})"


def traceback_in(error: BaseException, filename: str) -> str | None:
    """`error`'s traceback with only the frames in `filename`, or None when none is there."""
    import traceback

    where = os.path.abspath(filename)

    def mine(f: str) -> bool:
        return f == filename or os.path.abspath(f) == where

    if isinstance(error, SyntaxError) and error.filename is not None and mine(error.filename):
        return "".join(traceback.format_exception_only(error))
    frames = [f for f in traceback.extract_tb(error.__traceback__) if mine(f.filename)]
    if not frames:
        return None
    head = "Traceback (most recent call last):\n"
    return "".join([head, *traceback.format_list(frames), *traceback.format_exception_only(error)])


# ---- running a circuit on both engines ----


def close(yours: float, true: float) -> bool:
    if math.isnan(true):
        return math.isnan(yours)
    return yours == true or math.isclose(yours, true, rel_tol=RTOL, abs_tol=ATOL)


@dataclass
class _Truth:
    """A circuit run on gategrad's engine: every variable as a labelled Value, and the walk of its backward pass."""

    circuit: Circuit
    env: dict[str, Value]
    steps: list[Step]

    @classmethod
    def of(cls, c: Circuit) -> _Truth:
        env = c.run(Value, label=True)
        return cls(c, env, list(env[c.output].backward_steps()))

    def data(self, name: str) -> float:
        return self.env[name].data

    def grads(self) -> dict[str, float]:
        return {name: self.env[name].grad for name, _ in self.circuit.inputs}

    def finite(self) -> bool:
        return all(circuits.finite(v.data) and circuits.finite(v.grad) for v in self.env.values()) and all(
            circuits.finite(i.local_grad) for s in self.steps for i in s.inputs
        )


@dataclass
class _Yours:
    """A circuit run on the learner's class: its objects by name, and what raised, if anything did."""

    env: dict[str, Any]
    forward_error: str | None = None
    backward_error: str | None = None

    def number(self, name: str, attr: str) -> float:
        try:
            return float(getattr(self.env[name], attr))
        except Exception:
            return math.nan

    def grads(self, c: Circuit) -> dict[str, float]:
        return {name: self.number(name, "grad") for name, _ in c.inputs}


def _run(cls: Any, c: Circuit, backward: bool = True) -> _Yours:
    env: dict[str, Any] = {}
    try:
        for name, x in c.inputs:
            env[name] = cls(x)
        for line in c.lines:
            env[line.name] = line.run(env)
    except Exception as e:
        return _Yours(env, forward_error=raised(e))
    if backward:
        try:
            env[c.output].backward()
        except Exception as e:
            return _Yours(env, backward_error=raised(e))
    return _Yours(env)


# ---- the referee ----


class _Referee:
    """Runs the circuits in order, from one gate to random trees, and collects the findings."""

    def __init__(self, cls: Any, name: str, lang: str, progress: Callable[[str], None] | None) -> None:
        self.cls, self.name, self.lang = cls, name, lang
        self.t = translator(lang)
        self.progress = progress
        self.tested = tuple(m for m in circuits.METHODS if callable(getattr(cls, m, None)))
        self.broken: set[str] = set()  # methods with a finding: later circuits leave them out
        self.findings: list[Finding] = []
        self.count = 0
        self.random = 0
        self.seeded = True
        self.built_judged = False  # whether - / and the reflected ops have had their turn

    def run(self) -> EngineReport:
        self._seed()
        self._constants()
        # The ops every circuit below is made of first; then - and / and the reflected ops, which
        # learners often build from them (a - b as a + (-b)), once it is known whether the walk is right.
        primitives = ["+", "*", "**", "neg", *circuits.UNARY]
        for op in primitives:
            self._one_op(op)
        if self.seeded:
            self._shared(circuits.ACCUMULATION, "accumulation")
            self._shared(circuits.ORDER, "order")
        for op in primitives:
            self._one_op(op, scaled=True)
        for op in ["-", "/"]:
            self._one_op(op)
            self._one_op(op, scaled=True)
        for op in ["+", "-", "*", "/"]:
            self._one_op(op, reflected=True)
            self._one_op(op, reflected=True, scaled=True)
        self.built_judged = True
        if self.seeded:
            if not self._walk_is_wrong():
                self._random()
            if not self._walk_is_wrong():
                self._twice()
            self._chain()
        missing = tuple(m for m in circuits.METHODS if m not in self.tested)
        findings = [self.headed(f) for f in sorted(self.findings, key=lambda f: f.severity != "wrong")]  # stable
        return EngineReport(self.name, self.tested, missing, self.count, self.random, tuple(findings), self.lang)

    # -- helpers --

    def works(self, method: str | None) -> bool:
        return method is not None and method in self.tested and method not in self.broken

    def usable(self, c: Circuit) -> bool:
        return all(self.works(m) for m in c.methods)

    def yours(self, c: Circuit, backward: bool = True) -> _Yours:
        self.count += 1
        if self.progress is not None:
            self.progress(str(c))
        return _run(self.cls, c, backward)

    def add(
        self,
        kind: str,
        op: str | None,
        c: Circuit,
        yours: dict[str, float] | None,
        true: dict[str, float],
        message: str,
        **more: Any,
    ) -> None:
        """Record a finding on circuit `c`; its message starts with the circuit and your numbers against the true."""
        severity = more.pop("severity", "wrong")
        program = more.pop("program", None) or c.program()
        self.findings.append(
            Finding(kind, severity, op, program, c.values(), yours, true, message, more.pop("mistake", None))
        )
        if op is not None and severity == "wrong":
            self.broken.add(op)

    def headed(self, f: Finding) -> Finding:
        """`f` with its circuit, and your numbers against the true ones, before its message."""
        values = ", ".join(f"{n} = {circuits.number(x)}" for n, x in f.inputs.items())
        lines = [self.gettext("{program}  at {values}", program=f.circuit, values=values)]
        if f.yours is not None:
            lines.append(self.gettext("yours: {yours}; true: {true}", yours=_listed(f.yours), true=_listed(f.true)))
        return _with_message(f, "\n".join([*lines, f.message]))

    def gettext(self, template: str, **numbers: Any) -> str:
        """`template` in the report's language, filled in with `numbers` (named so `make messages` finds it)."""
        return self.t.gettext(template).format(**numbers)

    def ngettext(self, singular: str, plural: str, n: int, **numbers: Any) -> str:
        """The form for the count `n` of a message that counts, in the report's language, with `n` and `numbers`."""
        return self.t.ngettext(singular, plural, n).format(n=n, **numbers)

    # -- the stages --

    def _seed(self) -> None:
        """The output's own gradient: 1 after backward(), or no gradient flows at all."""
        op = "+" if self.works("__add__") else "*" if self.works("__mul__") else None
        if op is None:
            return
        c = circuits.circuit([2.0, -3.0], (op, (0, 1)))
        truth, yours = _Truth.of(c), self.yours(c)
        if yours.forward_error or yours.backward_error or not close(yours.number("c", "data"), truth.data("c")):
            return  # the op's own check says what is wrong
        if all(close(yours.grads(c)[n], g) for n, g in truth.grads().items()):
            return
        out = yours.number("c", "grad")
        if out == 1.0:
            return
        self.seeded = False
        message = self.gettext(
            "After backward(), the output {out} has the gradient {yours}, not 1. backward() must start by setting "
            "the output's own gradient to 1 (d{out}/d{out} = 1): every other gradient is that 1 times local "
            "derivatives, so without it nothing flows back. The gradient checks stop here: fix this first.",
            out="c",
            yours=fmt(out),
        )
        self.add("seed", None, c, yours.grads(c) | {"c": out}, truth.grads() | {"c": 1.0}, message)

    def _constants(self) -> None:
        """`a + 3` and `3 + a`: a plain number on either side."""
        for op, (method, reflected, _) in circuits.OPERATORS.items():
            if op == "**":
                continue
            right_ok = True
            if self.works(method):
                c = circuits.with_constant(op, left=False)
                error = self.yours(c, backward=False).forward_error
                if error:
                    right_ok = False
                    self._constant_finding("constant", method, c, error)
            if self.works(reflected):
                c = circuits.with_constant(op, left=True)
                error = self.yours(c, backward=False).forward_error
                if error:
                    kind = "reflected" if right_ok and self.works(method) else "constant"
                    self._constant_finding(kind, reflected, c, error)

    def _constant_finding(self, kind: str, method: str | None, c: Circuit, error: str) -> None:
        line = c.lines[0]
        message = self.gettext(
            "{python} raised {error}. Your {op} does not take a plain number; micrograd turns one into a Value "
            "first: other = other if isinstance(other, Value) else Value(other).",
            python=line.python(),
            error=error,
            op=method,
        )
        self.add(kind, method, c, None, {c.output: _Truth.of(c).data(c.output)}, message)

    def _one_op(self, op: str, reflected: bool = False, scaled: bool = False) -> None:
        """An op alone, with distinct inputs: its forward value, then its local derivative, at each point.

        With `reflected`, the op with a number on its left (3 - a); otherwise with Values, and with a
        number on its right (a - 3). With `scaled`, its output is multiplied by a number, so the
        gradient from above is not 1: two gates, judged only once the walk between gates is right.
        """
        if scaled and (self._walk_is_wrong() or not self.seeded):
            return
        if op in circuits.OPERATORS:
            method, reflection, _ = circuits.OPERATORS[op]
            if reflected:
                cases = [circuits.with_constant(op, left=True)] if self.works(reflection) else []
            else:
                cases = circuits.one_gate(op) if self.works(method) else []
                if op != "**" and self.works(method):
                    cases.append(circuits.with_constant(op, left=False))
        else:
            method = circuits.NEGATION if op == "neg" else op
            cases = circuits.one_gate(op) if self.works(method) else []
        if scaled:  # not where the output is 0, an edge of the * that scales
            cases = [circuits.scaled(c) for c in cases if _Truth.of(c).data(c.output) != 0.0]
        for c in cases:
            if not self.usable(c):
                continue
            truth = _Truth.of(c)
            if not truth.finite():
                continue
            if not self._judge_one(c, truth):
                return

    def _walk_is_wrong(self) -> bool:
        return any(f.kind in ("accumulation", "order") and f.severity == "wrong" for f in self.findings)

    def _judge_one(self, c: Circuit, truth: _Truth) -> bool:
        """Run one single-line circuit; add a finding and return False when its value or gradient is wrong."""
        method = c.lines[0].method
        reflected = method in {r for _, r, _ in circuits.OPERATORS.values()}
        out = c.lines[0].name  # a scaled circuit's second line is a checked * by a number
        gradients = self.seeded and not (self._walk_is_wrong() and method in circuits.BUILT)
        yours = self.yours(c, backward=gradients)
        true_out = {out: truth.data(out)}
        if yours.forward_error:
            message = self.gettext(
                "{python} raised {error}; its value is {true}.",
                python=c.lines[0].python(),
                error=yours.forward_error,
                true=fmt(truth.data(out)),
            )
            self.add("reflected" if reflected else "forward", method, c, None, true_out, message)
            return False
        value = yours.number(out, "data")
        if not close(value, truth.data(out)):
            message = self.gettext(
                "Your {op} computes {python} = {yours}; its value is {true}.",
                op=method,
                python=c.lines[0].python(),
                yours=fmt(value),
                true=fmt(truth.data(out)),
            )
            self.add("reflected" if reflected else "forward", method, c, {out: value}, true_out, message)
            return False
        if not gradients:
            return True
        kind = "reflected" if reflected else "local_grad"
        if yours.backward_error:
            message = self.gettext(
                "backward() raised {error} after your {op}.", error=yours.backward_error, op=method
            ) + self._walk(truth, None)
            self.add(kind, method, c, None, truth.grads(), message)
            return False
        grads = yours.grads(c)
        if all(close(grads[n], g) for n, g in truth.grads().items()):
            return True
        v = next(n for n, g in truth.grads().items() if not close(grads[n], g))
        numbers = {"op": method, "v": v, "yours": fmt(grads[v]), "true": fmt(truth.grads()[v])}
        upstream = truth.env[out].grad
        if upstream != 1.0 and close(grads[v] * upstream, truth.grads()[v]):
            head = self.gettext(
                "Your {op} passes back {yours} to {v}, its local derivative alone: the chain rule multiplies it by "
                "the gradient that arrives from above, {g} here, which gives {true} (self.grad += local * out.grad).",
                g=fmt(upstream),
                **numbers,
            )
        else:
            head = self.gettext(
                "Your {op} passes back a wrong gradient: {v} gets {yours}, where its local derivative gives {true}.",
                **numbers,
            )
        self.add(kind, method, c, grads, truth.grads(), head + self._walk(truth, yours))
        return False

    def _shared(self, cases: tuple[Circuit, ...], kind: str) -> None:
        """Circuits where a Value is used more than once; the first that goes wrong is classified and reported."""
        for c in cases:
            if self.usable(c) and not self._judge_many(c, kind):
                return

    def _judge_many(self, c: Circuit, kind: str | None = None) -> bool:
        """Run a circuit of several uses; add a finding and return False when a gradient is wrong."""
        truth = _Truth.of(c)
        yours = self.yours(c)
        if yours.forward_error:
            return True  # each op's forward was right alone; leave what raises here to the random trees' shrinking
        grads = yours.grads(c)
        if not yours.backward_error and all(close(grads[n], g) for n, g in truth.grads().items()):
            return True
        kind, mistake = _classify(truth, grads, kind)
        if any(f.kind == kind for f in self.findings):
            return False
        message = self._explain_many(truth, yours, kind, mistake)
        self.add(kind, None, c, None if yours.backward_error else grads, truth.grads(), message, mistake=mistake)
        return False

    def _explain_many(self, truth: _Truth, yours: _Yours, kind: str, mistake: str | None) -> str:
        c = truth.circuit
        if yours.backward_error:
            return self.gettext("backward() raised {error} on this circuit.", error=yours.backward_error) + self._walk(
                truth, None
            )
        grads = yours.grads(c)
        v = next(n for n, g in truth.grads().items() if not close(grads[n], g))
        uses = c.uses()[v]
        numbers = {"v": v, "yours": fmt(grads[v]), "true": fmt(truth.grads()[v]), "uses": uses}
        if mistake == "reversed":
            head = self.gettext(
                "Your backward() walks the gates from the inputs to the output, in topological order, where the "
                "reverse is due: each gate passes back its gradient before the gates that use its output have "
                "added theirs, so {v} gets {yours} where the chain rule gives {true}. Walk reversed(topo).",
                **numbers,
            )
        elif kind == "accumulation":
            head = self.t.ngettext(
                "{v} is used {uses} time, and its gradient {yours} is not the sum over its uses, {true}: each gate "
                "must add to its inputs' gradients with +=, never set them with =.",
                "{v} is used {uses} times, and its gradient {yours} is not the sum over its uses, {true}: each gate "
                "must add to its inputs' gradients with +=, never set them with =.",
                uses,
            ).format(**numbers)
        else:
            head = self.gettext(
                "Each op is right on its own, but not in this circuit: {v} gets {yours} where the chain rule gives "
                "{true}. A gate may pass its gradient back only once every gate that uses its output has added to "
                "it: visit each gate once, in reversed topological order.",
                **numbers,
            )
        text = head + self._walk(truth, yours)
        if mistake in mistakes.MISTAKES:
            text += "\n" + self._lab(truth, mistake)
        built = " ".join(m for m in circuits.BUILT if m in self.tested)
        if built and not self.built_judged:
            text += "\n" + self.gettext(
                "Fix this first: until then the checker does not judge the gradients of {ops}, which are often "
                "built from other ops.",
                ops=built,
            )
        return text

    def _lab(self, truth: _Truth, mistake: str) -> str:
        """The misconception lab's name for the mistake, its sentence on this circuit, and the command that shows it."""
        row = mistakes.MISTAKES[mistake]
        root = truth.env[truth.circuit.output]
        lab = mistakes.compare(root, truth.steps, mistake)
        lines = [
            self.gettext(
                "The misconception lab calls this mistake {mistake}: {summary}",
                mistake=self.t.pgettext("mistake", mistake),
                summary=self.t.gettext(row.summary),
            )
        ]
        if lab.divergence is not None:
            explanation = lab.divergence.explain(self.lang)
            lines.append(self.gettext("Step {k}: {explanation}", k=lab.divergence.step, explanation=explanation))
        expression = truth.circuit.expression()
        if expression is not None:
            values = " ".join(f"{n}={circuits.number(x)}" for n, x in truth.circuit.inputs)
            dashes = "-- " if expression.startswith("-") else ""
            command = f"gategrad explain {dashes}'{expression}' {values} --mistake {mistake}"
            lines.append(self.gettext("See it walked side by side: {command}", command=command))
        return "\n".join(lines)

    def _walk(self, truth: _Truth, yours: _Yours | None) -> str:
        """gategrad's walk of the circuit, gate by gate, up to the first gate after which your gradient differs."""
        c = truth.circuit
        names = {v: n for n, v in truth.env.items()}
        last = {}
        for k, step in enumerate(truth.steps):
            for i in step.inputs:
                last[i.value] = k
        lines = ["", self.gettext("gategrad's walk back from {out}, gate by gate:", out=c.output)]
        for k, step in enumerate(truth.steps):
            lines.append("  " + self.gettext("step {k}: {sentence}", k=k + 1, sentence=sentence(step, self.lang)))
            if yours is None:
                continue
            differ = []
            for i in step.inputs:
                n = names.get(i.value)
                if n is not None and last[i.value] == k and n not in differ:
                    if not close(yours.number(n, "grad"), i.value.grad):
                        differ.append(n)
            if differ:
                for n in differ:
                    mark = self.gettext(
                        "<- here yours differs: {v} has the gradient {yours}, the true one is {true}",
                        v=n,
                        yours=fmt(yours.number(n, "grad")),
                        true=fmt(truth.env[n].grad),
                    )
                    lines.append("    " + mark)
                break
        return "\n".join(lines)

    def _random(self) -> None:
        """Random circuits of the ops that work, from hypothesis; the first that fails, shrunk to the smallest."""
        from hypothesis import HealthCheck, find, settings
        from hypothesis.errors import NoSuchExample

        ops = [op for op, (m, _, _) in circuits.OPERATORS.items() if self.works(m)]
        ops += ["neg"] * self.works(circuits.NEGATION) + [m for m in circuits.UNARY if self.works(m)]
        if not ops:
            return
        left = {op for op, (_, r, _) in circuits.OPERATORS.items() if self.works(r)}
        strategy = circuits.random_circuits(ops, left)
        config = settings(
            database=None,
            derandomize=True,
            deadline=None,
            max_examples=RANDOM_EXAMPLES,
            suppress_health_check=list(HealthCheck),
        )
        tried: set[Circuit] = set()

        def fails(c: Circuit) -> bool:
            truth = _Truth.of(c)
            if not truth.finite() or any(abs(v.data) > 1e6 for v in truth.env.values()):
                return False
            if c not in tried:
                tried.add(c)
                self.random += 1
            yours = self.yours(c)
            if yours.forward_error or yours.backward_error:
                return True
            if not all(close(yours.number(n, "data"), v.data) for n, v in truth.env.items()):
                return True
            return not all(close(g, truth.grads()[n]) for n, g in yours.grads(c).items())

        try:
            smallest = find(strategy, fails, settings=config)
        except NoSuchExample:
            return
        self._judge_random(smallest)

    def _judge_random(self, c: Circuit) -> None:
        """Say what is wrong in the smallest failing random circuit: first each of its ops alone, at its own inputs."""
        truth = _Truth.of(c)
        for line in c.lines:
            alone = circuits.alone(line, {n: v.data for n, v in truth.env.items()})
            for case in (alone, circuits.scaled(alone)):
                if self.usable(case) and _Truth.of(case).finite() and not self._judge_one(case, _Truth.of(case)):
                    return
        yours = self.yours(c)
        if yours.forward_error or not all(close(yours.number(n, "data"), v.data) for n, v in truth.env.items()):
            wrong = next((n for n, v in truth.env.items() if not close(yours.number(n, "data"), v.data)), c.output)
            what = yours.forward_error or fmt(yours.number(wrong, "data"))
            message = self.gettext(
                "Each op is right on its own, but in this circuit your {v} is {yours} where its value is {true}.",
                v=wrong,
                yours=what,
                true=fmt(truth.data(wrong)),
            )
            self.add("forward", None, c, None, {wrong: truth.data(wrong)}, message)
            return
        self._judge_many(c)

    def _twice(self) -> None:
        """backward() called twice: PyTorch and gategrad add the second call's gradients to the first's."""
        c = circuits.TWICE[0] if self.usable(circuits.TWICE[0]) else circuits.TWICE[1]
        if not self.usable(c):
            return
        truth = _Truth.of(c)
        yours = self.yours(c)
        if yours.forward_error or yours.backward_error:
            return
        once = yours.grads(c)
        if not all(close(once[n], g) for n, g in truth.grads().items()):
            return  # one call is already wrong: other findings say why
        try:
            yours.env[c.output].backward()
        except Exception as e:
            message = self.gettext(
                "A second backward() on the same circuit raised {error}. PyTorch refuses one too unless asked to "
                "keep the graph (retain_graph=True); then it adds the second call's gradients to the first's.",
                error=raised(e),
            )
            self.add("accumulation", None, c, None, _doubled(truth), message, severity="limit")
            return
        twice = yours.grads(c)
        if all(close(twice[n], 2 * g) for n, g in truth.grads().items()):
            return
        v = c.inputs[0][0]
        numbers = {"v": v, "yours": fmt(twice[v]), "true": fmt(2 * truth.grads()[v]), "once": fmt(once[v])}
        if all(close(twice[n], g) for n, g in truth.grads().items()):
            message = self.gettext(
                "After a second backward(), {v} holds {yours}, what one call gives: your backward() starts from "
                "zero. PyTorch and gategrad add each call's gradients to the last ({true}), so that the gradients "
                "of two losses add up; zero them yourself between steps (zero_grad()).",
                **numbers,
            )
        else:
            message = self.gettext(
                "After a second backward(), {v} holds {yours}, where twice one call's {once} is {true}: the gates "
                "in between kept their gradients from the first call and passed them on again. micrograd does the "
                "same; PyTorch and gategrad pass on only the new call's gradient. Zero every gradient between two "
                "backward() calls (micrograd's zero_grad() does).",
                **numbers,
            )
        message += "\n" + self.gettext(
            "What a second backward() without zeroing does: {command}",
            command="gategrad explain 'x*x + x' x=3 --mistake no-zero",
        )
        self.add("accumulation", None, c, twice, _doubled(truth), message, severity="limit", mistake="no-zero")

    def _chain(self) -> None:
        """A chain of 2,000 add gates: a recursive topological sort goes one Python call deeper per gate."""
        if not self.works("__add__"):
            return
        n = circuits.CHAIN
        program = f"x = a; for k in range({n}): x = x + {self.name}(0.5)"
        self.count += 1
        if self.progress is not None:
            self.progress(f"{program}  at a = 1")
        error: str | None = None
        try:
            a = self.cls(1.0)
            x = a
            for _ in range(n):
                x = x + self.cls(0.5)
        except Exception as e:
            error = raised(e)
            stage = "forward"
        else:
            try:
                x.backward()
            except RecursionError as e:
                error = raised(e)
                stage = "recursion"
            except Exception as e:
                error = raised(e)
                stage = "backward"
        true = {"a": 1.0}
        if error is None:
            grad = _number(a, "grad")
            if close(grad, 1.0) or self._walk_is_wrong():
                return
            message = self.ngettext(
                "On a chain of {n} add gate, a gets the gradient {yours}; the chain rule gives 1.",
                "On a chain of {n} add gates, a gets the gradient {yours}; the chain rule gives 1.",
                n,
                yours=fmt(grad),
            )
            self._add_chain("order", "wrong", program, {"a": grad}, true, message)
            return
        if stage == "recursion":
            message = self.ngettext(
                "backward() raised {error} on a chain of {n} gate. A recursive topological sort goes one Python "
                "call deeper per gate, and Python stops near 1,000 calls; micrograd's does the same. A loop with "
                "a stack of its own (as gategrad's topological_order) has no such limit.",
                "backward() raised {error} on a chain of {n} gates. A recursive topological sort goes one Python "
                "call deeper per gate, and Python stops near 1,000 calls; micrograd's does the same. A loop with "
                "a stack of its own (as gategrad's topological_order) has no such limit.",
                n,
                error=error,
            )
            self._add_chain("recursion", "limit", program, None, true, message)
        else:
            message = self.ngettext(
                "A chain of {n} add gate raised {error}.", "A chain of {n} add gates raised {error}.", n, error=error
            )
            self._add_chain("order", "wrong", program, None, true, message)

    def _add_chain(
        self,
        kind: str,
        severity: str,
        program: str,
        yours: dict[str, float] | None,
        true: dict[str, float],
        message: str,
    ) -> None:
        c = circuits.circuit([1.0], ("+", (0, 0.5)))
        self.add(kind, None, c, yours, true, message, severity=severity, program=program)


def _number(v: Any, attr: str) -> float:
    try:
        return float(getattr(v, attr))
    except Exception:
        return math.nan


def _listed(numbers: dict[str, float]) -> str:
    return ", ".join(f"{n} = {fmt(x)}" for n, x in numbers.items())


def _doubled(truth: _Truth) -> dict[str, float]:
    return {n: 2 * g for n, g in truth.grads().items()}


def _with_message(f: Finding, message: str) -> Finding:
    return Finding(f.kind, f.severity, f.op, f.circuit, f.inputs, f.yours, f.true, message, f.mistake)


def _reversed_walk(root: Value) -> dict[Value, float]:
    """The gates walked in topological order, from the inputs, instead of the reverse: the gradients it ends with."""
    grad = {root: 1.0}
    for v in topological_order(root):
        g = grad.get(v, 0.0)
        for child, local in zip(v.children, v.local_grads):
            grad[child] = grad.get(child, 0.0) + local * g
    return grad


def _classify(truth: _Truth, grads: dict[str, float], kind: str | None) -> tuple[str, str | None]:
    """The kind of a wrong circuit, and the mistake it is, by which classic wrong walk gives your gradients."""
    root = truth.env[truth.circuit.output]
    leaves = {n: truth.env[n] for n, _ in truth.circuit.inputs}
    walks: list[tuple[str, str, Callable[[], dict[Value, float]]]] = [
        ("accumulation", "overwrite", lambda: mistakes.overwrite_walk(root).grads),
        ("order", "no-sort", lambda: mistakes.no_sort_walk(root).grads),
        ("order", "recursive", lambda: mistakes.recursive_walk(root).grads),
        ("order", "reversed", lambda: _reversed_walk(root)),
    ]
    for walk_kind, name, walk in walks:
        ends = walk()
        if all(close(grads[n], ends.get(v, 0.0)) for n, v in leaves.items()):
            return walk_kind, name
    return kind or "order", None
