"""The misconception lab: each mistaken walk's numbers, recomputed by hand, and `explain --mistake`."""

import json
import re
from collections import Counter

import pytest
from conftest import chinese_gate, row_steps

from gategrad.cli import main
from gategrad.engine import GATES
from gategrad.engine.gates import name
from gategrad.explain import mistakes
from gategrad.explain.expr import build
from gategrad.explain.walkthrough import walk


def lab(expression, values, mistake):
    circuit = build(expression, values, share=True)
    return circuit, mistakes.compare(circuit.output, walk(circuit.output), mistake)


def wrong_grads(circuit, result):
    return {n: result.wrong.grads[v] for n, v in circuit.inputs.items()}


def explain(capsys, *argv):
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# x*x + x at x = 3: d/dx = 2x + 1 = 7, reaching x along three paths (1 from the add, 3 and 3 from the mul).


def test_overwrite_keeps_only_the_last_path_of_x_times_x_plus_x():
    circuit, result = lab("x*x + x", {"x": 3.0}, "overwrite")
    # step 1, the add: x = 1; step 2, the mul writes x = 3 twice, replacing the 1.
    assert wrong_grads(circuit, result) == {"x": 3.0}
    assert result.right.grads[circuit.inputs["x"]] == 7.0
    assert result.divergence.step == 2
    assert result.divergence.input is circuit.inputs["x"]
    assert (result.divergence.now, result.divergence.right) == (3.0, 7.0)
    # Both losses are named, and they add up: 3 kept + 3 of the first write + 1 held before = 7.
    assert result.divergence.explanation == (
        "The mul gate x*x has x as an input twice and writes its gradient with = instead of +=: the second write "
        "replaces the first and what x held, so x holds 3, and both the first write's 3 and the 1 it held before "
        "this gate are lost; += gives 7."
    )


def test_overwrite_inside_one_gate_with_the_same_input_twice():
    circuit, result = lab("x*x", {"x": 3.0}, "overwrite")
    assert wrong_grads(circuit, result) == {"x": 3.0}  # 3, then 3 again; += gives 3 + 3 = 6
    assert result.divergence.step == 1
    assert result.divergence.explanation == (
        "The mul gate x*x has x as an input twice and writes its gradient with = instead of +=: the second write "
        "replaces the first, so x holds 3 and the first write's 3 is lost; += gives 6."
    )


def test_no_sort_lets_x_times_y_go_before_x_times_y_times_z_reports():
    # f = x*y + x*y*z at 2, 3, 4, x*y one gate: right df/dx = y + y*z = 15, df/dy = x + x*z = 10, df/dz = 6.
    # First reached from the output: the add, then x*y (passes on 1 to x and y), then x*y*z (adds z = 4 to
    # x*y, too late).
    circuit, result = lab("x*y + x*y*z", {"x": 2.0, "y": 3.0, "z": 4.0}, "no-sort")
    assert {n: result.right.grads[v] for n, v in circuit.inputs.items()} == {"x": 15.0, "y": 10.0, "z": 6.0}
    assert wrong_grads(circuit, result) == {"x": 3.0, "y": 2.0, "z": 6.0}
    assert [s.output.label for s in result.wrong.steps] == ["x*y + x*y*z", "x*y", "x*y*z"]
    assert result.divergence.step == 2
    assert result.divergence.explanation == (
        "The mul gate x*y passes on 1, but its gradient is 5: the walk reached it along one path and passed it "
        "on before the gate x*y*z had reported, so x holds 3 where the right walk has 15."
    )


def test_no_sort_agrees_where_only_inputs_are_shared():
    circuit, result = lab("x*x + x", {"x": 3.0}, "no-sort")
    assert result.divergence is None
    assert wrong_grads(circuit, result) == {"x": 7.0}


def test_no_zero_doubles_every_input_from_the_first_step_that_reaches_it():
    circuit, result = lab("x*x + x", {"x": 3.0}, "no-zero")
    assert wrong_grads(circuit, result) == {"x": 14.0}  # 7 left by the first call, plus this call's 7
    assert result.wrong.start[circuit.inputs["x"]] == 7.0
    assert result.divergence.step == 1  # the add gives x 1 on top of the 7: 8 where a fresh walk has 1
    assert (result.divergence.now, result.divergence.right) == (8.0, 1.0)
    assert "x still holds 7 from the first backward()" in result.divergence.explanation


def test_no_zero_on_the_max_circuit_doubles_each_gradient():
    circuit, result = lab("2*(x*y + max(z, w))", {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0}, "no-zero")
    assert wrong_grads(circuit, result) == {"x": -16.0, "y": 12.0, "z": 4.0, "w": 0.0}


def test_recursive_walks_a_shared_diamond_once_per_path():
    # f = d*2 + d*3 with d = x*2 + x*3 at x = 1: right df/dx = 5 * 5 = 25.
    # The recursion walks d first from d*2 with 2 (d then holds 2, not 5): d*2 and x*3... each get 2;
    # then from d*3 (d holds 5) it walks d again with all 5: x gets 2*2 + 3*2 + 2*7 + 3*7 = 45.
    circuit, result = lab("(x*2 + x*3)*2 + (x*2 + x*3)*3", {"x": 1.0}, "recursive")
    assert result.right.grads[circuit.inputs["x"]] == 25.0
    assert wrong_grads(circuit, result) == {"x": 45.0}
    assert (len(result.right.steps), len(result.wrong.steps)) == (6, 9)
    assert [s.output.label for s in result.wrong.steps].count("x*2 + x*3") == 2
    assert result.divergence.step == 3
    assert result.divergence.explanation.startswith("The recursion reaches the add gate x*2 + x*3 along one path")
    assert "passing on 2 where its gradient is 5" in result.divergence.explanation


def test_recursive_walking_a_gate_again_resends_what_it_holds():
    # f = (x*y)*2 + x*y at 2, 3: right df/dx = 3y = 9, df/dy = 3x = 6. The recursion walks x*y from the
    # mul (holding 1 + 2 = 3, its whole gradient), then from the add once more: x and y get their share twice.
    circuit, result = lab("x*y*2 + x*y", {"x": 2.0, "y": 3.0}, "recursive")
    assert wrong_grads(circuit, result) == {"x": 18.0, "y": 12.0}
    assert result.divergence.step == 4
    assert result.divergence.explanation == (
        "The recursion walks the mul gate x*y again, visit 2 along another path, and sends down its whole "
        "gradient so far, 3, once more: x holds 18 where the right walk has 9."
    )


def test_the_recursions_steps_double_with_each_diamond():
    # n diamonds: the sorted walk visits 3n gates; the recursion walks diamond k (from the output) 2**(k-1)
    # times, except the last one, which sits on the input x: 3 * (2**n - 1) in all.
    assert mistakes.step_counts(mistakes.recursive_walk, (1, 2, 3, 10, 12, 15)) == [
        (1, 3, 3),
        (2, 6, 9),
        (3, 9, 21),
        (10, 30, 3069),
        (12, 36, 12285),
        (15, 45, 98301),
    ]


def test_the_sorted_walk_is_the_engines_backward():
    circuit = build("2*(x*y + max(z, w))", {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0})
    taught = mistakes.sorted_walk(circuit.output)
    circuit.output.backward()
    assert {n: taught.grads[v] for n, v in circuit.inputs.items()} == {n: v.grad for n, v in circuit.inputs.items()}


def test_the_mistaken_walks_never_touch_the_circuits_gradients():
    circuit, result = lab("x*y + x*y*z", {"x": 2.0, "y": 3.0, "z": 4.0}, "recursive")
    assert [v.grad for v in circuit.inputs.values()] == [15.0, 10.0, 6.0]  # the engine's one walk, and only it


@pytest.mark.parametrize("name", mistakes.MISTAKES)
def test_each_mistakes_example_shows_it(name):
    expression, values = mistakes.MISTAKES[name].example
    circuit, result = lab(expression, values, name)
    assert result.divergence is not None
    assert wrong_grads(circuit, result) != {n: result.right.grads[v] for n, v in circuit.inputs.items()}


# ---- gategrad explain --mistake ----


def test_overwrite_json_gives_the_right_7_the_mistaken_3_and_step_2(capsys):
    code, out, err = explain(capsys, "x*x + x", "x=3", "--mistake", "overwrite", "--json")
    report = json.loads(out)
    assert (code, err) == (0, "")
    assert report["grads"] == {"x": 7.0}
    assert report["mistake"]["name"] == "overwrite"
    assert report["mistake"]["grads"] == {"x": 3.0}
    assert report["mistake"]["first_divergent_step"] == 2
    assert "so x holds 3, and both the first write's 3 and the 1" in report["mistake"]["explanation"]
    assert [i["holds"] for s in report["mistake"]["steps"] for i in s["inputs"]] == [1.0, 1.0, 3.0, 3.0]


def test_json_of_walks_that_agree_says_null_and_where_to_look(capsys):
    _, out, _ = explain(capsys, "x*x + x", "x=3", "--mistake", "no-sort", "--json")
    mistake = json.loads(out)["mistake"]
    assert mistake["first_divergent_step"] is None
    assert mistake["grads"] == {"x": 7.0}
    assert "Try: gategrad explain 'x*y + x*y*z' x=2 y=3 z=4 --mistake no-sort" in mistake["explanation"]


def test_recursive_json_counts_steps_on_chains_of_diamonds(capsys):
    _, out, _ = explain(capsys, "x*y*2 + x*y", "x=2", "y=3", "--mistake", "recursive", "--json")
    mistake = json.loads(out)["mistake"]
    assert len(mistake["steps"]) == 4
    assert mistake["diamond_chains"][-1] == {"diamonds": 12, "sorted_steps": 36, "mistake_steps": 12285}


def test_text_shows_both_walks_side_by_side_up_to_where_they_part(capsys):
    code, out, _ = explain(capsys, "x*x + x", "x=3", "--mistake", "overwrite")
    assert code == 0
    assert (
        "  1     add x*x + x passes on 1: x*x holds 1, x holds 1  add x*x + x passes on 1: x*x holds 1, x holds 1\n"
        in out
    )
    assert "  2     mul x*x passes on 1: x holds 7                   mul x*x passes on 1: x holds 3" in out
    assert "<- here they part" in out
    assert "\nStep 2: The mul gate x*x has x as an input twice and writes its gradient with = instead of +=" in out
    assert out.endswith("  input  right  overwrite\n  x      7      3\n")
    assert not any(line != line.rstrip() for line in out.splitlines())


def test_recursive_text_has_the_step_counts(capsys):
    _, out, _ = explain(capsys, "x*y*2 + x*y", "x=2", "y=3", "--mistake", "recursive")
    assert "Steps: the sorted walk takes 3, the recursive walk 4." in out
    assert "  12        36           12285\n" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x*x", "x=3", "--mistake", "grad-equals"], "(choose from 'overwrite', 'no-sort', 'no-zero', 'recursive')"),
        (["x", "x=3", "--mistake", "overwrite"], "--mistake needs a circuit with a gate; 'x' is a lone input"),
        (["x*x", "x=3", "--mistake", "overwrite", "--html", "page.html"], "it does not draw (--html, --svg-dir)"),
        (
            ["x*x", "x=3", "--mistake", "overwrite", "--lang", "fr"],
            "invalid choice: 'fr' (choose from 'en', 'ru', 'zh')",
        ),
        (["x" + "*1.5" * 1500, "x=1", "--mistake", "recursive"], "deeper than Python's recursion limit"),
    ],
)
def test_refusals_are_one_line_and_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = explain(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


# ---- the lab in Chinese and Russian ----

OVERWRITE = ["x*x + x", "x=3", "--mistake", "overwrite"]


def numbers(text):
    return Counter(re.findall(r"-?\d+(?:\.\d+)?", text))


def words_besides_names(text, names=("x*x + x", "x*x", "x")):
    for label in names:  # the longest first, as each contains the next
        text = text.replace(label, "")
    return re.findall(r"[A-Za-z]+", text)


@pytest.mark.parametrize("code", ["zh", "ru"])
def test_the_overwrite_lab_has_no_english_word_left_and_the_same_numbers(capsys, code):
    _, english, _ = explain(capsys, *OVERWRITE)
    status, out, err = explain(capsys, *OVERWRITE, "--lang", code)
    assert (status, err) == (0, "")
    assert words_besides_names(out) == []
    assert numbers(out) == numbers(english)
    assert out.splitlines()[-1].split() == ["x", "7", "3"]
    (parting,) = [line for line in out.splitlines() if "<-" in line]
    assert parting.split()[0] == "2"


def test_the_chinese_lab_says_why_x_holds_3(capsys):
    _, out, _ = explain(capsys, *OVERWRITE, "--lang", "zh")
    assert out.startswith("误区实验：在 x*x + x 上演示“覆盖”\n  错误：每个门用 = 而不是 += 把")
    assert "  2     乘法门 x*x 传回 1：x 的梯度为 7                      乘法门 x*x 传回 1：x 的梯度为 3" in out
    assert (
        "\n第 2 步：乘法门 x*x 有两个输入都是 x，而这个门用 = 而不是 += 写入梯度：第二次写入覆盖了第一次写入"
        "和 x 原有的梯度，所以 x 的梯度是 3，第一次写入的 3 和这个门之前已累积的 1 都丢失了；用 += 应得 7。\n" in out
    )
    assert out.endswith("两种遍历都走完后的梯度：\n  输入  正确  覆盖\n  x     7     3\n")


def test_the_russian_lab_says_why_x_holds_3(capsys):
    _, out, _ = explain(capsys, *OVERWRITE, "--lang", "ru")
    assert out.startswith("Лаборатория ошибок: «перезапись» на примере x*x + x\n  Ошибка: каждый вентиль")
    assert "  1    вентиль x*x + x (сложение) передаёт назад 1: градиент x*x — 1, градиент x — 1  " in out
    assert (
        "\nШаг 2: x дважды входит в вентиль x*x (умножение), а вентиль записывает градиент x через = вместо +=: "
        "вторая запись затирает и первую, и то, что было накоплено раньше, поэтому градиент x равен 3, а потеряны "
        "и вклад первой записи, 3, и значение 1, накопленное до этого вентиля; с += было бы 7.\n" in out
    )
    assert out.endswith("  вход  верный  перезапись\n  x     7       3\n")


def test_the_json_keeps_its_keys_and_numbers_and_says_why_in_the_language(capsys):
    _, english, _ = explain(capsys, *OVERWRITE, "--json")
    _, russian, _ = explain(capsys, *OVERWRITE, "--json", "--lang", "ru")
    en, ru = json.loads(english)["mistake"], json.loads(russian)["mistake"]
    assert set(ru) == set(en)
    same = ("name", "grads", "first_divergent_step", "steps")
    assert {k: ru[k] for k in same} == {k: en[k] for k in same}
    assert (ru["name"], ru["grads"], ru["first_divergent_step"]) == ("overwrite", {"x": 3.0}, 2)
    assert ru["explanation"].startswith("x дважды входит в вентиль x*x (умножение), а вентиль записывает градиент x")
    assert ru["summary"].startswith("каждый вентиль присваивает градиенту входа")


def test_the_python_lab_takes_lang_and_keeps_english_by_default():
    circuit, result = lab("x*x", {"x": 3.0}, "overwrite")
    assert result.divergence.explain() == result.divergence.explanation == result.divergence.explain("en")
    assert result.divergence.explain("zh") == (
        "乘法门 x*x 有两个输入都是 x，而这个门用 = 而不是 += 写入梯度：第二次写入覆盖了第一次，"
        "所以 x 的梯度是 3，第一次写入的 3 丢失了；用 += 应得 6。"
    )
    assert result.divergence.explain("ru") == (
        "x дважды входит в вентиль x*x (умножение), а вентиль записывает градиент x через = вместо +=: вторая "
        "запись затирает первую, поэтому градиент x равен 3, а вклад первой записи, 3, потерян; с += было бы 6."
    )
    text = mistakes.format_lab(result, "x*x", circuit.inputs, "ru")
    assert text.splitlines()[0] == "Лаборатория ошибок: «перезапись» на примере x*x"
    with pytest.raises(ValueError, match="unknown language 'fr'; known: en, ru, zh"):
        mistakes.format_lab(result, "x*x", circuit.inputs, "fr")


def test_gates_not_yet_reported_are_listed_with_the_languages_and(capsys):
    circuit, result = lab("x*y*2 + x*y*3 + x*y", {"x": 2.0, "y": 3.0}, "no-sort")
    assert "before the gates x*y*3 and x*y*2 had reported" in result.divergence.explanation
    assert "раньше, чем пришли вклады от вентилей x*y*3 и x*y*2," in result.divergence.explain("ru")
    assert "在 x*y*3 和 x*y*2 传来梯度之前" in result.divergence.explain("zh")


@pytest.mark.parametrize("code", ["zh", "ru"])
def test_the_recursive_lab_counts_the_same_steps_in_every_language(capsys, code):
    argv = ["x*y*2 + x*y", "x=2", "y=3", "--mistake", "recursive"]
    _, english, _ = explain(capsys, *argv)
    _, out, _ = explain(capsys, *argv, "--lang", code)
    assert numbers(out) == numbers(english)
    names = ("x*y*2 + x*y", "x*y*2", "x*y", "x", "y", "v*2 + v*3", "v")
    assert set(words_besides_names(out, names)) == {"micrograd", "backward", "n"}  # code's names and the math's n
    assert out.splitlines()[-1].split() == ["12", "36", "12285"]


@pytest.mark.parametrize("code", ["zh", "ru"])
def test_walks_that_agree_say_so_and_give_the_command_to_try(capsys, code):
    _, out, _ = explain(capsys, "x*x + x", "x=3", "--mistake", "no-sort", "--lang", code)
    assert "gategrad explain 'x*y + x*y*z' x=2 y=3 z=4 --mistake no-sort\n" in out
    assert "Try" not in out and "agree" not in out


@pytest.mark.parametrize("op", list(GATES))
def test_the_chinese_lab_names_each_gate_with_men_correctly_spaced(op):
    step = row_steps(GATES[op])[0]
    root, inputs = step.output, {name(i.value): i.value for i in step.inputs}
    text = mistakes.format_lab(mistakes.compare(root, walk(root), "overwrite"), name(root), inputs, "zh")
    assert f"  1     {chinese_gate(op)} {name(root)} 传回 1：" in text
