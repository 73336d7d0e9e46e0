"""MLP.to_torch() and MLP.from_torch(): the same net in PyTorch, equal to 1e-12, and back; torch stays optional."""

import random
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from gategrad import nn

INPUTS = [[random.Random(i).uniform(-3, 3) for _ in range(3)] for i in range(20)]


def outputs(model, X):
    """The gategrad model's outputs on each row of X, as lists of floats."""
    out = [model(x) for x in X]
    return [[v.data for v in o] if isinstance(o, list) else [o.data] for o in out]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_to_torch_computes_the_same_outputs_in_float64(activation):
    model = nn.MLP(3, [5, 4, 2], activation=activation, seed=3)
    seq = model.to_torch()
    assert isinstance(seq, torch.nn.Sequential)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    kinds = [type(m).__name__ for m in seq]
    act = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}.get(activation)
    assert kinds == (["Linear", act, "Linear", act, "Linear"] if act else ["Linear"] * 3)
    theirs = seq(torch.tensor(INPUTS, dtype=torch.float64)).tolist()
    for ours_row, their_row in zip(outputs(model, INPUTS), theirs):
        assert ours_row == pytest.approx(their_row, abs=1e-12, rel=0)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_a_round_trip_through_torch_gives_back_every_parameter_bit_for_bit(activation):
    model = nn.MLP(3, [6, 1], activation=activation, seed=8)
    back = nn.MLP.from_torch(model.to_torch())
    assert isinstance(back, nn.MLP) and back.config() == model.config()
    assert [p.data.hex() for p in back.parameters()] == [p.data.hex() for p in model.parameters()]


@pytest.mark.parametrize(
    "act, activation", [(torch.nn.ReLU, "relu"), (torch.nn.Tanh, "tanh"), (torch.nn.Sigmoid, "sigmoid")]
)
def test_from_torch_reads_a_net_built_in_torch(act, activation):
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(3, 8), act(), torch.nn.Linear(8, 8), act(), torch.nn.Linear(8, 3))
    model = nn.MLP.from_torch(seq)
    assert model.config() == {"nin": 3, "nouts": [8, 8, 3], "activation": activation}
    # float32 weights are exactly float64 numbers, so the float64 copy of seq is the same function.
    theirs = seq.double()(torch.tensor(INPUTS, dtype=torch.float64)).tolist()
    for ours_row, their_row in zip(outputs(model, INPUTS), theirs):
        assert ours_row == pytest.approx(their_row, abs=1e-12, rel=0)


def test_training_continues_the_same_in_torch():
    """Five SGD steps on the same batch: gategrad's losses and torch's agree to 1e-12, step by step."""
    X, y = INPUTS, [i % 3 for i in range(len(INPUTS))]
    model = nn.MLP(3, [8, 3], activation="tanh", seed=1)
    seq = model.to_torch()
    ours, theirs = [], []
    opt = nn.SGD(model.parameters(), lr=0.1)
    torch_opt = torch.optim.SGD(seq.parameters(), lr=0.1)
    for _ in range(5):
        loss = nn.cross_entropy([model(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ours.append(loss.data)
        torch_loss = F.cross_entropy(seq(torch.tensor(X, dtype=torch.float64)), torch.tensor(y))
        torch_opt.zero_grad()
        torch_loss.backward()
        torch_opt.step()
        theirs.append(torch_loss.item())
    assert ours == pytest.approx(theirs, abs=1e-12, rel=0)
    assert ours[-1] < ours[0]


def test_from_torch_reads_hidden_layers_without_activation_and_linears_without_bias():
    seq = torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False), torch.nn.Linear(3, 1)).double()
    model = nn.MLP.from_torch(seq)
    assert model.config() == {"nin": 2, "nouts": [3, 1], "activation": "linear"}
    assert [n.b.data for n in model.layers[0].neurons] == [0.0, 0.0, 0.0]
    assert outputs(model, [[0.5, -2.0]])[0] == pytest.approx(
        seq(torch.tensor([0.5, -2.0], dtype=torch.float64)).tolist(), abs=1e-12
    )


@pytest.mark.parametrize(
    "seq, words",
    [
        (
            torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Conv1d(1, 1, 3), torch.nn.Linear(4, 1)),
            "layer 1 (Conv1d(1, 1, kernel_size=(3,), stride=(1,))) has no gategrad gate",
        ),
        (
            torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(4, 1)),
            "layer 2 (Dropout(p=0.5, inplace=False)) has no gategrad gate",
        ),
        (
            torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.GELU(), torch.nn.Linear(4, 1)),
            "layer 1 (GELU(approximate='none')) has no gategrad gate",
        ),
        (
            torch.nn.Sequential(
                torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
            ),
            "layer 3 (Tanh()) makes a hidden layer tanh, an earlier one is relu",
        ),
        (
            torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 1)),
            "layer 0 (ReLU()) does not follow a Linear layer",
        ),
        (
            torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(4, 1)),
            "layer 2 (ReLU()) does not follow a Linear layer",
        ),
        (
            torch.nn.Sequential(torch.nn.Linear(4, 1), torch.nn.Sigmoid()),
            "layer 1 (Sigmoid()) follows the last Linear layer: gategrad's MLP ends with a linear layer",
        ),
        (
            torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(4, 1)),
            "layer 2 (Linear(in_features=4, out_features=1, bias=True)) takes 4 inputs but the layer before gives 5",
        ),
        (
            torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(2, 1))),
            "layer 0 (Sequential(",
        ),
        (torch.nn.Sequential(), "at least one Linear layer"),
        (torch.nn.Linear(2, 1), "a torch.nn.Sequential of Linear and activation layers, not Linear("),
    ],
    ids=["conv", "dropout", "gelu", "mixed", "leading", "twice", "trailing", "sizes", "nested", "empty", "bare"],
)
def test_from_torch_refuses_what_is_not_a_plain_mlp_naming_the_layer(seq, words):
    with pytest.raises(ValueError) as error:
        nn.MLP.from_torch(seq)
    assert words in str(error.value)


def test_from_torch_refuses_what_is_not_a_torch_module():
    with pytest.raises(TypeError, match="from_torch needs a torch.nn.Sequential, got list"):
        nn.MLP.from_torch([torch.nn.Linear(2, 1)])


def test_without_torch_the_conversion_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match="needs torch: pip install torch"):
        nn.MLP(2, [1]).to_torch()


def test_importing_gategrad_never_imports_torch():
    code = (
        "import sys, gategrad, gategrad.nn, gategrad.nn.torch_interop, gategrad.data, gategrad.cli\n"
        "from gategrad import nn\n"
        "nn.MLP(2, [3, 1])([0.5, 1.0]).backward()\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "False\n"
