"""gategrad.replay: one sample's circuit traced into a program, replayed over a batch with numpy,
with the scalar engine's numbers: every gate's edge cases, every loss, every optimizer, minibatches."""

import dataclasses
import math
import random

import numpy as np
import pytest
from conftest import TRAINING_LOSSES, TRAINING_OPTIMIZERS

from gategrad import nn
from gategrad.data import make_moons, make_spiral
from gategrad.engine import GATES, Value, topological_order
from gategrad.explain.lang import translator
from gategrad.nn.train import DIAGNOSE_LIMIT
from gategrad.replay import KERNELS, Plan, Replay, ReplayError, kernels, trace

INF, NAN = math.inf, math.nan


def same_number(a, b):
    """Equal as the engine means it: nan matches nan, a zero's sign counts, and finite numbers may
    differ in the last bit (numpy's exp, log and tanh are not libm's)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == 0.0 or b == 0.0 or math.isinf(a) or math.isinf(b):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return abs(a - b) <= 2 * math.ulp(max(abs(a), abs(b)))


def relatively_close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b))


# ---- every gate: the same numbers as the scalar gate, edge cases included ----


def gate_cases():
    """(name, the gate on Values, samples), each sample one row of the batch: every row's points of the gate
    table, its constant points one case per constant, and the circuits a row cannot write."""
    cases = []
    for op, gate in GATES.items():
        if gate.points:
            cases.append((op, lambda v, gate=gate: gate(*v), list(gate.points)))
        by_constant = {}
        for point in gate.constant_points:
            rest = [x for i, x in enumerate(point) if i != gate.constant_place]
            by_constant.setdefault(point[gate.constant_place], []).append(tuple(rest))
        for c, samples in by_constant.items():
            cases.append((f"{op} with the constant {c}", lambda v, gate=gate, c=c: gate(*gate.operands(v, c)), samples))
    return cases + [
        ("n-ary add", lambda v: Value.sum(v), [(1.0, 2.0, 3.0), (-0.0, -0.0, -0.0), (1e308, 1e308, -INF)]),
        ("a sum of one Value", lambda v: Value.sum([v[0]]), [(3.0,), (-0.0,)]),
        ("an input used twice", lambda v: v[0] * v[0], [(3.0,), (-0.0,)]),
    ]


GATE_CASES = gate_cases()


def scalar_gate(fn, sample):
    """The scalar engine on one sample: the output and each input's gradient."""
    inputs = [Value(x) for x in sample]
    out = fn(inputs)
    out.backward()
    return out.data, [v.grad for v in inputs]


@pytest.mark.parametrize("fuse", [False, True], ids=["gate by gate", "fused"])
@pytest.mark.parametrize("name, fn, samples", GATE_CASES, ids=[case[0] for case in GATE_CASES])
def test_each_gate_replays_the_scalar_gates_numbers_edge_cases_included(name, fn, samples, fuse):
    plan = Plan(trace(fn, [], samples[0]), fuse=fuse, input_grads=True)
    outputs = plan.forward(np.array(samples))
    _, input_grads = plan.backward(np.ones_like(outputs))
    for i, sample in enumerate(samples):
        data, grads = scalar_gate(fn, sample)
        assert same_number(outputs[i, 0], data), (sample, outputs[i, 0], data)
        for got, expected in zip(input_grads[i], grads):
            assert same_number(got, expected), (sample, list(input_grads[i]), grads)


def test_the_cases_cover_every_gate_of_the_table():
    ops = {ins.op for _, fn, samples in GATE_CASES for ins in trace(fn, [], samples[0]).instructions}
    assert ops == set(GATES)


def test_every_gate_of_the_table_has_a_kernel_compiled_from_its_row():
    assert set(KERNELS) == set(GATES)
    cube = dataclasses.replace(GATES["tanh"], op="cube", forward="a * a * a", local=("3.0 * a * a",))
    with np.errstate(all="ignore"):
        out = kernels.kernel(cube).forward([np.array([2.0, -1.0])], None)
        local = kernels.kernel(cube).local_grads([np.array([2.0, -1.0])], out, None)
    assert out.tolist() == [8.0, -1.0] and local[0].tolist() == [12.0, 3.0]


def test_exactly_the_gates_that_fold_a_constant_say_what_it_becomes_as_an_input():
    for op, gate in GATES.items():
        assert (KERNELS[op].constant_as_input is not None) == gate.constant, op
    assert KERNELS["pow"].constant_as_input == ("pow_value", 1) and KERNELS["pow_value"].constant_as_input == (
        "pow_value",
        0,
    )


# ---- tracing: a circuit written down as a program ----


def a_neuron():
    """tanh(w0*x0 + w1*x1 + b) with w = (2, -3), b = 0.5."""
    neuron = nn.Neuron(2, activation="tanh")
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 2.0, -3.0, 0.5
    return neuron


def test_a_neuron_traced_is_its_gates_on_numbered_slots():
    neuron = a_neuron()
    program = trace(neuron, neuron.parameters(), [1.0, -1.0])
    assert str(program).splitlines() == [
        "v0 = mul(p0, x0)",
        "v1 = mul(p1, x1)",
        "v2 = add(p2, v0, v1)",
        "v3 = tanh(v2)",
        "return v3",
    ]
    assert program.params == (neuron.w[0], neuron.w[1], neuron.b)
    assert program.n_inputs == 2


def test_constants_are_folded_into_their_gates_and_written_out():
    program = trace(lambda v: (1 - v[0]) ** 2 + 2 ** v[0], [], [3.0])
    assert str(program).splitlines() == [
        "v0 = mul(x0, -1)",
        "v1 = add(v0, 1)",
        "v2 = pow(v1, 2)",
        "v3 = pow_value(2, x0)",
        "v4 = add(v2, v3)",
        "return v4",
    ]


def test_a_leaf_made_inside_the_function_is_a_constant_slot():
    program = trace(lambda v: v[0] * Value(4.0), [], [3.0])
    assert program.constants == (4.0,)
    assert str(program).splitlines()[0] == "v0 = mul(x0, 4)"


def test_the_rebuilt_circuit_walks_as_the_scalar_circuit_does():
    neuron = a_neuron()
    x = [1.0, -1.0]
    rebuilt = trace(neuron, neuron.parameters(), x).circuit(x)
    walked = [(s.op, s.upstream, [(i.local_grad, i.contribution) for i in s.inputs]) for s in rebuilt.backward_steps()]
    rebuilt_grads = [p.grad for p in neuron.parameters()]
    neuron.zero_grad()
    original = neuron([Value(v) for v in x])
    expected = [
        (s.op, s.upstream, [(i.local_grad, i.contribution) for i in s.inputs]) for s in original.backward_steps()
    ]
    assert rebuilt.data == original.data == math.tanh(2.0 + 3.0 + 0.5)
    assert walked == expected
    assert rebuilt_grads == [p.grad for p in neuron.parameters()]


def test_a_sum_hiding_a_number_is_refused():
    with pytest.raises(ReplayError, match="Value.sum of Values and numbers"):
        trace(lambda v: Value.sum([v[0], v[1], 10.0]), [], [1.0, 2.0])


def test_a_model_that_cannot_take_values_is_refused_with_the_reason():
    with pytest.raises(
        ReplayError, match="with Values, and that failed: must be real number, not Value. Use the scalar"
    ):
        trace(lambda v: Value(math.sin(v[0])), [], [1.0])


def test_an_output_returned_twice_gets_both_gradients():
    plan = Plan(trace(lambda v: [v[0] * v[1]] * 2, [], [3.0, 4.0]), input_grads=True)
    outputs = plan.forward([[3.0, 4.0]])
    _, input_grads = plan.backward(np.array([[1.0, 10.0]]))
    assert outputs.tolist() == [[12.0, 12.0]]
    assert input_grads.tolist() == [[44.0, 33.0]]


# ---- fusing: a layer is a matrix product ----


def test_each_layer_of_an_mlp_becomes_one_matrix_product_and_each_activation_one_call():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    plan = Plan(trace(model, model.parameters(), [0.5, -1.0]))
    lines = str(plan).splitlines()
    assert len(lines) == 5
    assert "W @ [x0, x1] + b    (W is 16×2: 32 mul and 16 add gates)" in lines[0]
    assert lines[1] == "[v3, v8, …, v78] = relu([v2, v7, …, v77])    (16 gates)"
    assert "(W is 16×16: 256 mul and 16 add gates)" in lines[2]
    assert "(W is 1×16: 16 mul and 1 add gates)" in lines[4]


@pytest.mark.parametrize("activation", list(nn.ACTIVATIONS))
def test_fused_and_gate_by_gate_replays_equal_the_scalar_engine(activation):
    model = nn.MLP(3, [8, 5, 2], activation=activation, seed=3)
    rng = random.Random(4)
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(12)]
    for p in model.parameters():
        p.grad = 0.0
    for x in X:
        out = model(x)
        (out[0] * 1.0 + out[1] * -2.0).backward()
    expected = [p.grad for p in model.parameters()]
    scalar_outputs = [[v.data for v in model(x)] for x in X]
    program = trace(model, model.parameters(), X[0])
    for fuse in (False, True):
        plan = Plan(program, fuse=fuse)
        outputs = plan.forward(X)
        grads, _ = plan.backward(np.tile([1.0, -2.0], (len(X), 1)))
        assert all(relatively_close(a, b, 1e-12) for a, b in zip(outputs.ravel(), np.ravel(scalar_outputs)))
        assert all(relatively_close(a, b, 1e-12) for a, b in zip(grads, expected))


# ---- honest limits: a circuit that depends on the data is refused ----


class Branchy(nn.Module):
    """w * x0 when x0 > 0, else w * x1: Python's `if` on a Value's data."""

    def __init__(self):
        self.w = Value(0.5)

    def __call__(self, x):
        return self.w * x[0] if x[0].data > 0 else self.w * x[1]

    def parameters(self):
        return [self.w]


def test_a_model_with_an_if_on_the_data_is_refused_with_a_pointer_to_the_scalar_engine():
    X, y = [[1.0, 2.0], [0.5, 1.0], [-1.0, 3.0]], [1, -1, 1]
    with pytest.raises(ReplayError) as refusal:
        Replay(Branchy(), nn.hinge_loss, X, y)
    message = str(refusal.value)
    assert "builds a different circuit for sample 0 than for sample 2" in message
    assert "depends on the data" in message
    assert 'engine="scalar"' in message


def test_a_number_read_from_the_data_is_refused_too():
    class Peeking(Branchy):
        def __call__(self, x):
            return self.w * x[0] * x[1].data

    with pytest.raises(ReplayError, match="the constant 2 in one and .* the constant 3 in the other"):
        Replay(Peeking(), nn.mse_loss, [[1.0, 2.0], [1.0, 3.0]], [0.0, 1.0])


def test_a_loss_that_depends_on_the_outputs_numbers_is_refused():
    def clipped(scores, labels):
        return Value.sum([(s - y) ** 2 if s.data < 1 else s * 0.0 for s, y in zip(scores, labels)]) / len(scores)

    model = nn.MLP(1, [1], seed=0)
    model.layers[0].neurons[0].w[0].data = 1.0
    with pytest.raises(ReplayError, match="the loss for the label 0.0 builds a different circuit"):
        Replay(model, clipped, [[0.0], [5.0]], [0.0, 0.0])


def test_a_loss_summed_rather_than_averaged_is_refused():
    def summed(scores, labels):
        return nn.mse_loss(scores, labels) * len(scores)

    model = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(ReplayError, match="mean of its samples' losses"):
        Replay(model, summed, [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [0.5, -0.5, 1.0])


# ---- training: fit(engine="replay") gives the scalar engine's losses and parameters ----


def train(engine, loss, optimizer, batch_size, steps=8):
    """A few steps of fit on 40 points; returns the losses, accuracies and every parameter after each step."""
    loss_fn, outputs, label = TRAINING_LOSSES[loss]
    X, y = make_spiral(20, classes=2, seed=1) if outputs == 1 else make_spiral(14, classes=3, seed=1)
    model = nn.MLP(2, [8, 8, outputs], activation="tanh", seed=5)
    opt = TRAINING_OPTIMIZERS[optimizer](model.parameters())
    after_each_step = []
    step = opt.step

    def step_and_record():
        step()
        after_each_step.append([p.data for p in model.parameters()])

    opt.step = step_and_record
    history = nn.fit(
        model, X, [label(c) for c in y], loss_fn, opt, steps, batch_size=batch_size, l2=1e-3, quiet=True, engine=engine
    )
    return history, after_each_step


@pytest.mark.parametrize("batch_size", [None, 7], ids=["full batch", "minibatches of 7"])
@pytest.mark.parametrize("optimizer", TRAINING_OPTIMIZERS)
@pytest.mark.parametrize("loss", TRAINING_LOSSES)
def test_replay_trains_to_the_scalar_engines_losses_and_parameters(loss, optimizer, batch_size):
    scalar, scalar_params = train("scalar", loss, optimizer, batch_size)
    replayed, replayed_params = train("replay", loss, optimizer, batch_size)
    assert replayed["accuracy"] == scalar["accuracy"]
    assert all(relatively_close(a, b) for a, b in zip(replayed["loss"], scalar["loss"], strict=True))
    for mine, theirs in zip(replayed_params, scalar_params, strict=True):
        assert all(relatively_close(a, b) for a, b in zip(mine, theirs, strict=True))


class EveryGate(nn.Module):
    """A made-up model that takes each sample (numbers, or Values when traced) through every gate of the table."""

    def __init__(self):
        self.a, self.b, self.c = Value(0.7), Value(-0.3), Value(1.2)

    def __call__(self, x):
        u = self.a * x[0] + self.b / ((self.c * x[1]).abs() + 2.0)
        v = u.tanh() + u.sigmoid() - (u * self.c).exp().log()
        w = v.max(self.c * x[1]).relu() + (u * u + 1.0).sqrt()
        z = w**2 * 0.1 + (u * u + 1.0) ** self.a + 2.0**self.b
        out = Value.sum([z, u, -v])
        # Any gate of the table the lines above miss, on a number between 1 and 3, where every gate is finite.
        made, t = {n.op for n in topological_order(out)}, u.tanh() + 2.0
        missed = [g for op, g in GATES.items() if op not in made]
        rest = [g(*[t, t][: len(g.points[0])]) if g.points else g(*g.operands([t], 0.5)) for g in missed]
        return out + Value.sum(rest) * 0.1 if rest else out

    def parameters(self):
        return [self.a, self.b, self.c]


def test_a_model_through_every_gate_trains_by_replay_to_the_scalar_engines_parameters():
    rng = random.Random(7)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(20)]
    X[3] = [0.0, 0.0]  # abs at its kink
    targets = [rng.uniform(-1, 1) for _ in X]
    params = {}
    for engine in ("scalar", "replay"):
        model = EveryGate()
        nn.fit(
            model,
            X,
            targets,
            nn.mse_loss,
            nn.Adam(model.parameters(), lr=0.05),
            6,
            batch_size=5,
            quiet=True,
            engine=engine,
        )
        params[engine] = [p.data for p in model.parameters()]
    assert {ins.op for ins in Replay(EveryGate(), nn.mse_loss, X, targets).program.instructions} == set(GATES)
    assert all(relatively_close(a, b) for a, b in zip(params["replay"], params["scalar"], strict=True))
    assert params["replay"] != [0.7, -0.3, 1.2]


def log_of_tiny(outputs, labels):
    """log(5e-324) is finite; its local gradient 1/5e-324 is not."""
    return (outputs[0] * 0.0 + 5e-324).log()


DIVERGING = {
    "the L2 penalty overflows": lambda: (nn.MLP(2, [4, 1], seed=0), nn.hinge_loss, nn.SGD, 1.0, 1e308),
    "an update overflows": lambda: (nn.MLP(2, [4, 1], seed=0), nn.hinge_loss, nn.SGD, 1e307, 0.0),
    "a gradient is infinite": lambda: (nn.MLP(2, [4, 1], seed=0), log_of_tiny, nn.SGD, 0.1, 0.0),
}


@pytest.mark.parametrize("case", DIVERGING)
def test_replay_stops_diverging_training_where_the_scalar_engine_does_and_says_the_same(case):
    X, y = make_moons(30, seed=0)
    labels = [2 * c - 1 for c in y]
    stops = {}
    for engine in ("scalar", "replay"):
        model, loss_fn, optimizer, lr, l2 = DIVERGING[case]()
        with pytest.raises(nn.TrainingDiverged) as diverged:
            nn.fit(model, X, labels, loss_fn, optimizer(model.parameters(), lr=lr), 5, l2=l2, quiet=True, engine=engine)
        stops[engine] = (diverged.value.step, diverged.value.where, len(diverged.value.history["loss"]))
    assert stops["replay"] == stops["scalar"]


def test_a_diverged_batch_too_large_to_rebuild_is_reported_by_replay_alone():
    X, y = make_moons(DIAGNOSE_LIMIT + 1, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(nn.TrainingDiverged) as diverged:
        nn.fit(model, X, y, nn.mse_loss, nn.SGD(model.parameters(), lr=0.1), 3, l2=1e308, quiet=True, engine="replay")
    assert diverged.value.step == 1
    assert diverged.value.where == (
        f"replay's loss (inf) or a gradient is not finite; {DIAGNOSE_LIMIT + 1} points are too many to rebuild as "
        f'Values and name the gate: train a batch of at most {DIAGNOSE_LIMIT} with engine="scalar" to see it'
    )
    assert diverged.value.where_in(translator("zh")) == (
        f"replay 的损失（inf）或某个梯度不是有限值；{DIAGNOSE_LIMIT + 1} 个样本太多，无法重建为 Value 来指出是哪个门："
        f'请用 engine="scalar" 训练不超过 {DIAGNOSE_LIMIT} 个样本的小批量来查看'
    )


@pytest.mark.parametrize(("n", "samples"), [(2001, "2001 пример"), (2002, "2002 примера"), (2005, "2005 примеров")])
def test_a_batch_too_large_to_rebuild_is_counted_with_the_russian_plural(n, samples):
    numbers = {"loss": "inf", "n": str(n), "limit": str(DIAGNOSE_LIMIT)}
    said = nn.TrainingDiverged(1, "too_many", numbers, {"loss": []}).where_in(translator("ru"))
    assert said == (
        f"потери replay (inf) или один из градиентов — не конечное число; {samples} — слишком много, чтобы заново "
        f"построить их из Value и назвать вентиль: чтобы увидеть его, обучите на мини-пакете не больше "
        f'{DIAGNOSE_LIMIT} примеров с engine="scalar"'
    )


def test_micrograds_demo_by_replay_gives_the_scalar_engines_first_loss_bit_for_bit():
    X, y = make_moons(100, noise=0.1, seed=0)
    labels = [2 * c - 1 for c in y]
    model = nn.MLP(2, [16, 16, 1], seed=0)
    scalar = (nn.hinge_loss([model(x) for x in X], labels) + nn.l2_penalty(model.parameters(), 1e-4)).data
    loss, scores = Replay(model, nn.hinge_loss, X, labels).backward(l2=1e-4)
    assert relatively_close(loss, scalar, 1e-14)
    assert scores.shape == (100,)


def test_labels_that_differ_only_in_constants_share_one_program():
    X, y = make_moons(20, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    hinge = Replay(model, nn.hinge_loss, X, [2 * c - 1 for c in y])
    assert len(hinge.loss_programs) == 2 and len(hinge._losses) == 1  # -1 and +1: one program, -y a column
    _, table = hinge._losses[0]
    assert sorted(table.ravel().tolist()) == [-1.0, 1.0]
    X3, y3 = make_spiral(5, classes=3, seed=0)
    ce = Replay(nn.MLP(2, [4, 3], seed=0), nn.cross_entropy, X3, y3)
    assert len(ce._losses) == 3  # cross-entropy picks the label's logit: one program per class


def test_forward_gives_the_models_outputs_for_new_samples():
    X, y = make_spiral(5, classes=3, seed=0)
    model = nn.MLP(2, [4, 3], seed=0)
    r = Replay(model, nn.cross_entropy, X, y)
    fresh = [[0.3, -0.7], [1.5, 0.25]]
    expected = [[v.data for v in model(x)] for x in fresh]
    assert all(relatively_close(a, b, 1e-12) for a, b in zip(r.forward(fresh).ravel(), np.ravel(expected)))
    assert r.forward(fresh).shape == (2, 3)


def test_backward_adds_to_the_gradients_as_backward_does():
    X, y = make_moons(10, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    r = Replay(model, nn.mse_loss, X, y)
    r.backward()
    once = [p.grad for p in model.parameters()]
    r.backward()
    assert [p.grad for p in model.parameters()] == [2 * g for g in once]


def test_one_sample_of_a_replay_walks_gate_by_gate_as_the_scalar_engine():
    X, y = make_moons(10, seed=0)
    labels = [2 * c - 1 for c in y]
    model = nn.MLP(2, [3, 1], seed=0)
    r = Replay(model, nn.hinge_loss, X, labels)
    walk = [step.explanation for step in r.circuit(4).backward_steps()]
    original = nn.hinge_loss([model([Value(v, label=f"x{i}") for i, v in enumerate(X[4])])], [labels[4]])
    assert walk == [step.explanation for step in original.backward_steps()]
    assert len(walk) == len(r.program.instructions) + len(r.loss_programs[labels[4]].instructions)


def test_fit_takes_x_as_a_numpy_array_and_refuses_an_unknown_engine():
    X, y = make_moons(20, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    history = nn.fit(
        model, np.array(X), y, nn.bce_with_logits, nn.Adam(model.parameters()), 3, quiet=True, engine="replay"
    )
    assert len(history["loss"]) == 3
    with pytest.raises(ValueError, match="engine must be one of scalar, replay"):
        nn.fit(model, X, y, nn.bce_with_logits, nn.Adam(model.parameters()), 3, quiet=True, engine="gpu")


def test_accuracy_reads_replays_arrays_as_it_reads_values():
    assert nn.accuracy(np.array([0.5, -0.1, 2.0]), [1, -1, -1]) == 2 / 3
    assert nn.accuracy(np.array([[0.1, 0.9], [3.0, -1.0]]), [1, 1]) == 0.5
