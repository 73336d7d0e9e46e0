"""`gategrad exercise`, from a teacher's side: make a pack for a roster, fill in answers, grade them.

Every number a sheet or key shows is recomputed here: the circuit from its expression with the parser,
the network with the textbook's formulas in plain floats, the bug with `check` itself.
"""

import csv
import json
import math
import re
from html import unescape
from pathlib import Path

import pytest

from gategrad.check import CheckError, check_file
from gategrad.cli import main
from gategrad.engine import topological_order
from gategrad.exercise import bug, grade_pack, new_pack
from gategrad.exercise.grade import Unreadable, parse_number
from gategrad.exercise.variant import is_hand_number, student_rng
from gategrad.explain import expr
from gategrad.explain.lang import translator
from gategrad.explain.walkthrough import walk

pytestmark = pytest.mark.needs_dot  # a circuit's sheet and key draw it

ROSTER = "id,name\nalice,Alice Liddell\nbob,Bob Dylan\nchen,Chen Li\n"


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def make(tmp_path: Path, roster: Path, kind: str, seed: int = 7, lang: str = "en", format: str = "html") -> Path:
    out = tmp_path / f"{kind}-{seed}-{lang}-{format}"
    assert new_pack(roster, kind, seed, lang, out, format) == ["alice", "bob", "chen"]
    return out


def key(pack: Path, student: str) -> dict:
    return json.loads((pack / "key" / f"{student}.json").read_text(encoding="utf-8"))


def sheet(pack: Path, student: str) -> str:
    return (pack / "sheets" / f"{student}.html").read_text(encoding="utf-8")


def fill(pack: Path, student: str, answers: dict) -> None:
    path = pack / "answers" / f"{student}.json"
    blank = json.loads(path.read_text(encoding="utf-8"))
    assert blank["student"] == student and set(answers) <= set(blank["answers"])
    blank["answers"].update(answers)
    path.write_text(json.dumps(blank), encoding="utf-8")


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def grades(pack: Path) -> list[dict[str, str]]:
    with open(pack / "grades.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# The pack


@pytest.mark.parametrize("kind", ["circuit", "net", "bug"])
def test_the_same_roster_and_seed_give_the_same_bytes_and_each_student_other_numbers(tmp_path, roster, kind):
    first, again = make(tmp_path, roster, kind), make(tmp_path / "again", roster, kind)
    assert files(first) == files(again)
    blank = json.loads((first / "answers" / "alice.json").read_text(encoding="utf-8"))
    assert blank == {"student": "alice", "answers": dict.fromkeys(key(first, "alice")["answers"])}
    sheets = {s: sheet(first, s) for s in ("alice", "bob", "chen")}
    bodies = {s: text.split('class="student"', 1)[1].split("</p>", 1)[1] for s, text in sheets.items()}
    assert len(set(bodies.values())) == 3


def test_a_students_variant_depends_on_the_seed_and_their_id_alone(tmp_path, roster):
    alone = tmp_path / "alone.csv"
    alone.write_text("id\nbob\n", encoding="utf-8")
    new_pack(alone, "circuit", 7, "en", tmp_path / "alone")
    pack = make(tmp_path, roster, "circuit")
    assert key(tmp_path / "alone", "bob") == key(pack, "bob")
    new_pack(alone, "circuit", 8, "en", tmp_path / "other-seed")
    assert key(tmp_path / "other-seed", "bob")["answers"] != key(pack, "bob")["answers"]


def test_the_roster_s_other_columns_are_kept_and_shown(tmp_path, roster):
    pack = make(tmp_path, roster, "circuit")
    rows = json.loads((pack / "pack.json").read_text(encoding="utf-8"))["students"]
    assert rows[1] == {"id": "bob", "name": "Bob Dylan"}
    assert "name: Bob Dylan" in sheet(pack, "bob")


# The circuit kind


def shown_circuit(page: str) -> tuple[str, dict[str, float], dict[str, str]]:
    """The expression, the inputs and the named intermediate values, as the sheet writes them."""
    expression = unescape(re.search(r'<code class="expression">f = (.*?)</code>', page)[1])
    inputs = re.search(r'<span class="inputs">(.*?)</span>', page)[1]
    values = {n: float(v) for n, v in re.findall(r"<code>(\w+) = (-?[\d.]+)</code>", inputs)}
    where = re.search(r'<ul class="where">(.*?)</ul>', page)[1]
    named = {n: unescape(e) for n, e in re.findall(r"<code>(\w+) = (.*?)</code>", where)}
    return expression, values, named


@pytest.mark.parametrize("student", ["alice", "bob", "chen"])
def test_a_circuit_key_is_the_gradient_of_the_expression_on_the_sheet(tmp_path, roster, student):
    pack = make(tmp_path, roster, "circuit")
    expression, values, named = shown_circuit(sheet(pack, student))
    circuit = expr.build(expression, values)
    steps = walk(circuit.output)
    nodes = {v.label: v for v in topological_order(circuit.output)}
    k = key(pack, student)
    expected = {f"df/d{n}": v.grad for n, v in circuit.inputs.items()}
    expected.update({f"df/d{n}": nodes[text].grad for n, text in named.items()})
    assert k["answers"] == pytest.approx(expected, abs=0)
    assert list(k["points"].values()) == [1] * len(expected)
    gates = [v for v in nodes.values() if v.children]
    assert 4 <= len(gates) <= 8
    assert set(values.values()) <= {k / 2 for k in range(-8, 9)}
    assert all(is_hand_number(v.data) and is_hand_number(v.grad) for v in nodes.values())
    solution = unescape(k["solution_html"])
    assert all(s.explanation in solution for s in steps)
    assert solution.count("<svg") == 1 and sheet(pack, student).count("<svg") == 1


def test_a_circuit_slip_is_a_classic_wrong_gradient_of_that_circuit(tmp_path, roster):
    pack = make(tmp_path, roster, "circuit")
    for student in ("alice", "bob", "chen"):
        k = key(pack, student)
        for item, slips in k["slips"].items():
            right = k["answers"][item]
            assert all(s["value"] != right for s in slips)
            sign = [s for s in slips if s["slip"] == "sign"]
            assert sign == ([] if right == 0 else [{"slip": "sign", "value": -right, "numbers": {}}])


# The net kind


def shown_table(page: str, css: str) -> list[list[str]]:
    body = re.search(rf'<table class="{css}">.*?<tbody>(.*?)</tbody>', page)[1]
    return [
        [unescape(re.sub("<.*?>", "", c)) for c in re.findall(r"<td>(.*?)</td>", row)]
        for row in body.split("</tr>")[:-1]
    ]


def textbook_net(page: str) -> dict[str, float]:
    """The network on the sheet, computed as the worked example does: forward, the deltas, the gradients."""
    x = {name: float(v) for name, v in shown_table(page, "inputs")}
    t = [float(v) for _, v in shown_table(page, "targets")]
    hidden = re.search(r"The hidden layer uses (\w+)", page)[1]
    act, slope = {
        "sigmoid": (lambda z: 1 / (1 + math.exp(-z)), lambda z, a: a * (1 - a)),
        "relu": (lambda z: max(z, 0.0), lambda z, a: 1.0 if z > 0 else 0.0),
    }[hidden]
    weights = [(w, source, to.split(", "), float(v)) for w, source, to, v in shown_table(page, "weights")]
    b1, b2 = (v for w, _, _, v in weights if w in ("b1", "b2"))
    into = {}
    for w, source, (to,), v in [row for row in weights if row[0].startswith("w")]:
        into.setdefault(to, []).append((w, source, v))
    net_h = {h: sum(v * x[s] for _, s, v in ws) + b1 for h, ws in into.items() if h.startswith("h")}
    out = {f"out_{h}": act(z) for h, z in net_h.items()}
    net_o = {o: sum(v * out[s] for _, s, v in ws) + b2 for o, ws in into.items() if o.startswith("o")}
    o = {name: 1 / (1 + math.exp(-z)) for name, z in net_o.items()}
    found = {name: o[name] for name in o}
    found["E"] = sum(0.5 * (tk - o[f"o{k + 1}"]) ** 2 for k, tk in enumerate(t))
    delta = {name: (o[name] - t[int(name[1:]) - 1]) * o[name] * (1 - o[name]) for name in o}
    for h, z in net_h.items():
        back = sum(delta[oname] * v for oname, ws in into.items() if oname in o for _, s, v in ws if s == f"out_{h}")
        delta[h] = slope(z, out[f"out_{h}"]) * back
    found.update({f"delta_{n}": d for n, d in delta.items()})
    for to, ws in into.items():
        for w, source, _ in ws:
            found[f"dE/d{w}"] = delta[to] * (x[source] if source in x else out[source])
    found["dE/db1"] = sum(delta[h] for h in net_h)
    found["dE/db2"] = sum(delta[n] for n in net_o)
    return found


@pytest.mark.parametrize("student", ["alice", "bob", "chen"])
def test_a_net_key_is_the_worked_example_s_arithmetic_on_the_sheet_s_numbers(tmp_path, roster, student):
    pack = make(tmp_path, roster, "net")
    k = key(pack, student)
    assert k["answers"] == pytest.approx(textbook_net(sheet(pack, student)), rel=1e-12, abs=1e-15)
    assert k["rule"] == "sig3"
    assert "3 significant digits" in sheet(pack, student)


def test_a_net_answer_is_right_within_one_unit_of_its_third_significant_digit(tmp_path, roster):
    pack = make(tmp_path, roster, "net")
    right = key(pack, "alice")["answers"]
    items = list(right)
    rounded, close, off = items[0], items[1], items[2]
    fill(
        pack,
        "alice",
        {
            rounded: float(f"{right[rounded]:.3g}"),
            close: right[close] + 0.9 * 10 ** (math.floor(math.log10(abs(right[close]))) - 2),
            off: right[off] + 2.5 * 10 ** (math.floor(math.log10(abs(right[off]))) - 2),
        },
    )
    grade_pack(pack)
    row = grades(pack)[0]
    assert (row[rounded], row[close], row[off], row["score"]) == ("1", "1", "0", "2")


# The bug kind


def test_the_unbroken_file_agrees_with_check(tmp_path):
    for seed in range(4):
        right, _ = bug.source(student_rng("bug", seed, "x"))
        path = tmp_path / f"right{seed}.py"
        path.write_text(right, encoding="utf-8")
        assert check_file(path).ok


@pytest.mark.parametrize("plant", bug.PLANTS, ids=lambda p: p.wrong)
def test_each_planted_mistake_is_diagnosed_by_check_as_its_kind(tmp_path, plant):
    for seed in range(20):
        right, hidden = bug.source(student_rng("bug", seed, "x"))
        if hidden in plant.hidden:
            break
    path = tmp_path / "planted.py"
    path.write_text(right.replace(plant.right, plant.wrong), encoding="utf-8")
    report = check_file(path)
    first = report.first_divergence.name
    assert {c.name: c.diagnosis.kind for c in report.checked if c.name == first} == {first: plant.kind}


def test_a_bug_key_is_check_s_diagnosis_of_the_student_s_file_and_the_planted_line(tmp_path, roster):
    pack = make(tmp_path, roster, "bug")
    for student in ("alice", "bob", "chen"):
        k = key(pack, student)
        path = pack / "files" / f"{student}.py"
        report = check_file(path)
        diagnosis = {c.name: c.diagnosis for c in report.checked}[report.first_divergence.name]
        assert k["answers"]["kind"] == diagnosis.kind
        line = path.read_text(encoding="utf-8").splitlines()[k["answers"]["line"] - 1].strip()
        assert any(line == p.wrong and p.kind == diagnosis.kind for p in bug.PLANTS)
        assert diagnosis.message in unescape(k["solution_html"])
        assert k["points"] == {"kind": 2, "line": 1}


# Grading


def test_right_answers_get_every_point_and_the_csv_has_a_column_per_item(tmp_path, roster):
    pack = make(tmp_path, roster, "circuit")
    k = key(pack, "alice")
    fill(pack, "alice", {item: str(v) for item, v in k["answers"].items()})
    grade_pack(pack)
    header = (pack / "grades.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:3] == ["id", "score", "max"]
    items = set(k["answers"]) | set(key(pack, "bob")["answers"]) | set(key(pack, "chen")["answers"])
    assert set(header[3:]) == items and len(header[3:]) == len(items)
    alice, bob, _ = grades(pack)
    assert (alice["score"], alice["max"]) == (str(len(k["answers"])), str(len(k["answers"])))
    assert (bob["score"], bob["max"]) == ("0", str(len(key(pack, "bob")["answers"])))


def test_fractions_a_decimal_comma_and_a_typeset_minus_are_read():
    assert parse_number("3/4") == 0.75
    assert parse_number("−1,5") == -1.5
    assert parse_number(" 2 ") == 2.0
    assert parse_number(-0.25) == -0.25
    for unreadable in ("1e400", 10**400, "1/0", "nan", True, None, "½"):
        with pytest.raises(Unreadable):
            parse_number(unreadable)


def test_a_classic_slip_is_named_in_the_feedback_in_the_class_s_language(tmp_path, roster):
    pack = make(tmp_path, roster, "circuit", lang="ru")
    k = key(pack, "bob")
    item, slips = next((i, s) for i, s in k["slips"].items() if s[0]["slip"] == "sign")
    fill(pack, "bob", {item: slips[0]["value"]})
    grade_pack(pack)
    page = (pack / "feedback" / "bob.html").read_text(encoding="utf-8")
    said = translator("ru").gettext("{item}: your {yours} has the right size but the wrong sign.")
    assert unescape(said.format(item=item, yours=json.dumps(slips[0]["value"]))) in unescape(page)
    assert '<html lang="ru">' in page
    assert grades(pack)[1][item] == "0"


def test_an_own_value_slip_names_the_mul_gate(tmp_path, roster):
    pack = make(tmp_path, roster, "net")
    k = key(pack, "chen")
    item, slip = next((i, s) for i, ss in k["slips"].items() for s in ss if s["slip"] == "own_value")
    fill(pack, "chen", {item: f"{slip['value']:.3g}"})
    grade_pack(pack)
    page = unescape((pack / "feedback" / "chen.html").read_text(encoding="utf-8"))
    assert f"multiplies by {slip['numbers']['input']}'s own value {slip['numbers']['value']}" in page


def test_unreadable_answers_count_zero_and_are_listed_and_a_missing_file_grades_as_zero(tmp_path, roster):
    pack = make(tmp_path, roster, "circuit")
    k = key(pack, "alice")
    first, second, *rest = k["answers"]
    fill(pack, "alice", {first: "about two", second: [1, 2], **{i: k["answers"][i] for i in rest}})
    (pack / "answers" / "bob.json").unlink()
    (pack / "answers" / "chen.json").write_text("{not json", encoding="utf-8")
    results = {g.student: g for g in grade_pack(pack)}
    assert results["alice"].unreadable == {first: "about two", second: "[1, 2]"}
    assert results["alice"].score == len(rest)
    assert results["bob"].missing_file and results["bob"].score == 0
    assert results["chen"].missing_file and results["chen"].score == 0
    page = unescape((pack / "feedback" / "alice.html").read_text(encoding="utf-8"))
    assert f"count 0: {first} (about two), {second} ([1, 2])." in page


def test_a_bug_answer_is_graded_by_kind_and_line_with_partial_credit(tmp_path, roster):
    pack = make(tmp_path, roster, "bug")
    k = key(pack, "alice")["answers"]
    fill(pack, "alice", {"kind": k["kind"].upper(), "line": k["line"] + 1})
    fill(pack, "bob", {"kind": "nonsense", "line": str(key(pack, "bob")["answers"]["line"])})
    grade_pack(pack)
    alice, bob, _ = grades(pack)
    assert (alice["kind"], alice["line"], alice["score"], alice["max"]) == ("2", "0", "2", "3")
    assert (bob["kind"], bob["line"], bob["score"]) == ("0", "1", "1")


# The notebook route


def test_a_notebook_pack_is_filled_in_its_answer_cells_and_graded(tmp_path, roster):
    nbformat = pytest.importorskip("nbformat")
    pack = make(tmp_path, roster, "circuit", format="notebook")
    assert not (pack / "answers").exists()
    path = pack / "notebooks" / "alice.ipynb"
    nb = nbformat.read(path, as_version=4)
    k = key(pack, "alice")["answers"]
    cells = [c for c in nb.cells if "gategrad" in c.metadata]
    assert [c.metadata["gategrad"]["item"] for c in cells] == list(k)
    for c in cells[1:]:
        c.source = f"{k[c.metadata['gategrad']['item']]}  # done"
    nbformat.write(nb, path)
    (result, *_) = grade_pack(pack)
    assert (result.score, result.maximum, result.unreadable) == (len(k) - 1, len(k), {})
    assert grades(pack)[0][cells[0].metadata["gategrad"]["item"]] == "0"


# The command line


def test_new_and_grade_on_the_command_line(tmp_path, roster, capsys):
    out = tmp_path / "pack"
    args = ["exercise", "new", "--kind", "net", "--students", str(roster), "--seed", "3", "--lang", "zh"]
    assert main([*args, "--out", str(out)]) == 0
    assert translator("zh").gettext("Backpropagation by hand: a small network") in sheet(out, "alice")
    assert main(["exercise", "grade", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[1:4] == ["alice: 0 / 17", "bob: 0 / 17", "chen: 0 / 17"]


@pytest.mark.parametrize(
    ("roster_text", "argv", "said"),
    [
        ("name\nalice\n", [], "has no id column"),
        ("id\nalice\nalice\n", [], "line 3: the id 'alice' is there twice"),
        ("id\n../up\n", [], "cannot name a file"),
        ("id\nalice\n", ["--kind", "graph"], "invalid choice: 'graph'"),
    ],
)
def test_bad_input_to_new_exits_2_with_one_line(tmp_path, capsys, roster_text, argv, said):
    path = tmp_path / "roster.csv"
    path.write_text(roster_text, encoding="utf-8")
    options = {"--kind": "circuit", "--students": str(path), "--seed": "1", "--out": str(tmp_path / "out")}
    options.update(dict(zip(argv[::2], argv[1::2])))
    assert main(["exercise", "new", *(x for pair in options.items() for x in pair)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err and "Traceback" not in err


def test_grading_a_folder_that_is_not_a_pack_exits_2_with_one_line(tmp_path, capsys):
    assert main(["exercise", "grade", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: exercise grade: {tmp_path} is not an exercise pack: it has no readable pack.json\n"


def test_new_refuses_a_folder_that_holds_something_else(tmp_path, roster, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("...", encoding="utf-8")
    argv = [
        "exercise",
        "new",
        "--kind",
        "bug",
        "--students",
        str(roster),
        "--seed",
        "1",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 2
    assert "is there and is not an exercise pack" in capsys.readouterr().err


def test_the_teaching_page_s_commands_run(tmp_path, roster, monkeypatch, capsys):
    """docs/teaching.md's shell block, run on a roster: each pack is written, and the graded one has grades."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "teaching.md").read_text(encoding="utf-8")
    block = re.search(r"^```sh\n(.*?)^```", page, re.M | re.S)[1]
    monkeypatch.chdir(tmp_path)
    for line in block.splitlines():
        assert line.startswith("gategrad exercise ")
        assert main(line.split()[1:]) == 0
    assert [row["id"] for row in grades(tmp_path / "pack")] == ["alice", "bob", "chen"]
    assert sorted(p.name for p in (tmp_path / "pack-bug" / "notebooks").iterdir()) == [
        "alice.ipynb",
        "bob.ipynb",
        "chen.ipynb",
    ]


def test_grading_a_pack_with_a_key_that_is_not_one_exits_2(tmp_path, roster, capsys):
    pack = make(tmp_path, roster, "net")
    (pack / "key" / "bob.json").write_text('{"answers": {}}', encoding="utf-8")
    assert main(["exercise", "grade", str(pack)]) == 2
    assert (
        capsys.readouterr().err
        == f"error: exercise grade: {pack}/key/bob.json is not a key that gategrad exercise new wrote\n"
    )


def test_a_relu_layer_dead_on_every_sample_is_drawn_again(tmp_path):
    """Student s0033 of seed 2026 first draws a relu layer that no sample turns on; check cannot name its a1."""
    right, hidden = bug.source(student_rng("bug", 2026, "s0033"))
    path = tmp_path / "dead.py"
    path.write_text(right, encoding="utf-8")
    with pytest.raises(CheckError, match="'a1' that names nothing"):
        check_file(path)
    roster = tmp_path / "roster.csv"
    roster.write_text("id\ns0033\n", encoding="utf-8")
    new_pack(roster, "bug", 2026, "en", tmp_path / "pack")
    report = check_file(tmp_path / "pack" / "files" / "s0033.py")
    kind = {c.name: c.diagnosis for c in report.checked}[report.first_divergence.name].kind
    assert (hidden, key(tmp_path / "pack", "s0033")["answers"]["kind"]) == ("relu", kind)
