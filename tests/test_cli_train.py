"""`gategrad train` and `gategrad eval`: their numbers, their files, and one-line errors."""

import io
import json
import os
import random
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from gategrad import nn
from gategrad.cli import main
from gategrad.data import make_moons
from gategrad.viz import viewer

SMALL_MOONS = ["train", "--dataset", "moons", "--hidden", "8", "--steps", "30", "--quiet"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def printed(out):
    """The `name: value` lines of the output, as a dict."""
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_train_prints_the_loss_and_accuracy_of_the_documented_defaults(capsys):
    code, out, err = run(capsys, *SMALL_MOONS)
    assert code == 0 and err == ""
    assert list(printed(out)) == ["loss", "accuracy"]

    # The same run on the API: hinge on labels -1/+1, SGD lr 1.0 falling to 0.1, 1e-4 L2, seed 0.
    X, y = make_moons(100, noise=0.1, seed=0)
    labels = [2 * c - 1 for c in y]
    model = nn.MLP(2, [8, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=1.0)
    nn.fit(model, X, labels, nn.hinge_loss, opt, 30, l2=1e-4, lr_schedule=lambda k: 1.0 - 0.9 * k / 30, quiet=True)
    scores = [model(x) for x in X]
    loss = nn.hinge_loss(scores, labels) + nn.l2_penalty(model.parameters(), 1e-4)
    assert printed(out) == {"loss": f"{loss.data:.6g}", "accuracy": f"{nn.accuracy(scores, labels):.2f}"}
    assert printed(out)["accuracy"] == "0.86"  # measured


def test_train_learns_xor_with_a_tanh_net_bce_and_adam(capsys):
    argv = ["train", "--dataset", "xor", "--hidden", "4", "--activation", "tanh", "--loss", "bce"]
    code, out, _ = run(capsys, *argv, "--optimizer", "adam", "--lr", "0.1", "--quiet")
    assert code == 0
    assert printed(out)["accuracy"] == "1.00"
    assert float(printed(out)["loss"]) < 0.05  # measured: 0.0179


@pytest.mark.parametrize(
    "argv",
    [
        SMALL_MOONS,
        [*SMALL_MOONS, "--loss", "mse", "--optimizer", "adam", "--batch-size", "16"],
        [*SMALL_MOONS, "--loss", "bce", "--optimizer", "adamw", "--activation", "tanh"],
        ["train", "--dataset", "spiral", "--hidden", "8", "--steps", "20", "--quiet", "--loss", "cross_entropy"],
        ["train", "--dataset", "spiral", "--hidden", "8", "--steps", "20", "--quiet", "--loss", "mse"],
    ],
    ids=["hinge", "mse adam minibatches", "bce adamw", "cross_entropy", "one-hot mse"],
)
def test_train_prints_the_same_numbers_by_replay_and_by_the_scalar_engine(capsys, argv):
    code, replayed, _ = run(capsys, *argv, "--engine", "replay")
    assert code == 0
    code, scalar, _ = run(capsys, *argv, "--engine", "scalar")
    assert code == 0
    assert printed(replayed) == printed(scalar)


def test_a_saved_model_evaluates_to_the_accuracy_train_printed(capsys, tmp_path):
    path = tmp_path / "model.json"
    code, out, _ = run(capsys, *SMALL_MOONS, "--save", str(path))
    assert code == 0 and out.splitlines()[-1] == f"saved the model to {path}"
    assert nn.load(path).config() == {"nin": 2, "nouts": [8, 1], "activation": "relu"}

    code, evaluated, err = run(capsys, "eval", "--model", str(path), "--dataset", "moons")
    assert code == 0 and err == ""
    assert evaluated == f"accuracy: {printed(out)['accuracy']}\n"

    # Another seed draws fresh points from the same moons.
    X, y = make_moons(100, noise=0.1, seed=7)
    model = nn.load(path)
    expected = nn.accuracy([model(x) for x in X], y)
    _, fresh, _ = run(capsys, "eval", "--model", str(path), "--dataset", "moons", "--seed", "7")
    assert fresh == f"accuracy: {expected:.2f}\n"


def test_cross_entropy_and_one_hot_mse_use_one_output_per_class(capsys, tmp_path):
    for loss in ("cross_entropy", "mse"):
        path = tmp_path / f"{loss}.json"
        argv = ["train", "--dataset", "spiral", "--hidden", "4", "--steps", "3", "--loss", loss, "--quiet"]
        assert run(capsys, *argv, "--save", str(path))[0] == 0
        assert nn.load(path).config()["nouts"] == [4, 3]
        code, out, _ = run(capsys, "eval", "--model", str(path), "--dataset", "spiral")
        assert code == 0 and out.startswith("accuracy: ")


def test_plot_draws_a_png(capsys, tmp_path):
    path = tmp_path / "boundary.png"
    code, out, err = run(capsys, "train", "--dataset", "xor", "--hidden", "4", "--steps", "5", "--plot", str(path))
    assert code == 0, err
    assert out.splitlines()[-1] == f"saved the decision boundary to {path}"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_install_it(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    code, out, err = run(capsys, *SMALL_MOONS, "--plot", str(tmp_path / "b.png"))
    assert code == 2 and out == ""
    assert err == "error: train: --plot needs matplotlib; install it with: pip install 'gategrad[plot]'\n"


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_shows_on_a_terminal_unless_quiet(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["train", "--dataset", "xor", "--hidden", "2", "--steps", "4"]) == 0
    assert "4/4" in terminal.getvalue() and "loss=" in terminal.getvalue() and "accuracy=" in terminal.getvalue()
    terminal.truncate(0)
    assert main(["train", "--dataset", "xor", "--hidden", "2", "--steps", "4", "--quiet"]) == 0
    assert terminal.getvalue() == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["train", "--hidden", "16,x"],
            "argument --hidden: expected layer sizes such as 16,16, got '16,x'",
        ),
        (
            ["train", "--hidden", "16,0"],
            "argument --hidden: layer sizes must be at least 1, got '16,0'",
        ),
        (["train", "--steps", "0"], "argument --steps: must be at least 1, got 0"),
        (["train", "--lr", "nan"], "argument --lr: must be a finite number >= 0, got nan"),
        (["train", "--dataset", "iris"], "argument --dataset: invalid choice: 'iris'"),
        (["train", "--engine", "gpu"], "argument --engine: invalid choice: 'gpu' (choose from 'replay', 'scalar')"),
        (
            ["train", "--dataset", "spiral", "--loss", "hinge"],
            "--loss hinge needs two classes, the dataset has 3; use cross_entropy",
        ),
        (["train", "--batch-size", "101"], "--batch-size 101 is more than the 100 points of moons"),
        (
            ["train", "--save", "no/such/folder/m.json"],
            "--save no/such/folder/m.json: the folder no/such/folder does not exist",
        ),
        (
            ["train", "--record", "no/such/folder/run.html"],
            "--record no/such/folder/run.html: the folder no/such/folder does not exist",
        ),
        (
            ["train", "--record", "run.html", "--lang", "fr"],
            "argument --lang: invalid choice: 'fr' (choose from 'en', 'ru', 'zh')",
        ),
        (["eval", "--dataset", "moons"], "the following arguments are required: --model"),
        (
            ["eval", "--model", "no/such/model.json", "--dataset", "moons"],
            "cannot read the model file no/such/model.json: No such file or directory",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error: ") and message in err


def _model_text(tmp_path):
    nn.MLP(2, [3, 1], seed=1).save(tmp_path / "good.json")
    return (tmp_path / "good.json").read_text()


@pytest.mark.parametrize(
    "content, problem",
    [
        (lambda good: good[: len(good) // 2].encode(), "invalid or truncated JSON"),
        (lambda good: bytes(range(256)), "not UTF-8 text"),
        (lambda good: b'{"name": "not a model"}', 'no "format": "gategrad-model" field'),
        (lambda good: good.replace('"relu"', '"swish"').encode(), "activation must be one of relu, tanh"),
    ],
    ids=["truncated", "random-bytes", "foreign", "bad-architecture"],
)
def test_a_broken_model_file_exits_2_with_one_line_naming_it(capsys, tmp_path, content, problem):
    path = tmp_path / "broken.json"
    path.write_bytes(content(_model_text(tmp_path)))
    code, out, err = run(capsys, "eval", "--model", str(path), "--dataset", "moons")
    assert code == 2 and out == ""
    assert err.startswith(f"error: eval: {path}: not a gategrad model file (")
    assert problem in err and len(err.splitlines()) == 1


def test_a_model_that_does_not_fit_the_dataset_is_refused(capsys, tmp_path):
    nn.MLP(2, [3, 3], seed=1).save(tmp_path / "three.json")
    nn.MLP(3, [1], seed=1).save(tmp_path / "wide.json")
    _, _, err = run(capsys, "eval", "--model", str(tmp_path / "three.json"), "--dataset", "moons")
    assert err == f"error: eval: {tmp_path / 'three.json'}: the model has 3 outputs, moons has 2 classes\n"
    _, _, err = run(capsys, "eval", "--model", str(tmp_path / "three.json"), "--dataset", "spiral")
    assert err == ""
    nn.MLP(2, [3, 1], seed=1).save(tmp_path / "one.json")
    _, _, err = run(capsys, "eval", "--model", str(tmp_path / "one.json"), "--dataset", "spiral")
    assert err == f"error: eval: {tmp_path / 'one.json'}: the model has 1 output, spiral has 3 classes\n"
    _, _, err = run(capsys, "eval", "--model", str(tmp_path / "wide.json"), "--dataset", "xor")
    assert err == f"error: eval: {tmp_path / 'wide.json'}: the model takes 3 inputs, the points of xor have 2\n"


def test_the_console_command_reports_a_broken_file_without_a_traceback(tmp_path):
    path = tmp_path / "model.json"
    path.write_text('{"format": "gategrad-model", "version": 1, "model": "MLP"')
    result = subprocess.run(
        [sys.executable, "-m", "gategrad.cli", "eval", "--model", str(path), "--dataset", "moons"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: eval: {path}: not a gategrad model file (invalid or truncated JSON")
    assert len(result.stderr.splitlines()) == 1


def test_train_save_is_valid_json_with_every_parameter(capsys, tmp_path):
    path = tmp_path / "m.json"
    assert run(capsys, "train", "--dataset", "xor", "--hidden", "3", "--steps", "2", "--save", str(path))[0] == 0
    doc = json.loads(path.read_text())
    assert (doc["format"], doc["version"], doc["model"]) == ("gategrad-model", 2, "MLP")
    assert len(doc["parameters"]) == 3 * 3 + 4 * 1


def _eval_in_a_process(path):
    """`gategrad eval` on `path` in its own process (so a hang fails the test instead of stalling it)."""
    argv = [sys.executable, "-m", "gategrad.cli", "eval", "--model", str(path), "--dataset", "moons"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("kind", ["dev-zero", "symlink-to-dev-zero", "symlink-to-urandom", "fifo", "directory"])
def test_eval_refuses_what_is_not_a_regular_file_without_reading_it(tmp_path, kind):
    path = {"dev-zero": Path("/dev/zero"), "directory": tmp_path}.get(kind, tmp_path / "model.json")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind.startswith("symlink"):
        path.symlink_to("/dev/zero" if kind.endswith("zero") else "/dev/urandom")
    done = _eval_in_a_process(path)
    what = "a directory" if kind == "directory" else "a named pipe" if kind == "fifo" else "a character device"
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"error: eval: {path}: not a regular file ({what})\n"


def test_eval_refuses_a_16_kb_file_claiming_a_billion_inputs_in_one_line(tmp_path):
    doc = {"format": "gategrad-model", "version": 1, "model": "MLP"}
    doc |= {"config": {"nin": 10**9, "nouts": [1], "activation": "relu"}, "parameters": {"b": 0.0}}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(doc).ljust(16 * 1024))
    done = _eval_in_a_process(path)
    assert (done.returncode, done.stdout) == (2, "")
    expected = "config nin is 1,000,000,000, more than the 1 parameter the file holds"
    assert done.stderr == f"error: eval: {path}: not a gategrad model file ({expected})\n"


def _peak_bytes(run):
    """The most memory (tracemalloc) that `run()` held at once beyond what was held before it."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_eval_holds_the_model_and_one_samples_circuit_not_one_circuit_per_sample(capsys, tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [64, 64, 1], seed=0).save(path)
    model = nn.load(path)
    loading = _peak_bytes(lambda: nn.load(path))  # measured: 2.5 MB
    one_circuit = _peak_bytes(lambda: model([0.5, 0.5]))  # measured: 0.65 MB; 100 of them are 65 MB
    evaluating = _peak_bytes(lambda: main(["eval", "--model", str(path), "--dataset", "moons"]))
    assert capsys.readouterr().out.startswith("accuracy: ")
    assert evaluating < loading + 3 * one_circuit  # measured: loading + 0.0 MB


@pytest.mark.parametrize(
    "options, step",
    [(["--lr", "1e308"], 2), (["--l2", "1e308"], 1), (["--optimizer", "adam", "--lr", "1e300"], 2)],
    ids=["sgd-lr", "l2", "adam-lr"],
)
def test_diverging_training_stops_says_where_exits_1_and_writes_no_model(capsys, tmp_path, options, step):
    path = tmp_path / "model.json"
    code, out, err = run(capsys, "train", "--quiet", *options, "--save", str(path), "--plot", str(tmp_path / "b.png"))
    assert (code, out) == (1, "")
    assert err.startswith(f"error: train: training diverged at step {step}: the mul gate gave inf from the finite")
    assert err.endswith("; nothing was saved\n") and len(err.splitlines()) == 1 and "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_the_reported_divergence_is_the_one_fit_finds(capsys):
    X, y = make_moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    optimizer = nn.SGD(model.parameters(), lr=1e308)
    with pytest.raises(nn.TrainingDiverged) as diverged:
        nn.fit(model, X, [2 * c - 1 for c in y], nn.hinge_loss, optimizer, 100, l2=1e-4, quiet=True)
    _, _, err = run(capsys, "train", "--quiet", "--lr", "1e308", "--schedule", "constant")
    assert err == f"error: train: {diverged.value}; nothing was saved\n"


def _no_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("training started before the outputs were checked")

    monkeypatch.setattr(nn, "fit", fail)


@pytest.mark.parametrize(
    "option, path, message",
    [
        ("--save", "/proc/gategrad-model.json", "--save /proc/gategrad-model.json: cannot write in /proc: "),
        ("--save", "/dev/null", "--save /dev/null: not a regular file (a character device)"),
        ("--plot", "/proc/self/boundary.png", "--plot /proc/self/boundary.png: cannot write in /proc/self: "),
        ("--plot", "boundary.xyz", "--plot boundary.xyz: unknown image format .xyz; use one of "),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_the_first_step(capsys, monkeypatch, option, path, message):
    _no_training(monkeypatch)
    code, out, err = run(capsys, *SMALL_MOONS, option, path)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: train: {message}") and len(err.splitlines()) == 1


def test_a_folder_given_as_output_is_refused_before_the_first_step(capsys, monkeypatch, tmp_path):
    _no_training(monkeypatch)
    code, out, err = run(capsys, *SMALL_MOONS, "--plot", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"error: train: --plot {tmp_path} is a folder; give a file name such as {tmp_path}/boundary.png\n"
    code, out, err = run(capsys, *SMALL_MOONS, "--save", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"error: train: --save {tmp_path}: not a regular file (a directory)\n"
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_an_empty_output_name_gets_a_clear_message(capsys, option):
    code, out, err = run(capsys, *SMALL_MOONS, option, "")
    assert (code, out) == (2, "")
    assert err == f"error: gategrad train: argument {option}: expected a file name, got an empty string\n"


def test_plot_without_an_extension_writes_a_png_and_says_where(capsys, tmp_path):
    code, out, _ = run(
        capsys, "train", "--dataset", "xor", "--hidden", "2", "--steps", "2", "--plot", str(tmp_path / "b")
    )
    assert code == 0
    assert out.splitlines()[-1] == f"saved the decision boundary to {tmp_path / 'b.png'}"
    assert os.listdir(tmp_path) == ["b.png"]
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_as_svg_follows_the_extension(capsys, tmp_path):
    code, out, _ = run(
        capsys, "train", "--dataset", "xor", "--hidden", "2", "--steps", "2", "--plot", str(tmp_path / "b.svg")
    )
    assert code == 0
    assert (tmp_path / "b.svg").read_text().lstrip().startswith("<?xml")


def test_train_record_writes_the_runs_page(capsys, tmp_path):
    path = tmp_path / "run.html"
    code, out, err = run(capsys, *SMALL_MOONS, "--record", str(path))
    assert code == 0 and err == ""
    assert out.splitlines()[-1] == f"saved the run to {path}: open it in a browser"
    doc = viewer.read_record(path)
    assert (doc["model"], doc["config"], doc["loss"], doc["l2"]) == (
        "MLP",
        {"nin": 2, "nouts": [8, 1], "activation": "relu"},
        "hinge_loss",
        1e-4,
    )
    assert [s["step"] for s in doc["steps"]] == list(range(30))
    X, y = make_moons(100, noise=0.1, seed=0)
    assert (doc["X"], doc["y"]) == (X, [2 * c - 1 for c in y])


def test_train_record_lang_writes_the_page_in_that_language_with_the_same_run(capsys, tmp_path):
    english, russian = tmp_path / "run.html", tmp_path / "run-ru.html"
    assert run(capsys, *SMALL_MOONS, "--record", str(english))[0] == 0
    code, out, err = run(capsys, *SMALL_MOONS, "--record", str(russian), "--lang", "ru")
    assert code == 0 and err == ""
    assert out.splitlines()[-1] == f"запись обучения сохранена в {russian}: откройте её в браузере"
    html = russian.read_text(encoding="utf-8")
    assert '<html lang="ru">' in html and "<title>gategrad: запись обучения</title>" in html
    assert viewer.read_record(russian) == viewer.read_record(english)


def test_a_run_with_dead_layers_and_big_updates_ends_with_a_one_line_warning(capsys):
    code, out, err = run(capsys, "train", "--hidden", "8", "--steps", "20", "--lr", "20", "--quiet")
    assert code == 0 and printed(out)["accuracy"] == "0.77"  # measured
    assert err == (
        "warning: layer 0: 7 of 8 ReLUs are dead at the last step; "
        "layer 1: update-to-weight ratio 8.4e-02, far from ~1e-3\n"
    )


@pytest.mark.slow
def test_record_of_a_wide_net_on_few_rows_keeps_every_steps_health_and_warns_as_with_every_step_kept(
    capsys, tmp_path, monkeypatch
):
    """A CSV of 12 rows of 100 pixels and a hidden layer of 60: 6,121 parameters, kept at 2 of the 10 steps when
    the page's budget is 2 steps' numbers; the warnings are those of the run that keeps them all."""
    rng = random.Random(0)
    rows = [[rng.random() + (0.5 if i % 2 and j < 10 else 0.0) for j in range(100)] for i in range(12)]
    data = tmp_path / "pixels.csv"
    lines = [",".join([*(f"p{j}" for j in range(100)), "label"])]
    lines += [",".join([*map(repr, row), "cat" if i % 2 else "other"]) for i, row in enumerate(rows)]
    data.write_text("\n".join(lines) + "\n")
    argv = ["train", "--csv", str(data), "--target", "label", "--no-standardize", "--hidden", "60", "--loss", "bce"]
    argv += ["--lr", "3", "--steps", "10", "--quiet", "--record"]
    code, _, everything = run(capsys, *argv, str(tmp_path / "all.html"))
    assert code == 0
    monkeypatch.setattr(nn.record, "MAX_NUMBERS", 2 * 2 * 6121)
    code, _, err = run(capsys, *argv, str(tmp_path / "few.html"))
    assert code == 0 and err == everything
    full, few = viewer.read_record(tmp_path / "all.html"), viewer.read_record(tmp_path / "few.html")
    assert [("parameters" in s) for s in few["steps"]] == [True] + [False] * 8 + [True]
    assert [s["health"] for s in few["steps"]] == [s["health"] for s in full["steps"]]
    last = full["steps"][-1]
    model = nn.MLP(**full["config"])
    for p, x in zip(model.parameters(), last["parameters"]):
        p.data = x
    outputs = [[n(x).data for n in model.layers[0].neurons] for x in full["X"]]
    dead = sum(all(row[j] == 0.0 for row in outputs) for j in range(60))
    assert dead > 30 and err.startswith(f"warning: layer 0: {dead} of 60 ReLUs are dead at the last step; ")


def test_a_run_that_cannot_be_written_is_one_line_and_exit_2(capsys, tmp_path):
    (tmp_path / "run.html").mkdir()
    code, _, err = run(capsys, *SMALL_MOONS, "--record", str(tmp_path / "run.html"))
    assert code == 2
    assert err == f"error: train: --record {tmp_path / 'run.html'}: not a regular file (a directory)\n"
