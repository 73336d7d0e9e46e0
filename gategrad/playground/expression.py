"""The expression lab's answers: `explain`'s walk, the stepper's frames as DOT, predict mode and the misconception lab.

The page shows what these return and computes nothing: the walk and the gradients are
`walkthrough.to_json`'s, the very dict `gategrad explain --json` prints, and each picture is
the DOT of the stepper's frame (`walkthrough_frames`), drawn in the page by viz-js.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from gategrad.engine import Step, fmt
from gategrad.engine.gates import name
from gategrad.explain import expr, mistakes, walkthrough
from gategrad.explain.lang import ENGLISH, gate_words, translator
from gategrad.viz import walkthrough_frames
from gategrad.viz.page import PREDICT_TOLERANCE, ui_strings

DEFAULT_VALUE = "1"  # a name the expression gains starts at 1


def handle(action: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """Answer one of the page's requests: "run" the walk, or check a "predict"ion."""
    if action == "run":
        return run(**args)
    if action == "predict":
        return predict(**args)
    raise ValueError(f"the expression lab has no action {action!r}")


def _circuit(expression: str, values: Mapping[str, str], mistake: str | None) -> expr.Circuit:
    """The circuit of `expression`; a name without a value in `values` gets DEFAULT_VALUE, unused ones are dropped."""
    names = expr.input_names(expression)
    texts = {n: str(values.get(n, DEFAULT_VALUE)).strip() or DEFAULT_VALUE for n in names}
    return expr.build(expression, expr.parse_values([f"{n}={v}" for n, v in texts.items()]), share=bool(mistake))


def run(expression: str, values: Mapping[str, str], lang: str = ENGLISH, mistake: str | None = None) -> dict[str, Any]:
    """Everything the lab shows for `expression` at `values` (texts such as "3", "-0.5" or "inf"), in `lang`.

    `report` is `explain --json`'s dict; `grads` each input's gradient as `explain` writes it
    and at full precision; `frames` the stepper's pictures (DOT) with their headings and
    captions; `mistake`, when one is named, the misconception lab as `explain --mistake` gives it.
    """
    if mistake is not None and mistake not in mistakes.MISTAKES:
        raise ValueError(f"unknown mistake {mistake!r}; known: {', '.join(mistakes.MISTAKES)}")
    circuit = _circuit(expression, values, mistake)
    ui = ui_strings(lang)
    steps = walkthrough.walk(circuit.output)
    report = walkthrough.to_json(circuit.expression, circuit.output, circuit.inputs, steps, lang)
    frames = walkthrough_frames(circuit.output, steps, lang=lang)
    last = len(frames) - 1
    result = {
        "inputs": [{"name": n, "value": repr(v.data)} for n, v in circuit.inputs.items()],
        "report": report,
        "grads": [
            {"name": n, "text": fmt(v.grad), "value": json.dumps(report["grads"][n])} for n, v in circuit.inputs.items()
        ],
        "frames": [
            {
                "dot": frame.graph.source,
                "heading": ui["forward"]
                if frame.step is None
                else ui["backward"].format(k=k, n=last, **gate_words(frame.step.op, lang)),
                "caption": frame.caption,
            }
            for k, frame in enumerate(frames)
        ],
        "predict": [_question(step, k, last, lang) for k, step in enumerate(steps, start=1)],
        "predict_hint": ui["predict_hint"].format(percent=f"{PREDICT_TOLERANCE:.0%}"),
        "mistakes": mistake_names(lang),
        "mistake": None,
    }
    if mistake is not None:
        if not circuit.output.children:
            raise ValueError(f"the misconception lab needs a circuit with a gate; {expression!r} is a lone input")
        lab = mistakes.compare(circuit.output, steps, mistake)
        result["mistake"] = {
            **mistakes.lab_json(lab, circuit.inputs, lang),
            "text": mistakes.format_lab(lab, circuit.expression, circuit.inputs, lang),
        }
    return result


def mistake_names(lang: str = ENGLISH) -> list[dict[str, str]]:
    """The misconception lab's mistakes: each one's name and what the lab calls it in `lang`."""
    t = translator(lang)
    return [{"name": m, "label": t.pgettext("mistake", m)} for m in mistakes.MISTAKES]


def _question(step: Step, k: int, n: int, lang: str) -> dict[str, Any]:
    """What predict mode asks before backward step `k` of `n`, in `lang`: the question, and who each field is for."""
    ui = ui_strings(lang)
    names = [name(i.value) for i in step.inputs]
    repeated = len(set(names)) < len(names)  # x*x: say which x
    who = [ui["predict_nth"].format(input=v, i=j) if repeated else v for j, v in enumerate(names, start=1)]
    return {
        "question": ui["predict_question"].format(
            k=k, n=n, **gate_words(step.op, lang), out=name(step.output), g=fmt(step.upstream)
        ),
        "who": who,
        "fields": [ui["predict_field"].format(input=w) for w in who],
    }


def predict(
    expression: str, values: Mapping[str, str], step: int, answers: list[str], lang: str = ENGLISH
) -> dict[str, Any]:
    """Check the answers to predict mode's question at backward step `step` (from 1), as the stepper does.

    An answer within PREDICT_TOLERANCE of what the input gets, relative to it, is right (inf
    and nan are numbers too). `feedback` is None, and `note` says why, when an answer is not a number.
    """
    circuit = _circuit(expression, values, None)
    steps = walkthrough.walk(circuit.output)
    if not 1 <= step <= len(steps):
        raise ValueError(f"the walk has steps 1 to {len(steps)}, not {step}")
    gate = steps[step - 1]
    if len(answers) != len(gate.inputs):
        raise ValueError(f"step {step}'s gate has {len(gate.inputs)} inputs, got {len(answers)} answers")
    ui = ui_strings(lang)
    numbers = [_number(a) for a in answers]
    if any(x is None for x in numbers):
        return {"feedback": None, "note": ui["predict_not_a_number"]}
    who = _question(gate, step, len(steps), lang)["who"]
    feedback = []
    for input_name, given, answer, x in zip(who, gate.inputs, answers, numbers):
        right = _close(x, given.contribution)  # type: ignore[arg-type]
        verdict = ui["predict_right" if right else "predict_wrong"]
        feedback.append(
            {
                "right": right,
                "text": ui["predict_feedback"].format(
                    input=input_name,
                    verdict=verdict,
                    answer=answer.strip(),
                    local=fmt(given.local_grad),
                    g=fmt(gate.upstream),
                    gets=fmt(given.contribution),
                ),
            }
        )
    return {"feedback": feedback, "note": ""}


_NAMED = {"inf": math.inf, "infinity": math.inf, "\u221e": math.inf, "nan": math.nan}


def _number(answer: str) -> float | None:
    """A typed answer read as the stepper reads it (0,39 and a \u2212 minus too); None if it is not a number."""
    t = answer.strip().lower().replace("\u2212", "-").removeprefix("+")
    if "." not in t and t.count(",") == 1:
        t = t.replace(",", ".")
    sign = -1.0 if t.startswith("-") else 1.0
    if t.removeprefix("-") in _NAMED:
        return sign * _NAMED[t.removeprefix("-")]
    try:
        return float(t)
    except ValueError:
        return None


def _close(x: float, exactly: float) -> bool:
    if math.isnan(exactly):
        return math.isnan(x)
    if math.isinf(exactly):
        return x == exactly
    return abs(x - exactly) <= PREDICT_TOLERANCE * abs(exactly)
