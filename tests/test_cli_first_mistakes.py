"""The command line's first mistakes: no command, a misspelt one, a misspelt option, an EXPR that starts with a
minus, and the health warning that the tool's own defaults must not earn."""

import math
import shlex

import pytest

from gategrad import cli, nn
from gategrad.cli import main
from gategrad.data import DATASETS


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_gategrad_alone_lists_every_command_with_what_it_does_and_an_example(capsys):
    parser = cli.build_parser()
    code, out, err = run(capsys)
    assert (code, out) == (2, "")
    commands = parser._subparsers._group_actions[0]
    assert list(cli.EXAMPLES) == list(commands.choices)  # one example for each command, none for a command gone
    lines = err.splitlines()
    assert lines[:3] == ["usage: gategrad COMMAND [options]", "", "See backpropagation gate by gate. The commands, "
                         "each with an example:"]  # fmt: skip
    for choice in commands._choices_actions:
        at = lines.index(f"  {choice.dest:<10}  {choice.help}")
        assert lines[at + 1] == f"                {cli.EXAMPLES[choice.dest]}"
    assert lines[-1] == "gategrad COMMAND --help lists a command's options."


@pytest.mark.parametrize("command", list(cli.EXAMPLES))
def test_each_example_is_a_command_line_gategrad_reads(command):
    words = shlex.split(cli.EXAMPLES[command])
    assert words[:2] == ["gategrad", command]
    assert cli.build_parser().parse_args(words[1:]).command == command


def test_help_ends_with_the_examples(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.endswith("examples:\n" + "".join(f"  {example}\n" for example in cli.EXAMPLES.values()))


@pytest.mark.parametrize(
    "argv, said",
    [
        (["train", "--stpes", "5"], "gategrad train: unknown option --stpes; did you mean --steps?"),
        (["train", "--stpes=5"], "gategrad train: unknown option --stpes; did you mean --steps?"),
        (["train", "--quiet", "--optimiser", "adam"],
         "gategrad train: unknown option --optimiser; did you mean --optimizer?"),
        # before argparse's own complaint that --model is missing: the misspelling is why it is
        (["eval", "--modle", "m.json", "--dataset", "moons"],
         "gategrad eval: unknown option --modle; did you mean --model?"),
        (["explain", "x*y", "x=1", "y=2", "--jsn"], "gategrad explain: unknown option --jsn; did you mean --json?"),
        (["explain", "-json", "x"], "gategrad explain: unknown option -json; did you mean --json?"),
        (["exercise", "new", "--kidn", "net"], "gategrad exercise new: unknown option --kidn; did you mean --kind?"),
        (["exercise", "grade", "pack", "--zzz"],
         "gategrad exercise grade: unknown option --zzz; see gategrad exercise grade --help"),
        (["train", "--zzz"], "gategrad train: unknown option --zzz; see gategrad train --help"),
        (["--stpes", "train"], "gategrad: unknown option --stpes; see gategrad --help"),
        (["trian"], "gategrad: no command 'trian'; did you mean train? "
                    "The commands are explain, train, eval, predict, demo, check, playground, exercise."),
        (["xyzzy"], "gategrad: no command 'xyzzy'. "
                    "The commands are explain, train, eval, predict, demo, check, playground, exercise."),
        (["train", "--dataset", "moon"], "gategrad train: argument --dataset: invalid choice: 'moon' "
                                         "(choose from 'xor', 'moons', 'circles', 'spiral'); did you mean moons?"),
        # an abbreviation argparse takes is no mistake, and an ambiguous one keeps argparse's words
        (["train", "--s", "4"],
         "gategrad train: ambiguous option: --s could match --schedule, --steps, --seed, --save"),
    ],
)  # fmt: skip
def test_a_misspelling_is_one_line_exit_2_with_the_closest_name(capsys, argv, said):
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", f"error: {said}\n")


@pytest.mark.parametrize(
    "argv, suggested",
    [
        (["explain", "-x*y"], "gategrad explain -- '-x*y'"),
        (["explain", "-x*y", "x=2", "y=3"], "gategrad explain -- '-x*y' x=2 y=3"),
        (["explain", "-2*x", "x=1"], "gategrad explain -- '-2*x' x=1"),
    ],
)
def test_an_expression_that_starts_with_a_minus_gets_the_hint_to_put_two_dashes_first(capsys, argv, suggested):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == (
        f"error: gategrad explain: {argv[1]!r} starts with a minus, so it reads as an option; to give it as a "
        f"value, put -- before it: {suggested}\n"
    )
    code, out, err = run(capsys, *shlex.split(suggested)[1:], *([] if len(argv) > 2 else ["x=2", "y=3"]))
    assert code == 0 and err == ""


def test_a_negative_number_is_a_value_not_an_option(capsys):
    code, out, err = run(capsys, "explain", "x*y", "x=-2", "y=3")
    assert code == 0 and err == ""


@pytest.mark.parametrize("dataset", ["xor", "moons", "circles", "spiral"])
def test_the_defaults_on_each_toy_dataset_earn_no_warning(capsys, dataset):
    code, out, err = run(capsys, "train", "--dataset", dataset, "--quiet")
    assert code == 0 and err == ""


def test_a_run_that_the_lr_killed_is_still_warned(capsys):
    """spiral at lr 3: the loss only halves, and most ReLUs of both layers give 0 on every point."""
    code, out, err = run(capsys, "train", "--dataset", "spiral", "--lr", "3", "--quiet")
    assert code == 0 and out.splitlines()[1] == "accuracy: 0.61"  # measured
    assert err == (
        "warning: layer 0: 10 of 16 ReLUs are dead at the last step; "
        "layer 1: 10 of 16 ReLUs are dead at the last step\n"
    )


def xor_run(lr, planted=0):
    """train's defaults on xor (MLP(2, [16, 16, 1]) relu, hinge, 100 steps of SGD falling to a tenth, l2 1e-4), with
    `planted` units of layer 0 pushed below 0 on every point."""
    X, y = DATASETS["xor"](0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    for neuron in model.layers[0].neurons[:planted]:
        neuron.b.data = -50.0
    recorder = nn.Recorder()
    optimizer = nn.SGD(model.parameters(), lr=lr)
    schedule = lambda k: lr * (1.0 - 0.9 * k / 100)  # noqa: E731
    labels = [2 * c - 1 for c in y]
    history = nn.fit(
        model, X, labels, nn.hinge_loss, optimizer, 100, l2=1e-4, lr_schedule=schedule, quiet=True, record=recorder
    )
    dead = recorder.health(len(recorder.steps) - 1)["layers"][0]["dead_relu"]
    # hinge loss of outputs of 0 is mean(relu(1 - y * 0)) = 1: the last loss is its share of that
    return dead, history["loss"][-1] / 1.0, recorder.warnings()


def test_dead_relus_that_cost_nothing_are_quiet():
    """On xor's 4 points most ReLUs end giving 0 on all four while the net fits them: no lesson to teach."""
    dead, share, warnings = xor_run(1.0)
    assert dead == 11 / 16  # measured
    assert share < 0.02 < nn.record.STALLED  # measured: 0.012, the loss of outputs of 0 being 1
    assert warnings == []


def test_dead_relus_on_a_stalled_run_are_named():
    dead, share, warnings = xor_run(1e-6, planted=12)
    assert dead == 13 / 16  # the 12 planted and one dead from the start
    assert share > nn.record.STALLED
    assert warnings[0] == "layer 0: 13 of 16 ReLUs are dead at the last step"


@pytest.mark.parametrize(
    "loss_fn, labels, nout, zero_loss",
    [
        (nn.hinge_loss, [-1, 1, 1], 1, 1.0),  # relu(1 - y * 0)
        (nn.bce_with_logits, [0, 1, 1], 1, math.log(2)),  # -log sigmoid(0)
        (nn.cross_entropy, [0, 2, 1], 3, math.log(3)),  # -log softmax(0, 0, 0)
        (nn.mse_loss, [0.5, -1.5, 1.0], 1, (0.25 + 2.25 + 1.0) / 3),  # the targets' mean square
    ],
)
def test_a_layer_of_dead_units_is_measured_against_the_loss_of_outputs_of_0(loss_fn, labels, nout, zero_loss):
    """A layer whose ReLUs are all dead passes on a constant: a net that outputs 0 is the yardstick."""
    X = [[float(i), 1.0] for i in range(len(labels))]
    model = nn.MLP(2, [4, nout], seed=0)
    for neuron in model.layers[0].neurons:
        neuron.b.data = -50.0  # every unit of layer 0 below 0 on every point
    recorder = nn.Recorder()
    nn.fit(model, X, labels, loss_fn, nn.SGD(model.parameters(), lr=1e-9), 2, quiet=True, record=recorder)
    assert recorder._zero_loss() == pytest.approx(zero_loss, rel=1e-12)
    assert recorder.steps[-1]["loss"] > nn.record.STALLED * zero_loss
    assert "layer 0: 4 of 4 ReLUs are dead at the last step" in recorder.warnings()
