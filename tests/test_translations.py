"""The reviewed sentences, in English, Chinese and Russian: each fix of issue 25 and the plural forms."""

import re

import polib
import pytest
from conftest import chinese_gate, row_steps

from gategrad import Value, nn
from gategrad.engine import GATES, fmt, topological_order
from gategrad.engine.gates import name
from gategrad.explain import lang, mistakes
from gategrad.explain.expr import build
from gategrad.explain.walkthrough import format_step, walk
from gategrad.nn.tags import neuron_calls
from gategrad.viz import draw_dot, walkthrough_frames
from gategrad.viz.page import ui_strings


def lab(expression, values, mistake):
    circuit = build(expression, values, share=True)
    return circuit, mistakes.compare(circuit.output, walk(circuit.output), mistake)


def sum_step(n):
    """The add gate of Value.sum over x1..xn (1, 2, ... n): its one backward step."""
    return next(Value.sum([Value(float(k), label=f"x{k}") for k in range(1, n + 1)]).backward_steps())


# ---- the source sentences ----


def test_the_overwrite_names_both_lost_contributions_and_they_add_up():
    # x*x + x at 3: the add gives x 1, then the mul writes 3 twice; kept 3, lost 3 and 1: 3 + 3 + 1 = 7.
    _, result = lab("x*x + x", {"x": 3.0}, "overwrite")
    d = result.divergence
    assert (d.now, d.right, d.numbers["lost"], d.numbers["before"]) == (3.0, 7.0, "3", "1")
    assert d.now + float(d.numbers["lost"]) + float(d.numbers["before"]) == d.right
    assert "both the first write's 3 and the 1 it held before this gate are lost; += gives 7." in d.explanation


def test_the_overwrite_counts_three_writes_with_a_plural():
    # x + x + x as one add gate of three inputs: three writes of 1, two of them lost; += gives 3.
    x = Value(2.0, label="x")
    root = Value.sum([x, x, x])
    result = mistakes.compare(root, list(root.backward_steps()), "overwrite")
    assert result.divergence.explanation == (
        "The add gate 2 + 2 + 2 has x as an input 3 times and writes its gradient with = instead of +=: the last "
        "write replaces the others, so x holds 1 and the other writes' 2 is lost; += gives 3."
    ).replace("2 + 2 + 2", "6")
    assert "x входит в вентиль 6 (сложение) 3 раза" in result.divergence.explain("ru")
    assert "加法门 6 有 3 个输入都是 x" in result.divergence.explain("zh")


def test_log_and_sqrt_name_their_input_not_the_formulas_x():
    y = Value(4.0, label="y")
    (log_step,) = list(y.log().backward_steps())
    (sqrt_step,) = list(y.sqrt().backward_steps())
    assert log_step.explanation == "The log gate scales by 1/y = 1/4: y gets 1 × 0.25 = 0.25."
    assert sqrt_step.explanation == "The sqrt gate scales by 1/(2√y) = 1/(2 × 2): y gets 1 × 0.25 = 0.25."
    assert lang.sentence(log_step, "zh") == "对数门按 1/y = 1/4 缩放梯度：y 得到 1 × 0.25 = 0.25。"
    assert lang.sentence(sqrt_step, "ru") == (
        "Вентиль квадратного корня умножает градиент на 1/(2√y) = 1/(2 × 2): y получает 1 × 0.25 = 0.25."
    )


def test_an_add_with_a_constant_says_the_constant_gets_no_gradient():
    (step,) = list((Value(1.5, label="x") + 3).backward_steps())
    assert step.explanation == (
        "The add gate adds the constant 3: x gets the upstream gradient 1 unchanged, and the constant gets no gradient."
    )
    assert lang.sentence(step, "zh") == "加法门加上常数 3：x 原样得到上游梯度 1，常数则得不到梯度。"
    assert lang.sentence(step, "ru") == (
        "Вентиль сложения прибавляет константу 3: x получает градиент по выходу 1 без изменений, а константа "
        "градиента не получает."
    )


def test_the_predict_question_says_what_the_gate_received():
    assert ui_strings("en")["predict_question"].startswith(
        "Gate {k} of {n}: the {gate} gate {out} received the upstream gradient {g}."
    )
    assert "收到上游梯度 {g}" in ui_strings("zh")["predict_question"]
    assert "получил сверху градиент {g}" in ui_strings("ru")["predict_question"]


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("en", "x gets 2 × y's value -4 = -8"),  # English names the factor first: no product of two numbers
        ("zh", "即 2 × (-4) = -8"),
        ("ru", "то есть 2 × (-4) = -8"),
    ],
)
def test_a_negative_factor_is_in_brackets(code, says):
    circuit = build("2*(x*y + max(z, w))", {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0})
    steps = walk(circuit.output)
    assert says in lang.sentence(steps[-1], code)
    (scaled,) = list((Value(3.0, label="x") * -4).backward_steps())
    assert scaled.explanation == "The mul gate scales by its constant factor -4: x gets 1 × (-4) = -4."


# ---- the pictures ----


@pytest.mark.parametrize(
    ("code", "forward", "partial", "final"),
    [
        ("en", "{ x | data 3 | grad ? }", "{ x | data 3 | grad 1 so far }", "{ x | data 3 | grad 7 }"),
        ("zh", "{ x | 值 3 | 梯度 ? }", "{ x | 值 3 | 目前梯度 1 }", "{ x | 值 3 | 梯度 7 }"),
        ("ru", "{ x | знач. 3 | град. ? }", "{ x | знач. 3 | град. пока 1 }", "{ x | знач. 3 | град. 7 }"),
    ],
)  # fmt: skip
def test_the_frames_say_data_grad_and_so_far_in_the_language(code, forward, partial, final):
    x = Value(3.0, "x")
    root = x * x + x  # x hears 1 from the add gate first, then 3 + 3 from the mul gate: 7
    frames = walkthrough_frames(root, lang=code)
    if code == "zh":  # Graphviz drops a plain space after a Chinese character: the catalogue writes a no-break one
        forward, partial, final = (
            text.replace(" 值 ", " 值\u00a0").replace("梯度 ", "梯度\u00a0") for text in (forward, partial, final)
        )
    assert forward in frames[0].graph.source
    assert partial in frames[1].graph.source
    assert final in frames[-1].graph.source


def test_a_picture_of_a_circuit_says_data_and_grad_in_the_language():
    x = Value(3.0, "x")
    root = x * 2
    root.backward()
    assert "{ x | знач. 3 | град. 2 }" in draw_dot(root, lang="ru").source
    assert "{ x | 值\u00a03 | 梯度\u00a02 }" in draw_dot(root, lang="zh").source
    assert "{ x | data 3 | grad 2 }" in draw_dot(root).source


# ---- Russian and Chinese ----


@pytest.mark.parametrize(
    ("n", "ru"),
    [
        (3, "каждый из его 3 входов (x1, x2, x3) получает градиент по выходу 1 без изменений."),
        (5, "каждый из его 5 входов (...) получает"),
        (11, "каждый из его 11 входов (...) получает"),
        (21, "каждый из его 21 входа (...) получает"),
        (22, "каждый из его 22 входов (...) получает"),
    ],
)
def test_an_add_gate_of_many_inputs_counts_them_in_russian(n, ru):
    step = sum_step(n)
    assert ru in lang.sentence(step, "ru")
    assert f"each of its {n} inputs" in step.explanation
    assert f"它的 {n} 个输入" in lang.sentence(step, "zh")


def test_an_add_gate_of_two_inputs_says_both():
    step = sum_step(2)
    assert (
        step.explanation
        == "The add gate distributes: each of its 2 inputs (x1, x2) gets the upstream gradient 1 unchanged."
    )
    assert "оба его входа (x1, x2) получают градиент по выходу 1" in lang.sentence(step, "ru")
    assert "它的两个输入（x1、x2）都原样得到上游梯度 1" in lang.sentence(step, "zh")


def test_chinese_lists_its_items_with_the_enumeration_comma():
    assert "（x1、x2、x3）" in lang.sentence(sum_step(3), "zh")
    _, result = lab("x*y*2 + x*y*3 + x*y", {"x": 2.0, "y": 3.0}, "no-sort")
    assert "在 x*y*3 和 x*y*2 传来梯度之前" in result.divergence.explain("zh")


def test_a_list_of_waiting_gates_agrees_in_number():
    _, one = lab("x*y + x*y*z", {"x": 2.0, "y": 3.0, "z": 4.0}, "no-sort")
    _, two = lab("x*y*2 + x*y*3 + x*y", {"x": 2.0, "y": 3.0}, "no-sort")
    assert "раньше, чем пришёл вклад от вентиля x*y*z," in one.divergence.explain("ru")
    assert "раньше, чем пришли вклады от вентилей x*y*3 и x*y*2," in two.divergence.explain("ru")
    assert "before the gate x*y*z had reported" in one.divergence.explanation
    assert "before the gates x*y*3 and x*y*2 had reported" in two.divergence.explanation


def test_the_recursion_processes_a_gate_in_russian():
    _, early = lab("(x*2 + x*3)*2 + (x*2 + x*3)*3", {"x": 1.0}, "recursive")
    _, again = lab("x*y*2 + x*y", {"x": 2.0, "y": 3.0}, "recursive")
    assert early.divergence.explain("ru").startswith(
        "Рекурсия доходит до вентиля x*2 + x*3 (сложение) по одному пути и сразу обрабатывает его"
    )
    assert again.divergence.explain("ru").startswith("Рекурсия снова обрабатывает вентиль x*y (умножение)")


def test_the_lab_names_its_walks_and_columns_in_russian():
    circuit, result = lab("(x*2 + x*3)*2 + (x*2 + x*3)*3", {"x": 1.0}, "recursive")
    text = mistakes.format_lab(result, "(x*2 + x*3)*2 + (x*2 + x*3)*3", circuit.inputs, "ru")
    assert text.splitlines()[0] == "Лаборатория ошибок: «рекурсивный обход» на примере (x*2 + x*3)*2 + (x*2 + x*3)*3"
    assert "  число ромбов  обход с сортировкой  рекурсивный обход" in text
    assert "  1    вентиль (x*2 + x*3)*2 + (x*2 + x*3)*3 (сложение) передаёт назад 1:" in text
    assert lang.translator("ru").pgettext("mistake", "no-zero") == "обход без обнуления"
    assert lang.translator("ru").pgettext("mistake", "no-sort") == "обход без сортировки"


def test_chinese_says_tab_and_enter_as_a_chinese_page_does():
    assert ui_strings("zh")["predict_hint"].startswith("填写每个输入得到的梯度，按 Tab 键切换输入框，按回车提交。")
    assert ui_strings("zh")["predict"] == "自测" and ui_strings("ru")["predict"] == "проверь себя"


# ---- plural forms through ngettext ----

RU_FORMS = {1: 0, 2: 1, 5: 2, 11: 2, 21: 0, 22: 1}  # gettext's Russian rule: 1 вход, 2 входа, 5 входов


def test_russian_declares_three_plural_forms_and_chinese_one():
    assert lang.translator("ru").ngettext("a", "b", 1) == "a"  # no catalogue entry: English rule
    ru = polib.pofile(str(lang.catalogue("ru")))
    assert ru.metadata["Plural-Forms"] == (
        "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
    )
    assert polib.pofile(str(lang.catalogue("zh"))).metadata["Plural-Forms"].startswith("nplurals=1;")
    for entry in ru:
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == [0, 1, 2], entry.msgid


@pytest.mark.parametrize(("n", "form"), sorted(RU_FORMS.items()))
def test_an_add_gates_plural_sentence_takes_the_russian_form_for_each_count(n, form):
    template = GATES["add"].sentences["many"]
    said = lang.translated(template, n, "ru")
    assert f"каждый из его {{n}} {['входа', 'входов', 'входов'][form]} ({{names}})" in said
    assert lang.translated(template, n, "en") == template[n != 1]


@pytest.mark.parametrize(("n", "form"), sorted(RU_FORMS.items()))
def test_the_overwrite_counts_writes_with_the_russian_form(n, form):
    template = mistakes.MISTAKES["overwrite"].sentences["times"]
    assert f"{{v}} входит в вентиль {{out}} ({{op}}) {{count}} {['раз', 'раза', 'раз'][form]}," in lang.translated(
        template, n, "ru"
    )


def test_make_messages_extracts_ngettext_calls_with_their_plural(tmp_path):
    pot = polib.pofile(str(lang.SHIPPED / "gategrad.pot"))
    by_id = {e.msgid: e for e in pot}
    after = by_id["after {steps} step"]
    assert after.msgid_plural == "after {steps} steps"
    assert ("gategrad/cli/train.py", "") in after.occurrences
    add = by_id[GATES["add"].sentences["many"][0]]
    assert add.msgid_plural == GATES["add"].sentences["many"][1]


def test_a_net_drawn_neuron_by_neuron_or_layer_by_layer_speaks_the_language():
    model = nn.MLP(2, [4, 1], seed=0)
    out = model([1.0, -2.0])
    out.backward()
    calls = {call.key: call for call in neuron_calls(topological_order(out))}
    first = calls["0:0"]
    w = ", ".join(fmt(v.data) for v in first.weights)
    neuron = draw_dot(out, level="neuron", lang="ru").source
    said = f"z {fmt(first.pre.data)} → вых. {fmt(first.output.data)} | град. {fmt(first.output.grad)}"
    assert f"нейрон 0:0 · ReLU | w {w} · b {fmt(first.bias.data)} | {said}" in neuron
    layer0 = [calls[f"0:{i}"].output for i in range(4)]
    dead = sum(v.data == 0.0 for v in layer0)
    outs = f"вых. от {fmt(min(v.data for v in layer0))} до {fmt(max(v.data for v in layer0))}"
    grads = f"град. от {fmt(min(v.grad for v in layer0))} до {fmt(max(v.grad for v in layer0))}"
    dies = f"{dead} из 4 {'даёт' if dead % 10 == 1 and dead != 11 else 'дают'} 0"
    layer = draw_dot(out, level="layer", lang="ru").source
    assert f"слой 0 · 4 нейрона (ReLU) | {outs} | {dies} | {grads}" in layer
    assert f"слой 1 · 1 нейрон (без активации) | вых. {fmt(out.data)} | град. 1" in layer
    assert "layer 0 · 4 relu neurons | out from " in draw_dot(out, level="layer").source
    assert "第\u00a00 层\u00a0· 4 个\u00a0ReLU 神经元" in draw_dot(out, level="layer", lang="zh").source


def test_the_checks_lists_of_arrays_use_the_enumeration_comma_in_chinese(capsys):
    from pathlib import Path

    from gategrad.cli import main

    accumulating = Path(__file__).parent / "backprops" / "cs231n_two_layer_net_accumulating.py"
    assert main(["check", str(accumulating), "--lang", "zh"]) == 1  # its gradients agree, but do not repeat
    assert "给出了不同的数组（W1、b1、W2、b2）" in capsys.readouterr().out
    assert main(["check", str(accumulating)]) == 1
    assert "with the same p (W1, b1, W2, b2)" in capsys.readouterr().out


# ---- a gate as a whole: 加法门, but tanh 门 ----

CHINESE = r"[\u4e00-\u9fff]"


@pytest.mark.parametrize("op", list(GATES))
def test_a_chinese_gate_is_its_name_and_men_with_a_space_after_a_latin_name(op):
    assert lang.gate_phrase(op, "zh") == chinese_gate(op)


@pytest.mark.parametrize("op", list(GATES))
def test_the_chinese_walk_names_each_gate_with_men_correctly_spaced(op):
    glued = re.compile(f"{CHINESE}[A-Za-z]|[A-Za-z]{CHINESE}")  # a Latin letter touching a Chinese character
    for step in row_steps(GATES[op]):
        said, heading = lang.sentence(step, "zh"), format_step(step, 1, "zh").splitlines()[0]
        assert chinese_gate(step.op) in said and not glued.search(said), said
        assert heading == f"第 1 步：{chinese_gate(step.op)}，输出 {name(step.output)} = {fmt(step.output.data)}，" + (
            f"上游梯度 {fmt(step.upstream)}"
        )


@pytest.mark.parametrize("op", list(GATES))
def test_the_russian_walk_names_each_gate_as_a_vental(op):
    step = row_steps(GATES[op])[0]
    heading = format_step(step, None, "ru").splitlines()[0]
    assert heading.startswith(f"{lang.gate_phrase(step.op, 'ru')}: выход {name(step.output)} = ")
    assert lang.gate_phrase(step.op, "ru").startswith("вентиль ")


def test_no_chinese_message_glues_a_gate_to_a_chinese_character():
    glued = re.compile(f"{CHINESE}\\{{(?:gate|op)(?:_phrase)?\\}}|\\{{(?:gate|op)\\}}{CHINESE}")
    for entry in polib.pofile(str(lang.catalogue("zh"))):
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            assert not glued.search(text), text
