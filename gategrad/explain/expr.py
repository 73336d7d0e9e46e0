"""Turn a small math expression such as ``2*(x*y + max(z, w))`` into a circuit of Values.

The text is parsed with `ast` and every node is checked against a short whitelist before
anything is built; nothing is ever passed to `eval` or `exec`. Each gate's output is
labelled with the source text it came from, so the walkthrough and the picture read well.
"""

from __future__ import annotations

import ast
import math
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gategrad.engine import GATES, Value
from gategrad.text import cut, listed, quoted

MAX_LENGTH = 100_000  # characters in an expression: room for a flat sum of 10,000 terms
MAX_DEPTH = 100  # levels of nesting in its syntax tree; a flat chain such as a+b-c or a*b/c is one level
MAX_LABEL = 60  # characters of source text a gate's label shows; a longer one keeps both ends
MAX_EXPONENT = 1000  # largest |k| for a constant exponent in x**k

# The gates `explain` can call by name, read from the gate table: name -> (Value method, arity).
FUNCTIONS: dict[str, tuple[Callable[..., Value], int]] = {
    gate.function: (getattr(Value, gate.method), gate.arity) for gate in GATES.values() if gate.function
}
_SYNTAX_NAMES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripting",
    ast.Lambda: "lambda",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
}
_ALLOWED = f"use numbers, names, + - * / **, parentheses and {', '.join(FUNCTIONS)}"


class ExpressionError(ValueError):
    """An expression or a NAME=VALUE that gategrad refuses, with a message saying why."""


@dataclass(frozen=True)
class Circuit:
    """A parsed expression: its text, the Value it computes, and its named inputs in order of appearance."""

    expression: str
    output: Value
    inputs: dict[str, Value]


def parse_values(assignments: Sequence[str]) -> dict[str, float]:
    """Read ``["x=3", "y=-4"]`` as ``{"x": 3.0, "y": -4.0}``, refusing anything else.

    Names are NFKC-normalised, as Python normalises the names in the expression, so a
    fullwidth ``ｘ=3`` is x. A value may be ``inf``, ``-inf`` or ``nan``; a number too large
    for a float, such as 1e999, is refused rather than read as inf.
    """
    values: dict[str, float] = {}
    for item in assignments:
        name, sep, number = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())
        if not sep or not name.isidentifier():
            raise ExpressionError(f"{quoted(item)} is not NAME=VALUE (for example x=3 or y=-4)")
        if name in values:
            raise ExpressionError(f"{name} is given twice")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"the value of {name} must be a number, got {quoted(number.strip())}") from None
        if not math.isfinite(value) and number.strip().lstrip("+-").lower() not in ("inf", "infinity", "nan"):
            raise ExpressionError(f"the value of {name}, {number.strip()}, is too large for a float; write inf for inf")
        values[name] = value
    return values


def build(expression: str, values: Mapping[str, float], share: bool = False) -> Circuit:
    """Check `expression`, then build its circuit with one leaf Value per name.

    Every name in the expression needs a value, and every value given must be used (an
    unused one is most likely a typo). With `share`, a subexpression written more than once
    is built once and its gate feeds each place that uses it: ``x*y + x*y*z`` has one x*y
    gate whose output is used twice. Raises ExpressionError for anything not allowed.
    """
    text = expression.strip()
    tree = _parse(text)
    used = _names(tree)
    missing = [name for name in used if name not in values]
    if missing:
        raise ExpressionError(f"no value for {listed(missing)}: give each name as NAME=VALUE, e.g. {cut(missing[0])}=1")
    unused = [name for name in values if name not in used]
    if unused:
        raise ExpressionError(f"{listed(unused)} given but not used in the expression")
    inputs = {name: Value(values[name], label=name) for name in used}
    output = _Builder(text, inputs, share).build(tree.body)
    if not isinstance(output, Value):
        raise ExpressionError("the expression has no names, so there is nothing to differentiate")
    return Circuit(text, output, inputs)


def input_names(expression: str) -> list[str]:
    """The names `expression` needs a value for, in order of appearance; ExpressionError if it is refused."""
    return _names(_parse(expression.strip()))


def _names(tree: ast.Expression) -> list[str]:
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in FUNCTIONS]
    return list(dict.fromkeys(n.id for n in sorted(names, key=lambda n: (n.lineno, n.col_offset))))


def _parse(text: str) -> ast.Expression:
    """Parse `text` and check its whole syntax tree before anything is built."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if _parenthesis_depth(text) > MAX_DEPTH:
        raise ExpressionError(f"the expression nests parentheses more than {MAX_DEPTH} deep")
    # A flat chain x+x+...+x is a syntax tree as deep as it is long, and CPython counts each
    # level against the recursion limit while it turns the tree into Python objects: raise
    # the limit for the parse. No Python code runs meanwhile.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, len(text) + 1000))
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as e:
        reason = e.msg if isinstance(e, SyntaxError) else "it is too deeply nested"
        raise ExpressionError(f"cannot read the expression: {reason}") from None
    finally:
        sys.setrecursionlimit(limit)
    stack: list[tuple[ast.expr, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested more than {MAX_DEPTH} levels deep; the limit is {MAX_DEPTH} "
                "(a flat chain such as a+b-c or a*b/c is one level)"
            )
        _check(node)
        children = node.args if isinstance(node, ast.Call) else ast.iter_child_nodes(node)
        stack.extend(
            (child, depth + (not _same_chain(node, child))) for child in children if isinstance(child, ast.expr)
        )
    return tree


_CHAINS = ((ast.Add, ast.Sub), (ast.Mult, ast.Div))


def _same_chain(parent: ast.expr, child: ast.expr) -> bool:
    """Whether `child` is the left operand of `parent` in one flat chain, as a+b in a+b-c: no deeper."""
    if not (isinstance(parent, ast.BinOp) and isinstance(child, ast.BinOp) and child is parent.left):
        return False
    return any(isinstance(parent.op, ops) and isinstance(child.op, ops) for ops in _CHAINS)


def _parenthesis_depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        deepest = max(deepest, depth)
    return deepest


def _check(node: ast.expr) -> None:
    """Refuse any syntax outside numbers, names, + - * / **, unary +/- and the functions."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only real numbers can be constants, got {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} is a function: call it as {node.id}(...)")
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            raise ExpressionError(f"only the operators + - * / ** are allowed: {_ALLOWED}")
        if isinstance(node.op, ast.Pow) and any(_is_power(n) for n in ast.walk(node.right)):
            raise ExpressionError("a power inside an exponent (like 2**3**4) is not allowed")
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(f"only unary minus and plus are allowed: {_ALLOWED}")
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name not in FUNCTIONS:
            raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} can be called")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"{name}() takes plain arguments only")
        arity = FUNCTIONS[name][1]
        if len(node.args) != arity:
            raise ExpressionError(f"{name}() takes {arity} argument{'s' * (arity > 1)}, got {len(node.args)}")
    else:
        syntax = _SYNTAX_NAMES.get(type(node), f"Python's {type(node).__name__} syntax")
        raise ExpressionError(f"{syntax} is not allowed: {_ALLOWED}")


def _is_power(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)


class _Builder:
    """Walks a checked syntax tree, building Values and labelling each gate with its source text.

    A subexpression without names stays a plain float, which the engine folds into the
    gate that uses it (``2*x`` is one mul gate); its arithmetic is the engine's float math.
    """

    def __init__(self, text: str, inputs: dict[str, Value], share: bool = False) -> None:
        self.source = text.encode("utf-8")  # ast's column offsets count UTF-8 bytes
        self.line_starts = [0] + [m.end() for m in re.finditer(rb"\r\n|\r|\n", self.source)]
        self.inputs = inputs
        # With `share`, each subexpression gets the number of its shape (its kind, its operator or
        # name, its parts' numbers), and the first Value built for a shape serves every later one.
        self.shapes: dict[tuple[object, ...], int] | None = {} if share else None
        self.numbers: dict[int, int] = {}  # id(ast node) -> its shape's number
        self.built: dict[int, Value | float] = {}  # a shape's number -> what was built for it

    def build(self, node: ast.expr) -> Value | float:
        if isinstance(node, ast.BinOp):
            # Down the left operands first and back up: a chain x+x+...+x, as deep as it is
            # long, is built in a loop; only real nesting recurses.
            chain = []
            while isinstance(node, ast.BinOp):
                chain.append(node)
                node = node.left
            out = self.build(node)
            for link in reversed(chain):
                out = self._shared(link, self._binary(link, out, self.build(link.right)))
            return out
        return self._shared(node, self._build_one(node))

    def _build_one(self, node: ast.expr) -> Value | float:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))
            try:
                number = float(node.value)
            except OverflowError:
                number = math.inf
            if math.isinf(number):
                raise ExpressionError("a number in the expression is too large for a float")
            return number
        if isinstance(node, ast.Name):
            return self.inputs[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            return operand if isinstance(node.op, ast.UAdd) else self._label(-operand, node)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            gate = FUNCTIONS[node.func.id][0]
            args = [self.build(a) for a in node.args]
            constants = [a for a in args if not isinstance(a, Value)]
            if len(constants) == len(args):
                return gate(*[Value(c) for c in constants]).data
            if not isinstance(args[0], Value):  # max(3, x) is x.max(3): max is symmetric
                args.reverse()
            return self._label(gate(*args), node)
        raise AssertionError(f"_check lets no {type(node).__name__} through")

    def _shared(self, node: ast.expr, built: Value | float) -> Value | float:
        """`built`, or with sharing the Value already built for a subexpression of the same shape."""
        if self.shapes is None:
            return built
        parts: list[object] = [type(node)]
        for _, field in ast.iter_fields(node):
            if isinstance(field, list):
                parts.append(tuple(self.numbers[id(arg)] for arg in field))  # a call's arguments
            elif isinstance(field, ast.AST):  # an operand's number, or an operator, or the name a call calls
                number = self.numbers.get(id(field))
                parts.append((type(field), getattr(field, "id", None)) if number is None else number)
            else:
                parts.append(field)  # a name, a constant
        number = self.numbers[id(node)] = self.shapes.setdefault(tuple(parts), len(self.shapes))
        return self.built.setdefault(number, built)

    def _binary(self, node: ast.BinOp, a: Value | float, b: Value | float) -> Value | float:
        if not isinstance(a, Value) and not isinstance(b, Value):
            folded = self._binary(node, Value(a), b)
            assert isinstance(folded, Value)
            return folded.data
        op = node.op
        if isinstance(op, ast.Pow) and not isinstance(b, Value) and abs(b) > MAX_EXPONENT:
            raise ExpressionError(f"the exponent {b:g} is too large; the limit is {MAX_EXPONENT}")
        # The engine builds x - y as x + (-y), and c / x as (1/x) * c; building them the same way
        # here gives the -y and 1/x gates labels of their own.
        if isinstance(op, ast.Sub) and isinstance(b, Value):
            op, b = ast.Add(), self._label(-b, node.right, "-{}")
        elif isinstance(op, ast.Div) and not isinstance(a, Value):
            op, a, b = ast.Mult(), self._label(b**-1.0, node.right, "1/{}"), a
        if isinstance(op, ast.Add):
            out = a + b
        elif isinstance(op, ast.Sub):
            out = a - b
        elif isinstance(op, ast.Mult):
            out = a * b
        elif isinstance(op, ast.Div):
            out = a / b
        else:
            out = a**b
        return self._label(out, node)

    def _label(self, v: Value | float, node: ast.expr, template: str = "{}") -> Value | float:
        """Label a new gate's output with the source text of `node`, put into `template`."""
        if isinstance(v, Value) and not v.label:
            text = self._source_text(node)
            if template != "{}" and isinstance(node, (ast.BinOp, ast.UnaryOp)):
                text = f"({text})"
            v.label = template.format(text)
        return v

    def _source_text(self, node: ast.expr) -> str:
        """The source text of `node`, its two ends only when longer than MAX_LABEL (a chain's labels stay short)."""
        assert node.end_lineno is not None and node.end_col_offset is not None
        start = self.line_starts[node.lineno - 1] + node.col_offset
        end = self.line_starts[node.end_lineno - 1] + node.end_col_offset
        if end - start <= MAX_LABEL:
            return self.source[start:end].decode("utf-8")
        half = (MAX_LABEL - 3) // 2
        head = self.source[start : start + half].decode("utf-8", "ignore")
        return f"{head}...{self.source[end - half : end].decode('utf-8', 'ignore')}"
