"""The circuit kind: a random circuit of 4 to 8 gates on small integers and halves, whose gradients are exact.

The circuit is written as an expression and built by `explain.expr`, the same parser `gategrad explain`
uses, so a student may check a sheet with that command. Its gates are drawn from the gate table, and a
draw is kept only when every value, local gradient and gradient is a multiple of 1/4 (`is_hand_number`):
add, mul, max, relu and pow pass most draws, and a gate such as exp only at the rare point where it is
exact (exp(0) = 1).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from html import escape

from gategrad.engine import GATES, Step, Value, fmt, topological_order
from gategrad.exercise import pages
from gategrad.exercise.slips import slips
from gategrad.exercise.variant import EXACT, Exercise, Item, is_hand_number
from gategrad.explain import expr
from gategrad.explain.lang import translator
from gategrad.explain.walkthrough import walk

INPUTS = ("x", "y", "z", "w")
HALVES = tuple(k / 2 for k in range(-8, 9) if k)  # -4 ... 4 in halves, without 0
CONSTANTS = (0.5, 1.5, 2.0, 3.0)  # a folded constant (x * 2, x ** 3, max(x, 1.5))
INTERMEDIATES = "pqr"  # the names of the intermediate values whose gradients are asked for
GATE_COUNT = (4, 8)
ATTEMPTS = 10_000


@dataclass(frozen=True)
class _Form:
    """How an expression writes a gate of the table: `max({a}, {b})`, `{a} * {b}`."""

    template: str
    arity: int
    constant: bool
    constant_place: int
    call: bool  # a function call, whose arguments need no parentheses


def _forms() -> list[_Form]:
    found: dict[str, _Form] = {}
    for gate in GATES.values():
        if gate.function:
            args = ", ".join("{" + k + "}" for k in "ab"[: gate.arity])
            template, arity, call = f"{gate.function}({args})", gate.arity, True
        else:
            template = re.sub(r"\b([ab])\b", r"{\1}", gate.python)
            arity, call = len(re.findall(r"\{[ab]\}", template)), False
        if arity <= 2:
            found.setdefault(template, _Form(template, arity, gate.constant, gate.constant_place, call))
    return list(found.values())


def _draw(rng: random.Random, forms: list[_Form]) -> tuple[str, dict[str, float]] | None:
    """A random expression of 3 or 4 inputs, each used, or None when the draw did not join into one output."""
    names = list(INPUTS[: rng.choice((3, 4))])
    values = {n: rng.choice(HALVES) for n in names}
    unused = list(names)
    n = rng.randint(*GATE_COUNT)
    for k in range(n):
        join = len(unused) - 1 >= n - k  # the gates left must join what is still apart
        form = rng.choice([f for f in forms if f.arity == 2] if join else forms)
        first = unused.pop(rng.randrange(len(unused)))
        if form.arity == 1 and "(" in first and _atomic(first):
            return None  # relu(abs(x)) teaches nothing relu(x) does not
        operands = [first]
        if form.arity == 2:
            if form.constant and not join and rng.random() < 0.4:
                second = fmt(rng.choice(CONSTANTS))
            elif unused and (join or rng.random() < 0.6):
                second = unused.pop(rng.randrange(len(unused)))
            else:
                second = rng.choice(names)  # an input used twice: its gradients add
            operands.insert(form.constant_place if second[0].isdigit() else rng.randrange(2), second)
        wrap = (lambda s: s) if form.call else (lambda s: s if _atomic(s) else f"({s})")
        unused.append(form.template.format(**dict(zip("ab", map(wrap, operands)))))
    return (unused[0], values) if len(unused) == 1 else None


def _atomic(text: str) -> bool:
    """A name, a number or one function call: an operand that needs no parentheses."""
    call = re.fullmatch(r"\w+\((.*)\)", text)
    return text.replace(".", "").isalnum() or (call is not None and _balanced(call[1]))


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _exact(root: Value) -> bool:
    return all(
        is_hand_number(v.data) and is_hand_number(v.grad) and all(is_hand_number(g) for g in v.local_grads)
        for v in topological_order(root)
    )


def make(rng: random.Random, lang: str) -> Exercise:
    """One student's circuit: its sheet, its key (every input's gradient and three intermediate ones)."""
    forms = _forms()
    for _ in range(ATTEMPTS):
        drawn = _draw(rng, forms)
        if drawn is None:
            continue
        try:
            circuit = expr.build(*drawn)
        except expr.ExpressionError:  # a power in an exponent: the parser refuses it, so the draw is redrawn
            continue
        root = circuit.output
        gates = [v for v in topological_order(root) if v.children]
        if not GATE_COUNT[0] <= len(gates) <= GATE_COUNT[1]:
            continue
        steps = walk(root)
        grads = [v.grad for v in circuit.inputs.values()]
        varied = len({abs(g) for g in grads}) >= 3  # not a sum that hands 1 to everyone
        if _exact(root) and varied and sum(g == 0.0 for g in grads) <= 1:
            return _exercise(rng, circuit, gates, steps, lang)
    raise RuntimeError("no exact circuit in 10,000 draws")  # about one draw in a hundred is kept


def _exercise(rng: random.Random, circuit: expr.Circuit, gates: list[Value], steps: list[Step], lang: str) -> Exercise:
    t = translator(lang)
    root = circuit.output
    middle = [v for v in gates if v is not root]
    # Gradients other than ±1 first: an add chain's 1s are asked about once, in the inputs.
    telling = [v for v in middle if abs(v.grad) != 1.0]
    plain = [v for v in middle if abs(v.grad) == 1.0]
    count = min(len(INTERMEDIATES), len(middle))
    chosen = rng.sample(telling, min(count, len(telling)))
    chosen += rng.sample(plain, count - len(chosen))
    marked = sorted(chosen, key=middle.index)
    named = {**{n: circuit.inputs[n] for n in INPUTS if n in circuit.inputs}, **dict(zip(INTERMEDIATES, marked))}
    items = {f"df/d{n}": v for n, v in named.items()}
    found = slips(root, items, EXACT)
    labels = {item: f"∂f/∂{escape(n)}" for item, n in zip(items, named)}
    where = "".join(f"<li><code>{escape(n)} = {escape(v.label)}</code></li>" for n, v in zip(INTERMEDIATES, marked))
    shown = ", ".join(f"<code>{escape(n)} = {escape(fmt(v.data))}</code>" for n, v in circuit.inputs.items())
    inputs = f'<span class="inputs">{shown}</span>'
    ask = t.gettext(
        "Backpropagate through the circuit by hand and give the gradient of f with respect to each input "
        "and to each of these intermediate values:"
    )
    exact = t.gettext("Give exact values: whole numbers, halves, quarters, or fractions such as 3/4.")
    computes = escape(t.gettext("The circuit computes {expression} at {inputs}."))
    expression = f'<code class="expression">f = {escape(circuit.expression)}</code>'
    sheet = (
        f"<p>{computes.format(expression=expression, inputs=inputs)}</p>"
        f"{pages.circuit_svg(root, show_grad=False)}"
        f'<p>{escape(ask)}</p><ul class="where">{where}</ul><p>{escape(exact)}</p>'
    )
    key = {item: fmt(v.grad + 0.0) for item, v in items.items()}  # + 0.0: a gradient of -0 is 0 on paper
    solution = (
        pages.circuit_svg(root, show_grad=True)
        + pages.walk_html(root, steps, lang)
        + pages.answers_table(key, labels, lang)
    )
    return Exercise(
        kind="circuit",
        rule=EXACT,
        items={item: Item(v.grad + 0.0, 1, labels[item], found[item]) for item, v in items.items()},
        sheet_html=sheet,
        solution_html=solution,
    )
