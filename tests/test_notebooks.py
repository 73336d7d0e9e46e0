"""Every notebook runs top to bottom in a fresh kernel, and is committed with the outputs of such a run.

Each notebook asserts its own numbers (the neuron's gradients, the accuracies), so running it is
the test: a failing assert or any other error in a cell fails here as a CellExecutionError.
"""

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def execute(nb):
    """Run `nb` in place in a new python3 kernel, with notebooks/ as its working directory."""
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_the_notebooks_are_there():
    names = {path.name for path in PATHS}
    assert {
        "01_gates.ipynb",
        "02_neuron.ipynb",
        "03_mlp_moons.ipynb",
        "04_hand_backprop_vs_engine.ipynb",
        "05_softmax_classifier.ipynb",
        "06_check_your_backprop.ipynb",
        "07_from_gates_to_matrices.ipynb",
        "08_four_equations.ipynb",
        "09_your_data_and_torch.ipynb",
        "10_training_pathologies.ipynb",
        "11_check_your_engine.ipynb",
        "12_teaching_with_gategrad.ipynb",
        "13_seed_dead_relus.ipynb",
        "14_seed_cases.ipynb",
    } <= names


@pytest.mark.slow
def test_the_kernel_is_this_python():
    """The python3 kernel must run this environment's Python, or the notebooks would test another install."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)")])
    execute(nb)
    kernel_prefix = nb.cells[0].outputs[0].text.strip()
    assert kernel_prefix == sys.prefix, (
        f"the python3 kernel runs the Python in {kernel_prefix}, not this one in {sys.prefix}: "
        f"install this one's kernel with {sys.executable} -m ipykernel install --sys-prefix"
    )


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.name)
def test_the_committed_notebook_shows_one_clean_run(path):
    """Read unexecuted, each code cell shows the output of one top-to-bottom run, and none an error."""
    cells = code_cells(nbformat.read(path, as_version=4))
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    assert any(cell.outputs for cell in cells)
    errors = [output.ename for cell in cells for output in cell.outputs if output.output_type == "error"]
    assert errors == []


@pytest.mark.slow  # a kernel per notebook: minutes in all
@pytest.mark.needs_dot
@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.name)
def test_the_notebook_runs_in_a_fresh_kernel(path):
    # Its running time (under two minutes on 2 cores) is measured by hand, not asserted: shared machines are noisy.
    execute(nbformat.read(path, as_version=4))


@pytest.mark.parametrize("lang", ["zh", "ru"])
def test_notebook_01_in_chinese_and_russian_runs_the_same_code_in_that_language(lang):
    """Only the prose is translated: each code cell is 01_gates.ipynb's, with the walk's language argument added."""
    english = code_cells(nbformat.read(NOTEBOOKS / "01_gates.ipynb", as_version=4))
    translated = code_cells(nbformat.read(NOTEBOOKS / f"01_gates_{lang}.ipynb", as_version=4))
    argument = f', lang="{lang}"'
    assert [cell.source.replace(argument, "") for cell in translated] == [cell.source for cell in english]
    assert sum(cell.source.count(argument) for cell in translated) == 6  # format_forward, format_step: 2 each


# Run first in the kernel: `import torch` fails there as it does where torch is not installed.
NO_TORCH = """
import sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoTorch())
sys.modules.pop("torch", None)
"""


@pytest.mark.slow
def test_notebook_09_runs_without_torch_and_says_how_to_get_it():
    nb = nbformat.read(NOTEBOOKS / "09_your_data_and_torch.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(NO_TORCH))
    nb.cells.append(nbformat.v4.new_code_cell('print(sorted(m for m in sys.modules if m.split(".")[0] == "torch"))'))
    execute(nb)
    torch_cells = [cell for cell in code_cells(nb)[1:-1] if "torch" in cell.source]
    said = ["".join(o.get("text", "") for o in cell.outputs) for cell in torch_cells]
    errors = [o.ename for cell in code_cells(nb) for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    (guard,) = [text for text in said if "not installed" in text]
    assert "pip install -e '.[torch]'" in guard
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in guard
    skipped = [text for text in said if text.startswith("skipped")]
    assert skipped == ["skipped: this cell needs torch (see above for how to get it)\n"] * 3
    assert nb.cells[-1].outputs[0].text == "[]\n"  # nothing of torch was imported


# The seeds' notebooks in their languages: (English notebook, language, check calls given lang=, the seeds' terms).
TRANSLATED = [
    ("04_hand_backprop_vs_engine", "zh", 4, ["残差", "学习信号", "偏置", "学习率", "均方差", "交叉熵", "小批量"]),
    ("06_check_your_backprop", "zh", 7, ["偏置", "梯度"]),
    (
        "08_four_equations",
        "ru",
        0,
        ["смещени", "взвешенный вход", "произведение Адамара", "мини-пакет", "градиент по выходу"],
    ),
]


@pytest.mark.parametrize(
    ("name", "lang", "calls", "terms"), TRANSLATED, ids=[f"{n}_{lang}" for n, lang, *_ in TRANSLATED]
)
def test_the_seeds_notebooks_in_their_language_run_the_same_code_in_the_seeds_terms(name, lang, calls, terms):
    """Only the prose is translated, in the glossary's terms; check's reports speak the language where nothing
    asserts their English words."""
    english = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    translated = nbformat.read(NOTEBOOKS / f"{name}_{lang}.ipynb", as_version=4)
    argument = f', lang="{lang}"'
    assert [cell.source.replace(argument, "") for cell in code_cells(translated)] == [
        cell.source.replace(argument, "") for cell in code_cells(english)
    ]
    added = sum(cell.source.count(argument) for cell in code_cells(translated)) - sum(
        cell.source.count(argument) for cell in code_cells(english)
    )
    assert added == calls
    prose = "\n".join(cell.source for cell in translated.cells if cell.cell_type == "markdown")
    assert [term for term in terms if term not in prose] == []
    assert [c.cell_type for c in translated.cells] == [c.cell_type for c in english.cells]
