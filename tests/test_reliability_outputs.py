"""What the commands write: outputs that are inputs, full disks, closed pipes, FIFOs, links, page sizes (issue 28)."""

import os
import subprocess
import sys

import polib
import pytest
from conftest import console_errors, needs
from peak import run as fresh_run

from gategrad import nn, viz
from gategrad.cli import main
from gategrad.cli.train import MAX_STEPS
from gategrad.explain.expr import build
from gategrad.nn import record
from gategrad.viz import viewer

CSV = "a,b,label\n" + "".join(f"{i % 5},{i % 3},{'xy'[i % 2]}\n" for i in range(20))
TRAIN = ["train", "--steps", "2", "--quiet"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def gategrad(*argv, stdout=None, shell_suffix=""):
    """`python -m gategrad.cli ARGV` in a new process, its stdout sent to `stdout` (a path) or closed."""
    command = [sys.executable, "-m", "gategrad.cli", *map(str, argv)]
    if shell_suffix:
        line = " ".join(f"'{part}'" for part in command) + shell_suffix
        return subprocess.run(["sh", "-c", line], capture_output=True, text=True)
    with open(stdout, "w") as sink:
        return subprocess.run(command, stdout=sink, stderr=subprocess.PIPE, text=True)


# ---- outputs that are inputs ----


def test_save_onto_the_csv_file_is_refused_before_training(capsys, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text(CSV)
    code, out, err = run(capsys, "train", "--csv", data, "--target", "label", "--save", data, "--quiet")
    assert (code, out) == (2, "")
    assert err == f"error: train: --save {data} is also --csv: writing it would replace your data\n"
    assert data.read_text() == CSV


def test_record_onto_the_model_file_is_refused_before_training(capsys, tmp_path):
    model = tmp_path / "m"
    code, out, err = run(capsys, *TRAIN, "--save", model, "--record", model)
    assert (code, out) == (2, "")
    assert err == f"error: train: --record {model} is also --save: writing it would replace the --save file\n"
    assert not model.exists()


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_an_output_that_is_the_input_through_a_link_is_refused(capsys, tmp_path, link):
    data = tmp_path / "d.csv"
    data.write_text(CSV)
    other = tmp_path / "other.csv"
    (os.symlink if link == "symlink" else os.link)(data, other)
    code, out, err = run(capsys, "train", "--csv", data, "--target", "label", "--save", other, "--quiet")
    assert (code, out) == (2, "")
    assert err == f"error: train: --save {other} is also --csv: writing it would replace your data\n"
    assert data.read_text() == CSV


# ---- nets a model file cannot hold ----


@pytest.mark.parametrize("hidden, count", [("1500,1500", 2_257_501), ("10000,10000", 100_050_001)])
def test_a_net_over_the_model_files_limit_is_refused_before_it_is_built(tmp_path, hidden, count):
    """--hidden 1500,1500 trained for 417 s and saved 120 MB that eval refused; 10000,10000 reached 3.6 GB."""
    done = fresh_run([*TRAIN, "--hidden", hidden])
    assert (done["code"], done["out"]) == (2, "")
    assert done["err"] == (
        f"error: train: --hidden {hidden} makes a net of {count:,} parameters, more than the 2,000,000 a model "
        "file holds: use smaller layers\n"
    )
    assert done["peak"] < 300 * 2**20
    assert nn.parameter_count([2, *map(int, hidden.split(",")), 1]) == count


def test_the_largest_net_a_model_file_holds_is_one_train_may_build():
    assert nn.parameter_count([2, 1000, 1000, 1]) == 1_005_001 <= nn.MAX_PARAMETERS


def test_steps_beyond_a_million_are_refused(capsys):
    code, out, err = run(capsys, *TRAIN[:1], "--steps", 10**30)
    assert (code, out) == (2, "")
    assert err == f"error: gategrad train: argument --steps: must be at most {MAX_STEPS:,}, got {10**30}\n"


# ---- a full disk, a closed stdout ----


@pytest.fixture(scope="module")
def model_and_rows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict")
    data, model = folder / "d.csv", folder / "m.json"
    data.write_text(CSV)
    assert main(["train", "--csv", str(data), "--target", "label", *TRAIN[1:], "--save", str(model)]) == 0
    return model, data


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", ["explain", "train", "check --json", "predict"])
def test_a_full_disk_on_stdout_is_one_line_not_a_traceback(tmp_path, model_and_rows, command):
    model, data = model_and_rows
    learner = tmp_path / "learner.py"
    learner.write_text(
        "import numpy as np\ndef params(): return {'w': np.array([1.0])}\n"
        "def loss(p): return (p['w'] * 2).sum()\ndef grads(p): return {'w': np.array([2.0])}\n"
    )
    argv = {
        "explain": ["explain", "x*y", "x=3", "y=-4"],
        "train": TRAIN,
        "check --json": ["check", "--json", learner],
        "predict": ["predict", "--model", model, "--csv", data],
    }[command]
    done = gategrad(*argv, stdout="/dev/full")
    assert done.returncode == 2
    assert done.stderr == "error: cannot write the output: No space left on device\n"


def test_predict_with_stdout_closed_is_one_line_not_a_traceback(model_and_rows):
    model, data = model_and_rows
    done = gategrad("predict", "--model", model, "--csv", data, shell_suffix=" >&-")
    assert done.returncode == 2
    assert done.stderr == "error: gategrad: the standard output is closed, so nothing could be written\n"


# ---- FIFOs and links where files go ----


@pytest.mark.parametrize("name", ["circuit.svg", "walkthrough.html", "model.json", "run.html"])
def test_demo_refuses_a_fifo_where_a_file_goes_instead_of_blocking(tmp_path, name):
    out = tmp_path / "demo"
    out.mkdir()
    os.mkfifo(out / name)
    done = subprocess.run(
        [sys.executable, "-m", "gategrad.cli", "demo", "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith(f"{out / name}: not a regular file (a named pipe)")


def test_demo_refuses_a_fifo_as_its_folder(capsys, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "demo", "--out", fifo, "--quiet")
    assert code == 2
    assert err == f"error: demo: cannot make the folder {fifo}: File exists\n"


def test_save_through_a_dangling_link_names_the_missing_folder(capsys, tmp_path):
    link = tmp_path / "m.json"
    link.symlink_to(tmp_path / "gone" / "m.json")
    code, out, err = run(capsys, *TRAIN, "--save", link)
    assert (code, out) == (2, "")
    assert err == (
        f"error: train: --save {link}: the folder {tmp_path / 'gone'} (where the link {link} points) does not exist\n"
    )


# ---- pages: translated words that mean something to Graphviz or to the page's script ----


def teacher_catalogue(folder, entries):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Plural-Forms": "nplurals=2; plural=(n != 1);"}
    for msgid, msgstr in entries.items():
        context, _, msgid = msgid.rpartition("|")
        po.append(polib.POEntry(msgctxt=context or None, msgid=msgid, msgstr=msgstr))
    path = folder / "pir" / "LC_MESSAGES" / "gategrad.po"
    path.parent.mkdir(parents=True)
    po.save(str(path))


@pytest.mark.needs_dot
def test_so_far_translated_with_graphviz_record_characters_draws(tmp_path, monkeypatch):
    teacher_catalogue(tmp_path, {"picture|grad {grad} so far": "grad {grad} |so <far>"})
    monkeypatch.setenv("GATEGRAD_LOCALE_PATH", str(tmp_path))
    circuit = build("x*x + x", {"x": 3.0})  # x is used twice: after the first gate its gradient is "so far"
    frames = viz.walkthrough_frames(circuit.output, lang="pir")
    texts = [frame.svg for frame in frames]
    assert any("|so &lt;far&gt;" in svg for svg in texts)


@pytest.mark.needs_chromium
def test_literal_braces_in_a_page_string_fill_as_str_format_does(tmp_path, monkeypatch, browser):
    """`{{n}}` made the run page's script throw, so the page never rendered."""
    teacher_catalogue(tmp_path, {"step {step}": "{{n}} step {step}"})
    monkeypatch.setenv("GATEGRAD_LOCALE_PATH", str(tmp_path))
    assert viewer.strings("pir")["step"].format(step=2) == "{n} step 2"  # what the script's fill() must show
    page = tmp_path / "run.html"
    assert main(["train", "--steps", "3", "--quiet", "--lang", "pir", "--record", str(page)]) == 0
    by = needs("selenium.webdriver.common.by").By
    wait = needs("selenium.webdriver.support.ui").WebDriverWait
    browser.get_log("browser")
    browser.get(page.as_uri())
    wait(browser, 10).until(lambda d: d.find_element(by.ID, "viewer").get_attribute("data-ready"))
    assert browser.find_element(by.ID, "step-counter").text == "{n} step 0"  # the page opens at step 0
    assert console_errors(browser) == []


# ---- a recorded page's size ----


def test_a_large_nets_recording_keeps_fewer_steps():
    assert record.kept_steps(100) == record.MAX_STEPS
    assert record.kept_steps(41_001) == 2_000_000 // 82_002 == 24
    assert record.kept_steps(786_561) == 1  # seed 003's 12288-64-1 net: one step's parameters and gradients
    assert record.kept_steps(2_000_000) == 0


def test_a_recording_over_its_budget_keeps_fewer_steps_parameters_and_says_so(tmp_path, monkeypatch):
    """200×200 for 200 steps wrote 350 MB and peaked at 2.2 GB: the page now holds at most MAX_NUMBERS
    parameters and gradients, and every step's loss and health. Shown here with a smaller budget, so a small net
    goes over it."""
    monkeypatch.setattr(record, "MAX_NUMBERS", 20_000)
    page = tmp_path / "run.html"
    assert main(["train", "--hidden", "16,16", "--steps", "40", "--quiet", "--record", str(page)]) == 0
    parameters = nn.parameter_count([2, 16, 16, 1])
    kept = 20_000 // (2 * parameters)
    assert (parameters, kept) == (337, 29)
    steps = viewer.read_record(page)["steps"]
    assert len(steps) == 40 and all("health" in step for step in steps)
    assert sum("parameters" in step for step in steps) == kept
    assert (
        f"The net has 337 parameters: the page keeps the parameters and gradients of {kept} of its 40 steps "
        "(at most 20,000 numbers); the others show the loss and the health figures."
    ) in page.read_text()


def test_explain_cuts_a_long_value_in_its_message(capsys):
    code, out, err = run(capsys, "explain", "x*y", "x=" + "1" * 5000 + "z", "y=1")
    assert (code, out) == (2, "")
    assert err == f"error: explain: the value of x must be a number, got '{'1' * 80}'… (5,001 characters)\n"
