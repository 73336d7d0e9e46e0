"""fit(engine="replay") on flat vectors: the scalar engine's numbers for every loss and optimizer (clipping and
weight decay too), the Values written back when fit returns and whenever a Recorder reads them, the trace kept
for a model until its structure changes, and steps that allocate nothing per parameter."""

import math
import tracemalloc

import pytest
from conftest import TRAINING_LOSSES, TRAINING_OPTIMIZERS

from gategrad import nn
from gategrad.data import make_moons, make_spiral
from gategrad.engine import Value
from gategrad.replay import Replay, training


def relatively_close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b))


def all_close(mine, theirs, rel=1e-9):
    return len(mine) == len(theirs) and all(relatively_close(a, b, rel) for a, b in zip(mine, theirs))


def gradients_close(mine, theirs, rel=1e-9):
    """Equal to 1e-9 of the largest: a small gradient is a difference of large terms, exact only that far."""
    scale = max(abs(g) for g in theirs)
    return len(mine) == len(theirs) and all(abs(a - b) <= rel * scale for a, b in zip(mine, theirs))


def problem(loss, seed=5):
    loss_fn, outputs, label = TRAINING_LOSSES[loss]
    X, y = make_spiral(20, classes=2, seed=1) if outputs == 1 else make_spiral(14, classes=3, seed=1)
    return nn.MLP(2, [8, 8, outputs], activation="tanh", seed=seed), X, [label(c) for c in y], loss_fn


def train(engine, loss, optimizer, clip=None, batch_size=None, steps=8, recorder=None):
    """fit on 40 points; returns the history, every parameter and gradient after it, and the optimizer."""
    model, X, labels, loss_fn = problem(loss)
    opt = TRAINING_OPTIMIZERS[optimizer](model.parameters())
    history = nn.fit(
        model,
        X,
        labels,
        loss_fn,
        opt,
        steps,
        batch_size=batch_size,
        l2=1e-3,
        clip_grad_norm=clip,
        quiet=True,
        engine=engine,
        record=recorder,
    )
    return history, [p.data for p in model.parameters()], [p.grad for p in model.parameters()], opt


@pytest.mark.parametrize("clip", [None, 0.5], ids=["unclipped", "clipped to 0.5"])
@pytest.mark.parametrize("optimizer", TRAINING_OPTIMIZERS)
@pytest.mark.parametrize("loss", TRAINING_LOSSES)
def test_a_replayed_fit_ends_where_the_scalar_engines_does(loss, optimizer, clip):
    scalar, scalar_params, scalar_grads, _ = train("scalar", loss, optimizer, clip)
    replayed, params, grads, _ = train("replay", loss, optimizer, clip)
    assert replayed["accuracy"] == scalar["accuracy"]
    assert all_close(replayed["loss"], scalar["loss"])
    assert all_close(params, scalar_params)  # written back into the Values when fit returns
    assert gradients_close(
        grads, scalar_grads
    )  # the last step's gradients too, clipped as the scalar engine clips them


def test_clipping_changes_the_steps_it_is_asked_to():
    _, unclipped, _, _ = train("replay", "hinge", "sgd")
    _, clipped, grads, _ = train("replay", "hinge", "sgd", clip=0.05)
    assert clipped != unclipped
    assert sum(g * g for g in grads) ** 0.5 == pytest.approx(0.05, rel=1e-4)  # the last step's, clipped


def test_clip_grad_norm_scales_every_gradient_by_one_factor_as_torch():
    a, b = Value(0.0), Value(0.0)
    a.grad, b.grad = 3.0, 4.0  # a length of 5
    assert nn.clip_grad_norm([a, b], 1.0) == 5.0
    assert (a.grad, b.grad) == (3.0 * (1.0 / (5.0 + 1e-6)), 4.0 * (1.0 / (5.0 + 1e-6)))
    assert nn.clip_grad_norm([a, b], 10.0) == pytest.approx(1.0, rel=1e-6)
    assert (a.grad, b.grad) == (3.0 * (1.0 / (5.0 + 1e-6)), 4.0 * (1.0 / (5.0 + 1e-6)))  # short enough: untouched


@pytest.mark.parametrize("optimizer", TRAINING_OPTIMIZERS)
def test_minibatches_by_replay_follow_the_scalar_engine(optimizer):
    scalar, scalar_params, _, _ = train("scalar", "cross_entropy", optimizer, batch_size=7)
    replayed, params, _, _ = train("replay", "cross_entropy", optimizer, batch_size=7)
    assert all_close(replayed["loss"], scalar["loss"])
    assert all_close(params, scalar_params)


@pytest.mark.parametrize("optimizer", TRAINING_OPTIMIZERS)
def test_a_recorder_reads_every_step_of_a_replayed_fit_as_the_scalar_engine_left_it(optimizer):
    runs = {}
    for engine in ("scalar", "replay"):
        recorder = nn.Recorder()
        train(engine, "hinge", optimizer, recorder=recorder)
        runs[engine] = recorder.steps
    assert len(runs["replay"]) == len(runs["scalar"]) == 8
    for mine, theirs in zip(runs["replay"], runs["scalar"]):
        assert all_close(list(mine["parameters"]), list(theirs["parameters"]))
        assert gradients_close(list(mine["gradients"]), list(theirs["gradients"]))


@pytest.mark.parametrize("optimizer", TRAINING_OPTIMIZERS)
def test_the_optimizers_state_is_written_back_so_training_goes_on_from_it(optimizer):
    """Four steps by replay, then four by the scalar engine with the same optimizer: as eight scalar steps."""
    _, scalar_params, _, scalar_opt = train("scalar", "bce", optimizer)
    model, X, labels, loss_fn = problem("bce")
    opt = TRAINING_OPTIMIZERS[optimizer](model.parameters())
    for engine in ("replay", "scalar"):
        nn.fit(model, X, labels, loss_fn, opt, 4, l2=1e-3, quiet=True, engine=engine)
    assert all_close([p.data for p in model.parameters()], scalar_params)
    for name in ("buffers", "m", "v", "t"):
        if hasattr(opt, name):
            mine, theirs = getattr(opt, name), getattr(scalar_opt, name)
            assert all_close(mine, theirs) if isinstance(mine, list) else mine == theirs


def test_a_training_stepped_by_hand_writes_the_values_back_after_each_step():
    sides = {}
    for engine in ("scalar", "replay"):
        model, X, labels, loss_fn = problem("hinge")
        steps = nn.Training(model, X, labels, loss_fn, nn.Adam(model.parameters(), lr=0.03), l2=1e-3, engine=engine)
        seen = []
        for _ in range(3):
            steps.step()
            seen.append([p.data for p in model.parameters()])
        sides[engine] = seen
    for mine, theirs in zip(sides["replay"], sides["scalar"]):
        assert all_close(mine, theirs)
    assert sides["replay"][0] != sides["replay"][1]


def test_an_optimizer_over_some_of_the_parameters_moves_those_alone():
    sides = {}
    for engine in ("scalar", "replay"):
        model, X, labels, loss_fn = problem("mse")
        last = model.layers[-1].parameters()
        nn.fit(model, X, labels, loss_fn, nn.Adam(last[::-1], lr=0.05), 5, quiet=True, engine=engine)
        sides[engine] = [p.data for p in model.parameters()]
    untouched, _, _, _ = problem("mse")
    frozen = len(untouched.parameters()) - len(untouched.layers[-1].parameters())
    assert sides["replay"][:frozen] == [p.data for p in untouched.parameters()][:frozen]
    assert all_close(sides["replay"], sides["scalar"])


def test_an_optimizer_whose_step_was_replaced_is_stepped_through_its_values():
    model, X, labels, loss_fn = problem("hinge")
    opt = nn.SGD(model.parameters(), lr=0.1)
    calls = []
    step = opt.step
    opt.step = lambda: (calls.append([p.data for p in model.parameters()]), step())
    nn.fit(model, X, labels, loss_fn, opt, 3, quiet=True, engine="replay")
    assert len(calls) == 3 and calls[0] != calls[1]


# ---- the trace, kept for a model until its structure changes ----


def test_a_model_is_traced_once_for_many_fits(monkeypatch):
    traced, original = [], training.trace

    def counting(fn, params, x):
        traced.append(len(params))
        return original(fn, params, x)

    monkeypatch.setattr(training, "trace", counting)
    model, X, labels, loss_fn = problem("hinge", seed=11)
    for _ in range(3):
        nn.fit(model, X, labels, loss_fn, nn.SGD(model.parameters(), lr=0.1), 2, quiet=True, engine="replay")
    parameters = len(model.parameters())
    # In the first fit alone: the model on the first sample and the last, then the loss (on no parameters)
    # once per label, -1 and +1, on each of those two samples' outputs.
    assert traced == [parameters, parameters, 0, 0, 0, 0]


def test_a_replay_of_the_same_model_reuses_its_program_and_plan():
    model, X, labels, loss_fn = problem("hinge", seed=12)
    first, second = Replay(model, loss_fn, X, labels), Replay(model, loss_fn, X[:10], labels[:10])
    assert second.program is first.program and second.plan is first.plan


def test_a_fit_leaves_small_tables_to_the_next_fit_and_lets_large_ones_go(monkeypatch):
    model, X, labels, loss_fn = problem("hinge", seed=15)
    nn.fit(model, X, labels, loss_fn, nn.SGD(model.parameters(), lr=0.1), 2, quiet=True, engine="replay")
    plan = Replay(model, loss_fn, X, labels).plan
    values, gradients = plan._tables
    assert values.shape == gradients.shape == (values.shape[0], len(X))
    assert values.nbytes + gradients.nbytes <= training.KEPT_TABLES
    nn.fit(model, X, labels, loss_fn, nn.SGD(model.parameters(), lr=0.1), 2, quiet=True, engine="replay")
    assert plan._tables[0] is values  # the next fit of that batch size wrote into the same table
    monkeypatch.setattr(training, "KEPT_TABLES", values.nbytes + gradients.nbytes - 1)
    nn.fit(model, X, labels, loss_fn, nn.SGD(model.parameters(), lr=0.1), 2, quiet=True, engine="replay")
    assert plan._tables == [None, None]


@pytest.mark.parametrize(
    "labels, rows",
    [
        ([1, -1, 1, -1], [0, 1, 0, 1]),
        ([0.0, -0.0, 3.0], [0, 0, 1]),  # one key, as a dictionary holds them
        ([2**53 + 1, 2**53, 1], [0, 1, 2]),  # two integers one float would merge
        ([1.0, math.nan, 1.0], [0, 1, 0]),
    ],
)
def test_each_label_finds_its_own_row_of_constants(labels, rows):
    replay = Replay(nn.MLP(1, [1]), nn.mse_loss, [[0.5]] * len(labels), labels)
    assert replay._row.tolist() == rows and replay._group.tolist() == [0] * len(labels)
    (_, table), *_ = replay._losses
    assert [table[r, 0] for r in rows] == pytest.approx([-float(y) for y in labels], nan_ok=True)


def test_a_new_parameter_makes_a_new_trace():
    model, X, labels, loss_fn = problem("hinge", seed=13)
    before = Replay(model, loss_fn, X, labels).program
    model.layers[0].neurons[0].w[0] = Value(0.25)
    after = Replay(model, loss_fn, X, labels).program
    assert after is not before
    assert after.params[0] is model.layers[0].neurons[0].w[0]


def test_a_new_activation_makes_a_new_trace():
    model, X, labels, loss_fn = problem("hinge", seed=14)
    before = Replay(model, loss_fn, X, labels).program
    neuron = model.layers[0].neurons[0]
    neuron.activation, neuron._act = "relu", Value.relu
    after = Replay(model, loss_fn, X, labels).program
    assert after is not before
    assert sum(ins.op == "relu" for ins in after.instructions) == 1
    assert sum(ins.op == "relu" for ins in before.instructions) == 0


def test_a_new_neuron_makes_a_new_trace_and_trains_to_the_scalar_engines_numbers():
    sides = {}
    for engine in ("scalar", "replay"):
        model, X, labels, loss_fn = problem("mse", seed=15)
        nn.fit(model, X, labels, loss_fn, nn.SGD(model.parameters(), lr=0.1), 2, quiet=True, engine=engine)
        model.layers[1].neurons.append(nn.Neuron(8, "tanh", seed=3))
        model.layers[2].neurons[0].w.append(Value(0.5))
        nn.fit(model, X, labels, loss_fn, nn.SGD(model.parameters(), lr=0.1), 2, quiet=True, engine=engine)
        sides[engine] = [p.data for p in model.parameters()]
    assert all_close(sides["replay"], sides["scalar"])


def test_another_loss_or_other_labels_are_traced_for_the_same_model():
    model, X, labels, _ = problem("mse", seed=16)
    mse = Replay(model, nn.mse_loss, X, labels)
    hinge = Replay(model, nn.hinge_loss, X, labels)
    assert hinge.program is mse.program
    assert hinge.loss_programs is not mse.loss_programs
    halves = Replay(model, nn.mse_loss, X, [0.5 * y for y in labels])
    assert set(halves.loss_programs) == {-0.5, 0.5}


def test_a_model_holding_what_replay_cannot_compare_is_traced_at_every_replay():
    class Scaled(nn.Module):
        def __init__(self):
            self.w, self.scale = Value(0.5), {1.0}  # a set: its effect on the circuit cannot be told

        def __call__(self, x):
            return self.w * x[0] * max(self.scale)

        def parameters(self):
            return [self.w]

    model = Scaled()
    first = Replay(model, nn.mse_loss, [[1.0], [2.0]], [0.0, 1.0])
    assert Replay(model, nn.mse_loss, [[1.0], [2.0]], [0.0, 1.0]).program is not first.program


# ---- memory: a step allocates nothing per parameter ----


@pytest.fixture(scope="module")
def wide_net():
    """MLP(2, [160, 160, 1]): 26,401 parameters, traced once for all the tests that use it."""
    return nn.MLP(2, [160, 160, 1], seed=0)


@pytest.mark.parametrize("optimizer", TRAINING_OPTIMIZERS)
def test_a_replayed_step_allocates_less_than_two_numbers_per_parameter(optimizer, wide_net):
    """A step's largest passing allocations: one layer's W-sized gradient product (160 × 160 numbers) and
    numpy's ufunc buffer (at most 2 × 8192 numbers), not a number, let alone a Python float, per parameter."""
    X, y = make_moons(10, seed=0)
    params = wide_net.parameters()
    steps = nn.Training(
        wide_net,
        X,
        [2 * c - 1 for c in y],
        nn.hinge_loss,
        TRAINING_OPTIMIZERS[optimizer](params),
        l2=1e-4,
        clip_grad_norm=1.0,
        engine="replay",
    )
    with steps.vectors():
        steps.step()  # the first step makes the tables and the optimizer's buffers
        tracemalloc.start()
        for _ in range(3):
            steps.step()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 2 * 8 * len(params)  # a Python float per parameter would be 24 bytes each


def test_a_module_that_holds_its_parent_is_walked_once_and_kept():
    model, X, labels, loss_fn = problem("hinge", seed=17)
    for layer in model.layers:
        layer.net = model  # a cycle in the modules
    first = Replay(model, loss_fn, X, labels)
    assert Replay(model, loss_fn, X, labels).program is first.program


def test_the_vectorised_l2_penalty_squares_the_flagged_parameters_alone_as_l2_penalty_does():
    from gategrad.replay.flat import FlatParameters

    params = [Value(1.5), Value(-2.0), Value(0.25)]
    flat = FlatParameters(params, nn.SGD(params, lr=0.1), "sgd", penalised=[True, False, True])
    flat.load()
    flat.grad[:] = 0.0
    penalty = nn.l2_penalty([params[0], params[2]], 0.1)
    penalty.backward()
    assert flat.add_l2(1.0, 0.1) == 1.0 + penalty.data
    assert flat.grad.tolist() == [params[0].grad, 0.0, params[2].grad]


@pytest.mark.parametrize("half, biases", [(True, True), (False, False), (True, False)])
def test_a_replayed_fit_honours_l2_half_and_biases_as_the_scalar_engine(half, biases):
    sides = {}
    for engine in ("scalar", "replay"):
        model, X, labels, loss_fn = problem("hinge", seed=21)
        # SGD: Adam divides by the gradient's size, so on a bias whose gradient is a sum that cancels to
        # near 0 it turns rounding noise into whole steps
        opt = nn.SGD(model.parameters(), lr=0.3, momentum=0.9)
        history = nn.fit(
            model, X, labels, loss_fn, opt, 6, l2=0.05, l2_half=half, l2_biases=biases, quiet=True, engine=engine
        )
        sides[engine] = (history["loss"], [p.data for p in model.parameters()])
    assert all_close(sides["replay"][0], sides["scalar"][0])
    assert all_close(sides["replay"][1], sides["scalar"][1])
