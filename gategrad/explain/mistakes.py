"""The misconception lab: backprop walked the right way and one classic wrong way, step by step.

Each mistaken walk is teaching code: a short loop over the gates, as a learner writes it,
that reads what the engine recorded (`children`, `local_grads`) and keeps its gradients in a
dict of its own, so the circuit's `.grad`s are never touched. `compare` puts one beside the
engine's walk and finds the first step where the mistake shows in the numbers. The lab's
sentences are templates with named numbers, as the gate table's are, so they are translated
whole (`lang`) through the same catalogues.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gategrad.engine import Step, Value, fmt, json_number, topological_order
from gategrad.engine.gates import Template, english, fill, name
from gategrad.explain.lang import ENGLISH, gate_words, translated, translator
from gategrad.explain.walkthrough import indent, table


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


class _StepLog:
    """Collects a walk's Steps as its loop runs, reading the gradients from the loop's own dict."""

    def __init__(self, grad: dict[Value, float]) -> None:
        self.grad = grad
        self.start = dict(grad)
        self.steps: list[Step] = []
        self.holds: list[tuple[float, ...]] = []

    def visited(self, v: Value, upstream: float) -> None:
        """`v`'s gate has just passed `upstream` to its inputs."""
        self.steps.append(Step.of(v, upstream))
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
    record = _StepLog(grad)
    for v in _gates_from_the_output(root):
        g = grad.get(v, 0.0)
        for child, local in zip(v.children, v.local_grads):
            grad[child] = grad.get(child, 0.0) + local * g
        record.visited(v, g)
    return record.walk()


def overwrite_walk(root: Value) -> Walk:
    """The sorted walk with `grad = local * upstream` where `+=` belongs."""
    grad = {root: 1.0}
    record = _StepLog(grad)
    for v in _gates_from_the_output(root):
        g = grad.get(v, 0.0)
        for child, local in zip(v.children, v.local_grads):
            grad[child] = local * g  # the mistake: = forgets what other paths brought
        record.visited(v, g)
    return record.walk()


def no_sort_walk(root: Value) -> Walk:
    """Gates visited in the order they are first reached from the output (a queue), without a topological sort."""
    grad = {root: 1.0}
    record = _StepLog(grad)
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
    record = _StepLog(grad)

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
    # Why it gives its number, by case, with named numbers; a pair (singular, plural) counts {count}
    # if it names it, else the gates in {waiting}.
    sentences: Mapping[str, Template]
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
                "twice": "The {op} gate {out} has {v} as an input twice and writes its gradient with = instead of "
                "+=: the second write replaces the first, so {v} holds {now} and the first write's {lost} is lost; "
                "+= gives {right}.",
                "twice, earlier": "The {op} gate {out} has {v} as an input twice and writes its gradient with = "
                "instead of +=: the second write replaces the first and what {v} held, so {v} holds {now}, and both "
                "the first write's {lost} and the {before} it held before this gate are lost; += gives {right}.",
                "times": (
                    "The {op} gate {out} has {v} as an input {count} time and writes its gradient with = instead "
                    "of +=: the last write replaces the others, so {v} holds {now} and the other writes' {lost} is "
                    "lost; += gives {right}.",
                    "The {op} gate {out} has {v} as an input {count} times and writes its gradient with = instead "
                    "of +=: the last write replaces the others, so {v} holds {now} and the other writes' {lost} is "
                    "lost; += gives {right}.",
                ),
                "times, earlier": (
                    "The {op} gate {out} has {v} as an input {count} time and writes its gradient with = instead "
                    "of +=: the last write replaces the others and what {v} held, so {v} holds {now}, and both the "
                    "other writes' {lost} and the {before} it held before this gate are lost; += gives {right}.",
                    "The {op} gate {out} has {v} as an input {count} times and writes its gradient with = instead "
                    "of +=: the last write replaces the others and what {v} held, so {v} holds {now}, and both the "
                    "other writes' {lost} and the {before} it held before this gate are lost; += gives {right}.",
                ),
            },
            lambda context, v: context.overwrite_case(v),
            "a Value reached along two paths",
            ("x*x + x", {"x": 3.0}),
        ),
        Mistake(
            "no-sort",
            "gates pass their gradient on in the order the walk first reaches them from the output, not in "
            "topological order, so a gate can pass its gradient on before every gate that uses it has reported.",
            no_sort_walk,
            {
                "early": (
                    "The {op} gate {out} passes on {g}, but its gradient is {right_g}: the walk reached it along one "
                    "path and passed it on before the gate {waiting} had reported, so {v} holds {now} where the "
                    "right walk has {right}.",
                    "The {op} gate {out} passes on {g}, but its gradient is {right_g}: the walk reached it along one "
                    "path and passed it on before the gates {waiting} had reported, so {v} holds {now} where the "
                    "right walk has {right}.",
                ),
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
                "early": (
                    "The recursion reaches the {op} gate {out} along one path and walks it at once, passing on {g} "
                    "where its gradient is {right_g}: the gate {waiting} had not reported yet, so {v} holds {now} "
                    "where the right walk has {right}.",
                    "The recursion reaches the {op} gate {out} along one path and walks it at once, passing on {g} "
                    "where its gradient is {right_g}: the gates {waiting} had not reported yet, so {v} holds {now} "
                    "where the right walk has {right}.",
                ),
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
class WrongTurn:
    """Where a mistaken walk first holds a number the right walk would not: its step (from 1), and why.

    Why is the mistake's sentence `template` with the `numbers` it names; `explain(lang)` says
    it in a language, naming the gate `op` and the gates still `waiting` to report in that
    language too, and `explanation` is the English. A plural template takes its form for `count`.
    """

    step: int
    input: Value
    now: float  # what the input holds after the step, in the mistaken walk
    right: float  # what the right walk sends it along the same edges
    template: Template
    numbers: Mapping[str, str]
    op: str
    waiting: tuple[str, ...]
    count: int = 1

    @property
    def explanation(self) -> str:
        return self.explain()

    def explain(self, lang: str = ENGLISH) -> str:
        """Why the mistaken walk holds its number here, in `lang`."""
        t = translator(lang)
        waiting = _listed(self.waiting, t.gettext("{earlier} and {last}"), t.pgettext("list", ", "))
        numbers = {**self.numbers, **gate_words(self.op, lang, "op"), "waiting": waiting}
        return fill(translated(self.template, self.count, lang), numbers)


@dataclass(frozen=True)
class Lab:
    """The right walk and a mistaken one on the same circuit, and where they part (None if they never do)."""

    mistake: Mistake
    right: Walk
    wrong: Walk
    divergence: WrongTurn | None


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
                return Lab(row, right, wrong, context.divergence(i.value, now, expected[i.value]))
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

    def divergence(self, v: Value, now: float, right: float) -> WrongTurn:
        """The divergence at input `v`, holding `now` where the right walk has `right`.

        A sentence's numbers: {op} the gate's short name, {out} its output, {v} the input that
        went wrong, {g} the gradient the gate passed on and {right_g} its true gradient, {now}
        what {v} holds and {right} what the right walk gives it, {before} what {v} held before
        this step, {gets} what this step gave it, {count} how often {v} is an input of the gate,
        {visit} which visit of the gate this is, {waiting} the gates that had not reported, {lost} what
        this gate's writes before its last gave {v} (the overwrite's loss).
        """
        step = self.step
        gets = [i.contribution for i in step.inputs if i.value is v]
        numbers = {
            "out": name(step.output),
            "v": name(v),
            "g": fmt(step.upstream),
            "right_g": fmt(self.true_upstream[step.output]),
            "now": fmt(now),
            "right": fmt(right),
            "before": fmt(self.before[v]),
            "gets": fmt(sum(gets)),
            "lost": fmt(sum(gets[:-1])),
            "count": str(len(gets)),
            "visit": str(self.visit),
        }
        template = self.row.sentences[self.row.case(self, v)]
        waiting = self.waiting()
        count = len(gets) if "{count}" in english(template, 2) else len(waiting)
        return WrongTurn(self.index, v, now, right, template, numbers, step.op, waiting, count)

    def overwrite_case(self, v: Value) -> str:
        """The overwrite's case: how often `v` is an input of the gate, and whether it held something before."""
        count = sum(i.value is v for i in self.step.inputs)
        uses = "earlier" if count == 1 else "twice" if count == 2 else "times"
        return uses if count == 1 or self.before[v] == 0.0 else f"{uses}, earlier"

    def waiting(self) -> tuple[str, ...]:
        """The gates that use this step's output and had not passed their gradient on by this step."""
        out = self.step.output
        walked = {s.output for s in self.wrong.steps[: self.index - 1]}
        return tuple(name(v) for v in self.true_upstream if out in v.children and v not in walked)


def step_counts(
    walk: Callable[[Value], Walk] = recursive_walk, ns: Sequence[int] = (1, 2, 3, 4, 5, 10, 12)
) -> list[tuple[int, int, int]]:
    """(n, the sorted walk's steps, `walk`'s steps) on a chain of n diamonds, for each n in `ns`, by running both."""
    return [(n, len(sorted_walk(diamond_chain(n)).steps), len(walk(diamond_chain(n)).steps)) for n in ns]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def format_lab(lab: Lab, expression: str, inputs: Mapping[str, Value], lang: str = ENGLISH) -> str:
    """What `explain --mistake` prints, in `lang`: both walks side by side up to where they part, why, the ends."""
    t = translator(lang)
    row, end = lab.mistake, lab.divergence.step if lab.divergence else None
    mistake = t.pgettext("mistake", row.name)
    shown = max(len(lab.right.steps), len(lab.wrong.steps)) if end is None else end
    rows = [
        (
            str(k),
            _cell(lab.right, k, lang),
            _cell(lab.wrong, k, lang),
            t.gettext("<- here they part") if k == end else "",
        )
        for k in range(1, shown + 1)
    ]
    header = (t.gettext("step"), t.gettext("right walk (sorted, +=)"), mistake, "")
    walks = "\n".join(line.rstrip() for line in table(header, rows).splitlines())
    if lab.divergence:
        where = t.gettext("Step {k}: {explanation}").format(k=end, explanation=lab.divergence.explain(lang))
    else:
        where = _agreement(row, lang)
    grads = table(
        (t.gettext("input"), t.pgettext("lab", "right"), mistake),
        [(n, fmt(lab.right.grads.get(v, 0.0)), fmt(lab.wrong.grads.get(v, 0.0))) for n, v in inputs.items()],
    )
    parts = [
        t.gettext("The misconception lab: {mistake} on {expression}").format(mistake=mistake, expression=expression)
        + "\n  "
        + t.gettext("The mistake: {summary}").format(summary=t.gettext(row.summary)),
        indent(walks),
        where,
        t.gettext("Gradients when both walks run to the end:") + f"\n{indent(grads)}",
    ]
    if row.counts_steps:
        walk_name = t.gettext("{mistake} walk").format(mistake=mistake)
        counts = table(
            (t.gettext("diamonds"), t.gettext("sorted walk"), walk_name),
            [tuple(map(str, c)) for c in step_counts(row.walk)],
        )
        steps = t.gettext(
            "Steps: the sorted walk takes {right}, the {mistake} walk {wrong}. On a chain of n diamonds "
            "(v = x, then n times v = v*2 + v*3) its steps double with each diamond:"
        ).format(right=len(lab.right.steps), wrong=len(lab.wrong.steps), mistake=mistake)
        parts.append(f"{steps}\n{indent(counts)}")
    return "\n\n".join(parts)


def lab_json(lab: Lab, inputs: Mapping[str, Value], lang: str = ENGLISH) -> dict[str, Any]:
    """The mistaken walk, as `explain --mistake --json` gives it: its gradients, where it parts from the right, why.

    The keys, the mistake's name and the gates' `op`s are the same in every language; the
    explanation and the summary are in `lang`.
    """
    row, wrong = lab.mistake, lab.wrong
    report = {
        "name": row.name,
        "grads": {n: json_number(wrong.grads.get(v, 0.0)) for n, v in inputs.items()},
        "first_divergent_step": lab.divergence.step if lab.divergence else None,
        "explanation": lab.divergence.explain(lang) if lab.divergence else _agreement(row, lang),
        "summary": translator(lang).gettext(row.summary),
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


def _cell(walk: Walk, k: int, lang: str) -> str:
    """Step `k` of `walk` in a few words: the gate, what it passes on, what its inputs hold after it."""
    if k > len(walk.steps):
        return ""
    t = translator(lang)
    step = walk.steps[k - 1]
    holds = dict(zip((i.value for i in step.inputs), walk.holds[k - 1]))
    held = _listed(
        [t.gettext("{v} holds {grad}").format(v=name(v), grad=fmt(h)) for v, h in holds.items()],
        t.gettext("{earlier}, {last}"),
    )
    return t.gettext("{gate} {out} passes on {g}: {held}").format(
        **gate_words(step.op, lang), out=name(step.output), g=fmt(step.upstream), held=held
    )


def _listed(items: Sequence[str], template: str, separator: str | None = None) -> str:
    """`items` joined by `template` ("a and b"); with a `separator`, all but the last by it: "a, b and c"."""
    if separator is not None and len(items) > 2:
        return template.format(earlier=separator.join(items[:-1]), last=items[-1])
    joined = items[0] if items else ""
    for item in items[1:]:
        joined = template.format(earlier=joined, last=item)
    return joined


def _agreement(row: Mistake, lang: str) -> str:
    t = translator(lang)
    expression, values = row.example
    assignments = " ".join(f"{n}={fmt(x)}" for n, x in values.items())
    command = f"gategrad explain '{expression}' {assignments} --mistake {row.name}"
    return t.gettext(
        "The two walks agree at every step of this circuit: the mistake shows only on {needs}. Try: {command}"
    ).format(needs=t.gettext(row.needs), command=command)
