"""The misconception lab: backprop walked the right way and one classic wrong way, step by step.

Each mistaken walk is teaching code: a short loop over the gates, as a learner writes it,
that reads what the engine recorded (`children`, `local_grads`) and keeps its gradients in a
dict of its own, so the circuit's `.grad`s are never touched. `compare` puts one beside the
engine's walk and finds the first step where the mistake shows in the numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gategrad.engine import Step, StepInput, Value, fmt, topological_order
from gategrad.engine.gates import name
from gategrad.explain.walkthrough import _indent, _table, json_number


@dataclass(frozen=True)
class Walk:
    """A backward walk: its gate visits in order, what each visit's inputs hold after it, and the end.

    `start` is every gradient the walk began with (the output's seed of 1, and for a second
    backward() what the first left behind); `grads` every gradient at the end.
    """

    steps: list[Step]
    holds: list[tuple[float, ...]]
    start: dict[Value, float]
    grads: dict[Value, float]


class _Recorder:
    """Collects a walk's Steps as its loop runs, reading the gradients from the loop's own dict."""

    def __init__(self, grad: dict[Value, float]) -> None:
        self.grad = grad
        self.start = dict(grad)
        self.steps: list[Step] = []
        self.holds: list[tuple[float, ...]] = []

    def visited(self, v: Value, upstream: float) -> None:
        """`v`'s gate has just passed `upstream` to its inputs."""
        inputs = tuple(StepInput(c, local, local * upstream) for c, local in zip(v.children, v.local_grads))
        self.steps.append(Step(v.op, v, upstream, inputs))
        self.holds.append(tuple(self.grad[c] for c in v.children))

    def walk(self) -> Walk:
        return Walk(self.steps, self.holds, self.start, self.grad)


def _gates_from_the_output(root: Value) -> list[Value]:
    """The gates in the order backward() visits them: reversed topological order."""
    return [v for v in reversed(topological_order(root)) if v.children]


def sorted_walk(root: Value, grad: dict[Value, float] | None = None) -> Walk:
    """The right walk, as a loop: seed the output with 1, then each gate, in reversed topological order, adds."""
    grad = {} if grad is None else grad
    grad[root] = grad.get(root, 0.0) + 1.0
    record = _Recorder(grad)
    for v in _gates_from_the_output(root):
        g = grad.get(v, 0.0)
        for child, local in zip(v.children, v.local_grads):
            grad[child] = grad.get(child, 0.0) + local * g
        record.visited(v, g)
    return record.walk()


def overwrite_walk(root: Value) -> Walk:
    """The sorted walk with `grad = local * upstream` where `+=` belongs."""
    grad = {root: 1.0}
    record = _Recorder(grad)
    for v in _gates_from_the_output(root):
        g = grad.get(v, 0.0)
        for child, local in zip(v.children, v.local_grads):
            grad[child] = local * g  # the mistake: = forgets what other paths brought
        record.visited(v, g)
    return record.walk()


def no_sort_walk(root: Value) -> Walk:
    """Gates visited in the order they are first reached from the output (a queue), without a topological sort."""
    grad = {root: 1.0}
    record = _Recorder(grad)
    queue, reached = [root], {root}
    for v in queue:  # the queue grows as the loop runs
        if not v.children:
            continue
        g = grad.get(v, 0.0)  # the mistake: other gates that use v may not have reported yet
        for child, local in zip(v.children, v.local_grads):
            grad[child] = grad.get(child, 0.0) + local * g
            if child not in reached:
                reached.add(child)
                queue.append(child)
        record.visited(v, g)
    return record.walk()


def no_zero_walk(root: Value) -> Walk:
    """A second backward() without zero_grad(): the inputs still hold the first call's gradients.

    As in PyTorch and gategrad, only the inputs (leaves) keep a gradient between calls; the
    gates in between start each call from 0.
    """
    first = sorted_walk(root)
    return sorted_walk(root, {v: g for v, g in first.grads.items() if not v.children})


def recursive_walk(root: Value) -> Walk:
    """micrograd's per-gate backward step, called recursively instead of in topological order.

    Each visit passes on the gate's whole gradient so far, then recurses into its inputs, so
    a gate reached along several paths is walked once per path. Like micrograd's recursive
    sort, it stops with a RecursionError near a depth of 1,000 gates.
    """
    grad = {root: 1.0}
    record = _Recorder(grad)

    def backward(v: Value) -> None:
        g = grad.get(v, 0.0)
        for child, local in zip(v.children, v.local_grads):
            grad[child] = grad.get(child, 0.0) + local * g
        record.visited(v, g)
        for child in dict.fromkeys(v.children):  # the mistake: no check whether child was walked already
            if child.children:
                backward(child)

    if root.children:
        backward(root)
    return record.walk()


def diamond_chain(n: int) -> Value:
    """x = 1 passed through `n` diamonds, each v -> v*2 + v*3: every v feeds two gates that meet again."""
    v = Value(1.0, label="x")
    for _ in range(n):
        v = v * 2 + v * 3
    return v


@dataclass(frozen=True)
class Mistake:
    """One row of the lab: a classic wrong way to backpropagate, and how to tell what it did."""

    name: str
    summary: str  # the mistake in a sentence
    walk: Callable[[Value], Walk]
    sentences: Mapping[str, str]  # why it gives its number, by case, with named numbers
    case: Callable[[_Context, Value], str]  # which sentence a divergent step and input take
    needs: str  # what a circuit needs for the mistake to show
    example: tuple[str, dict[str, float]]  # a circuit where it shows
    counts_steps: bool = False  # its cost is in its number of steps: show them on chains of diamonds


MISTAKES: dict[str, Mistake] = {
    m.name: m
    for m in [
        Mistake(
            "overwrite",
            "each gate sets its inputs' gradients with grad = local × upstream instead of grad += local × "
            "upstream, so a Value reached along several paths keeps only the last one.",
            overwrite_walk,
            {
                "earlier": "The {op} gate {out} writes {v}'s gradient with = instead of +=: {v} now holds {now}, "
                "only what the last path brings, and the {before} it held before this gate is lost; += gives "
                "{right}.",
                "twice": "The {op} gate {out} has {v} as an input {count} times and writes its gradient with = "
                "instead of +=: the last write replaces the others, so {v} holds {now} where += gives {right}.",
            },
            lambda context, v: "twice" if context.before[v] == 0.0 else "earlier",
            "a Value reached along two paths",
            ("x*x + x", {"x": 3.0}),
        ),
        Mistake(
            "no-sort",
            "gates pass their gradient on in the order the walk first reaches them from the output, not in "
            "topological order, so a gate can pass its gradient on before every gate that uses it has reported.",
            no_sort_walk,
            {
                "early": "The {op} gate {out} passes on {g}, but its gradient is {right_g}: the walk reached it "
                "along one path and passed it on before {waiting} had reported, so {v} holds {now} where the "
                "right walk has {right}.",
                "wrong upstream": "The {op} gate {out} passes on {g}, but its gradient is {right_g}, so {v} holds "
                "{now} where the right walk has {right}.",
            },
            lambda context, v: "early" if context.waiting() else "wrong upstream",
            "a gate whose output two gates use",
            ("x*y + x*y*z", {"x": 2.0, "y": 3.0, "z": 4.0}),
        ),
        Mistake(
            "no-zero",
            "backward() is called a second time without zero_grad(): gradients accumulate, so each input adds "
            "the new gradient to the one the first call left.",
            no_zero_walk,
            {
                "stale": "{v} still holds {before} from the first backward(): without zero_grad() the second call "
                "adds its {gets} to it, so {v} has {now} where a fresh walk has {right}; every input ends with "
                "twice its gradient, and an optimizer's step would go twice as far.",
            },
            lambda context, v: "stale",
            "an input whose gradient is not 0",
            ("x*x + x", {"x": 3.0}),
        ),
        Mistake(
            "recursive",
            "each gate passes on its gradient and then recurses into its inputs (micrograd's per-gate backward, "
            "called recursively instead of in topological order), so a gate reached along several paths is "
            "walked once per path, each time sending down all it holds so far.",
            recursive_walk,
            {
                "early": "The recursion reaches the {op} gate {out} along one path and walks it at once, passing "
                "on {g} where its gradient is {right_g}: {waiting} had not reported yet, so {v} holds {now} "
                "where the right walk has {right}.",
                "again": "The recursion walks the {op} gate {out} again, visit {visit} along another path, and "
                "sends down its whole gradient so far, {g}, once more: {v} holds {now} where the right walk has "
                "{right}.",
                "wrong upstream": "The {op} gate {out} passes on {g}, but its gradient is {right_g}, so {v} holds "
                "{now} where the right walk has {right}.",
            },
            lambda context, v: "again" if context.visit > 1 else "early" if context.waiting() else "wrong upstream",
            "a gate whose output two gates use",
            ("(x*2 + x*3)*2 + (x*2 + x*3)*3", {"x": 1.0}),
            counts_steps=True,
        ),
    ]
}


@dataclass(frozen=True)
class Divergence:
    """Where a mistaken walk first holds a number the right walk would not: its step (from 1), and why."""

    step: int
    input: Value
    now: float  # what the input holds after the step, in the mistaken walk
    right: float  # what the right walk sends it along the same edges
    explanation: str


@dataclass(frozen=True)
class Lab:
    """The right walk and a mistaken one on the same circuit, and where they part (None if they never do)."""

    mistake: Mistake
    right: Walk
    wrong: Walk
    divergence: Divergence | None


def right_walk(root: Value, steps: Sequence[Step]) -> Walk:
    """The engine's walk (`root.backward_steps()`, from zero gradients) as a Walk: its steps and running sums."""
    grad = {root: 1.0}
    start = dict(grad)
    holds = []
    for step in steps:
        for i in step.inputs:
            grad[i.value] = grad.get(i.value, 0.0) + i.contribution
        holds.append(tuple(grad[i.value] for i in step.inputs))
    return Walk(list(steps), holds, start, grad)


def compare(root: Value, steps: Sequence[Step], mistake: str) -> Lab:
    """Walk `root` the mistaken way beside the engine's `steps`, and find the first step where it goes wrong.

    A mistaken step goes wrong when one of its inputs then holds something other than what
    the right walk sends along the edges the mistaken walk has taken so far (each once),
    that is, along the same paths with each gate passing on its true gradient.
    """
    row = MISTAKES[mistake]
    right = right_walk(root, steps)
    wrong = row.walk(root)
    true_upstream = {s.output: s.upstream for s in steps}
    expected: dict[Value, float] = {root: 1.0}
    taken: set[tuple[Value, int]] = set()
    held = dict(wrong.start)
    visits: Counter[Value] = Counter()
    for k, (step, holds) in enumerate(zip(wrong.steps, wrong.holds), start=1):
        visits[step.output] += 1
        before = {i.value: held.get(i.value, 0.0) for i in step.inputs}
        for j, i in enumerate(step.inputs):
            if (step.output, j) not in taken:
                taken.add((step.output, j))
                expected[i.value] = expected.get(i.value, 0.0) + i.local_grad * true_upstream[step.output]
        for i, now in zip(step.inputs, holds):
            held[i.value] = now
        for i, now in zip(step.inputs, holds):
            if not _same(now, expected[i.value]):
                context = _Context(row, wrong, step, k, visits[step.output], before, true_upstream)
                why = context.explanation(i.value, now, expected[i.value])
                return Lab(row, right, wrong, Divergence(k, i.value, now, expected[i.value], why))
    return Lab(row, right, wrong, None)


@dataclass(frozen=True)
class _Context:
    """What a sentence about a divergent step needs to know."""

    row: Mistake
    wrong: Walk
    step: Step
    index: int
    visit: int
    before: dict[Value, float]
    true_upstream: dict[Value, float]

    def explanation(self, v: Value, now: float, right: float) -> str:
        step = self.step
        numbers = {
            "op": step.op,
            "out": name(step.output),
            "v": name(v),
            "g": fmt(step.upstream),
            "right_g": fmt(self.true_upstream[step.output]),
            "now": fmt(now),
            "right": fmt(right),
            "before": fmt(self.before[v]),
            "gets": fmt(sum(i.contribution for i in step.inputs if i.value is v)),
            "count": str(sum(i.value is v for i in step.inputs)),
            "visit": str(self.visit),
            "waiting": self.waiting(),
        }
        return self.row.sentences[self.row.case(self, v)].format(**numbers)

    def waiting(self) -> str:
        """The gates that use this step's output and had not passed their gradient on by this step."""
        out = self.step.output
        walked = {s.output for s in self.wrong.steps[: self.index - 1]}
        users = [v for v in self.true_upstream if out in v.children and v not in walked]
        return " and ".join(name(v) for v in users)


def step_counts(
    walk: Callable[[Value], Walk] = recursive_walk, ns: Sequence[int] = (1, 2, 3, 4, 5, 10, 12)
) -> list[tuple[int, int, int]]:
    """(n, the sorted walk's steps, `walk`'s steps) on a chain of n diamonds, for each n in `ns`, by running both."""
    return [(n, len(sorted_walk(diamond_chain(n)).steps), len(walk(diamond_chain(n)).steps)) for n in ns]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def format_lab(lab: Lab, expression: str, inputs: Mapping[str, Value]) -> str:
    """What `gategrad explain --mistake` prints: both walks side by side up to where they part, why, and the ends."""
    row, end = lab.mistake, lab.divergence.step if lab.divergence else None
    shown = max(len(lab.right.steps), len(lab.wrong.steps)) if end is None else end
    rows = [
        (
            str(k),
            _cell(lab.right, k),
            _cell(lab.wrong, k),
            "<- here they part" if k == end else "",
        )
        for k in range(1, shown + 1)
    ]
    table = "\n".join(
        line.rstrip() for line in _table(("step", "right walk (sorted, +=)", row.name, ""), rows).splitlines()
    )
    where = f"Step {end}: {lab.divergence.explanation}" if lab.divergence else _agreement(row)
    grads = _table(
        ("input", "right", row.name),
        [(n, fmt(lab.right.grads.get(v, 0.0)), fmt(lab.wrong.grads.get(v, 0.0))) for n, v in inputs.items()],
    )
    parts = [
        f"The misconception lab: {row.name} on {expression}\n  The mistake: {row.summary}",
        _indent(table),
        where,
        f"Gradients when both walks run to the end:\n{_indent(grads)}",
    ]
    if row.counts_steps:
        counts = _table(
            ("diamonds", "sorted walk", f"{row.name} walk"), [tuple(map(str, c)) for c in step_counts(row.walk)]
        )
        parts.append(
            f"Steps: the sorted walk takes {len(lab.right.steps)}, the {row.name} walk {len(lab.wrong.steps)}. On a "
            "chain of n diamonds (v = x, then n times v = v*2 + v*3) its steps double with each diamond:\n"
            + _indent(counts)
        )
    return "\n\n".join(parts)


def lab_json(lab: Lab, inputs: Mapping[str, Value]) -> dict:
    """The mistaken walk, as `explain --mistake --json` gives it: its gradients, where it parts from the right, why."""
    row, wrong = lab.mistake, lab.wrong
    report = {
        "name": row.name,
        "grads": {n: json_number(wrong.grads.get(v, 0.0)) for n, v in inputs.items()},
        "first_divergent_step": lab.divergence.step if lab.divergence else None,
        "explanation": lab.divergence.explanation if lab.divergence else _agreement(row),
        "summary": row.summary,
        "steps": [
            {
                "gate": step.op,
                "output": step.output.label,
                "upstream": json_number(step.upstream),
                "inputs": [
                    {"label": i.value.label, "contribution": json_number(i.contribution), "holds": json_number(h)}
                    for i, h in zip(step.inputs, holds)
                ],
            }
            for step, holds in zip(wrong.steps, wrong.holds)
        ],
    }
    if row.counts_steps:
        report["diamond_chains"] = [
            {"diamonds": n, "sorted_steps": a, "mistake_steps": b} for n, a, b in step_counts(row.walk)
        ]
    return report


def _cell(walk: Walk, k: int) -> str:
    """Step `k` of `walk` in a few words: the gate, what it passes on, what its inputs hold after it."""
    if k > len(walk.steps):
        return ""
    step = walk.steps[k - 1]
    holds = dict(zip((i.value for i in step.inputs), walk.holds[k - 1]))
    held = ", ".join(f"{name(v)} holds {fmt(h)}" for v, h in holds.items())
    return f"{step.op} {name(step.output)} passes on {fmt(step.upstream)}: {held}"


def _agreement(row: Mistake) -> str:
    expression, values = row.example
    assignments = " ".join(f"{n}={fmt(x)}" for n, x in values.items())
    return (
        f"The two walks agree at every step of this circuit: the mistake shows only on {row.needs}. "
        f"Try: gategrad explain '{expression}' {assignments} --mistake {row.name}"
    )
