"""The playground's Python side: the bridge's answers equal `explain --json`'s, the build's site, the command.

The page itself, in headless Chromium, is tested in test_playground_browser.py.
"""

import contextlib
import io
import json
import subprocess
import sys
import threading
import urllib.request
import zipfile

import pytest
from conftest import ADD_MUL, MAX_CIRCUIT, NEURON

from gategrad.cli import main
from gategrad.engine import fmt
from gategrad.explain import lang
from gategrad.playground import bridge, build, expression, serve, ui

CIRCUITS = [ADD_MUL, MAX_CIRCUIT, NEURON]


def explain_json(expr, values, *more):
    """What `gategrad explain EXPR NAME=VALUE ... --json` prints, read back."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["explain", expr, *(f"{n}={v!r}" for n, v in values.items()), "--json", *more]) == 0
    return json.loads(out.getvalue())


def ask(lab, action, **args):
    return json.loads(bridge.handle(json.dumps({"lab": lab, "action": action, "args": args})))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    build.build(folder)
    return folder


@pytest.mark.parametrize("code", ["en", "zh", "ru"])
@pytest.mark.parametrize("circuit", CIRCUITS, ids=["add_mul", "max", "neuron"])
def test_the_run_is_explain_json(circuit, code):
    expr, values = circuit
    reply = ask("expr", "run", expression=expr, values={n: repr(v) for n, v in values.items()}, lang=code)
    assert reply["ok"]
    assert reply["result"]["report"] == explain_json(expr, values, "--lang", code)


def test_each_gradient_as_explain_writes_it_and_at_full_precision():
    expr, values = NEURON
    result = expression.run(expr, {n: repr(v) for n, v in values.items()})
    grads = explain_json(expr, values)["grads"]
    assert [g["name"] for g in result["grads"]] == list(grads)
    assert [float(g["value"]) for g in result["grads"]] == list(grads.values())
    assert [g["text"] for g in result["grads"]] == [fmt(g) for g in grads.values()]
    assert result["grads"][0] == {"name": "w0", "text": "-0.1966", "value": "-0.19661193324148185"}


def test_frames_are_the_steppers_with_the_current_gate_marked():
    expr, values = MAX_CIRCUIT
    result = expression.run(expr, {n: repr(v) for n, v in values.items()}, lang="zh")
    frames = result["frames"]
    assert len(frames) == 5
    assert frames[0]["heading"] == "前向传播" and "gate gg-active" not in frames[0]["dot"]
    assert frames[1]["heading"] == "反向传播，第 1 个门（共 4 个）：乘法门"
    assert all(frame["dot"].count('class="gate gg-active"') == 1 for frame in frames[1:])
    sentences = [s["explanation"] for s in result["report"]["steps"]]
    assert [f["caption"] for f in frames[1:]] == [f"第 {k} 步：{s}" for k, s in enumerate(sentences, start=1)]


def test_a_name_without_a_value_starts_at_1_and_unused_values_are_dropped():
    result = expression.run("x*y", {"x": "3", "z": "5"})
    assert result["inputs"] == [{"name": "x", "value": "3.0"}, {"name": "y", "value": "1.0"}]
    assert [g["text"] for g in result["grads"]] == ["1", "3"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"expression": "x+", "values": {}}, "cannot read the expression: invalid syntax"),
        ({"expression": "x", "values": {"x": "abc"}}, "the value of x must be a number, got 'abc'"),
        ({"expression": "x", "values": {"x": "1"}, "lang": "xx"}, "unknown language 'xx'; known: en, ru, zh"),
        ({"expression": "x*x", "values": {}, "mistake": "typo"}, "unknown mistake 'typo'; known: "),
        ({"expression": "x", "values": {}, "mistake": "overwrite"}, "needs a circuit with a gate"),
    ],
)
def test_a_learners_mistake_is_a_one_line_error_reply(args, error):
    reply = ask("expr", "run", **args)
    assert reply["ok"] is False and error in reply["error"] and "\n" not in reply["error"]


def test_unknown_labs_and_actions_are_error_replies():
    assert ask("nowhere", "run") == {"ok": False, "error": "unknown lab 'nowhere'; known: expr, net, engine"}
    assert ask("expr", "fly") == {"ok": False, "error": "the expression lab has no action 'fly'"}
    assert json.loads(bridge.handle("{"))["ok"] is False


def test_the_misconception_lab_is_explain_mistakes():
    result = expression.run("x*x + x", {"x": "3"}, lang="ru", mistake="overwrite")
    cli = explain_json("x*x + x", {"x": 3.0}, "--mistake", "overwrite", "--lang", "ru")
    assert {k: v for k, v in result["mistake"].items() if k != "text"} == cli["mistake"]
    assert result["report"] == {k: v for k, v in cli.items() if k != "mistake"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["explain", "x*x + x", "x=3", "--mistake", "overwrite", "--lang", "ru"])
    assert result["mistake"]["text"] + "\n" == out.getvalue()


def test_predict_mode_checks_answers_as_the_stepper_does():
    # (x+y)*z at x=-2, y=5, z=-4: step 1, the mul gate, sends x+y the gradient -4 and z 3.
    expr, values = ADD_MUL
    texts = {n: repr(v) for n, v in values.items()}
    checked = expression.predict(expr, texts, 1, ["-4", "3,0"])
    assert [f["right"] for f in checked["feedback"]] == [True, True]
    assert checked["feedback"][0]["text"] == (
        "x+y: right, you said -4. It gets its local gradient -4 × the upstream 1 = -4."
    )
    assert [f["right"] for f in expression.predict(expr, texts, 1, ["\u22124.03", "2.9"])["feedback"]] == [
        True,
        False,
    ]
    assert expression.predict(expr, texts, 1, ["four", "3"]) == {
        "feedback": None,
        "note": "Type a number in each field (inf and nan are numbers too).",
    }
    # x*y at x=inf: x gets y's value 2, y gets x's value inf.
    at_inf = expression.predict("x*y", {"x": "inf", "y": "2"}, 1, ["2", "-inf"])
    assert [f["right"] for f in at_inf["feedback"]] == [True, False]


def test_predict_asks_which_x_when_a_gate_has_it_twice():
    question = expression.run("x*x", {"x": "3"}, lang="zh")["predict"][0]
    assert question["fields"] == ["x（第 1 个输入） 得到", "x（第 2 个输入） 得到"]


@pytest.mark.parametrize("code", ["zh", "ru"])
def test_every_word_of_the_page_is_translated(code):
    words = bridge.strings(code)
    assert set(words) >= set(ui.STRINGS)
    assert [text for text in ui.STRINGS if words[text] == text] == []


def test_the_engine_tab_says_when_the_referee_is_not_there_or_the_input_is_empty():
    assert ask("engine", "check", source="  ")["error"] == "paste a Python class first"
    assert "class name must be a Python name" in ask("engine", "check", source="x = 1", class_name="no name")["error"]


def test_the_browsers_path_loads_no_numpy():
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from gategrad.playground import bridge\n"
        "import json\n"
        "r = json.loads(bridge.handle(json.dumps({'lab': 'expr', 'action': 'run', "
        "'args': {'expression': 'tanh(x)*y', 'values': {'x': '0.5', 'y': '2'}, 'lang': 'zh', "
        "'mistake': 'no-zero'}})))\n"
        "assert r['ok'], r\n"
        "print(sorted(m for m in ('tqdm', 'gategrad.replay') if m in sys.modules))"
    )  # gategrad.nn may load: it is light core now, and the pictures find a neuron's gates by nn.tags
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


def test_the_site_holds_the_page_pyodide_viz_and_python(site):
    for name in ("index.html", "app.js", "worker.js", "expr.js", "engine.js", "playground.css", "site.json"):
        assert (site / name).is_file()
    for name in build.PYODIDE_FILES:
        assert (site / "pyodide" / name).stat().st_size == (build.VENDOR / "pyodide" / name).stat().st_size
    assert (site / "viz" / "viz.js").is_file()
    words = json.loads((site / "site.json").read_text(encoding="utf-8"))
    assert words["languages"] == lang.languages() == ["en", "ru", "zh"]
    assert words["strings"]["zh"]["Expression"] == "表达式"
    assert words["labs"][0] == "expr" and words["labs"][-1] == "engine"


def test_python_zip_is_gategrads_sources_and_the_pure_python_packages(site):
    names = zipfile.ZipFile(site / "python.zip").namelist()
    tops = {n.split("/")[0] for n in names}
    assert {"gategrad", "polib.py", "graphviz", "hypothesis", "sortedcontainers"} <= tops
    assert "gategrad/engine/value.py" in names and "gategrad/playground/bridge.py" in names
    assert "gategrad/explain/locale/zh/LC_MESSAGES/gategrad.po" in names
    assert not [n for n in names if n.endswith((".so", ".pyd", ".pyc")) or "__pycache__" in n]
    assert not [n for n in names if n.startswith(("gategrad/playground/vendor", "gategrad/playground/web"))]
    assert not [n for n in names if n.startswith(("tests/", "gategrad/tests"))]


def test_the_build_without_its_assets_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(build, "VENDOR", tmp_path / "vendor")
    assert main(["playground", "--build", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: playground: the playground's assets are missing from ")
    assert "run `make setup`" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--port", "0"], "argument --port: a port is from 1 to 65535, got 0"),
        (["--port", "http"], "argument --port: expected a port number, got 'http'"),
        (["--build", ""], "argument --build: expected a file name, got an empty string"),
    ],
)
def test_bad_options_exit_2_with_one_line(argv, error, capsys):
    assert main(["playground", *argv]) == 2
    assert capsys.readouterr().err == f"error: gategrad playground: {error}\n"


def test_build_into_a_file_exits_2(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    assert main(["playground", "--build", str(tmp_path / "taken")]) == 2
    assert capsys.readouterr().err == f"error: playground: --build {tmp_path / 'taken'} is a file, not a folder\n"


def test_the_server_gives_wasm_its_type(site):
    httpd = serve.server(site, 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        types = {}
        for path in ("pyodide/pyodide.asm.wasm", "pyodide/pyodide.mjs", "app.js", "index.html"):
            with urllib.request.urlopen(f"{url}/{path}") as response:
                types[path] = response.headers["Content-Type"].split(";")[0]
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert types == {
        "pyodide/pyodide.asm.wasm": "application/wasm",
        "pyodide/pyodide.mjs": "text/javascript",
        "app.js": "text/javascript",
        "index.html": "text/html",
    }
