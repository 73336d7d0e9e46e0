"""A regression end to end: the target standardised and read back in its units, R² and MAE, a run that runs away.

The houses table: price from area, rooms and age, plus noise (tests/test_cli_csv.py's `house_csv`).
Every figure is recomputed here from the model's outputs, with the formulas written out.
"""

import csv
import io
import json

import pytest
from test_cli_csv import house_csv, printed, run

from gategrad import nn
from gategrad.data import load_csv, mean_and_scale, standardize, train_test_split
from gategrad.engine import fmt
from gategrad.viz import viewer

ADAM = ["--loss", "mse", "--optimizer", "adam", "--hidden", "8", "--steps", "150", "--quiet"]


def figures(predictions, targets):
    """The mean squared error, R² and MAE, written out."""
    n = len(targets)
    mean = sum(targets) / n
    residual = sum((p - t) ** 2 for p, t in zip(predictions, targets))
    spread = sum((t - mean) ** 2 for t in targets)
    return residual / n, 1 - residual / spread, sum(abs(p - t) for p, t in zip(predictions, targets)) / n


def shown(mse, r2, mae, prefix=""):
    """The lines train and eval print, as printed() reads them."""
    return {f"{prefix}loss": f"{mse:.6g}", f"{prefix}r2": f"{r2:.4f}", f"{prefix}mae": f"{mae:.6g}"}


@pytest.fixture
def houses(tmp_path):
    return house_csv(tmp_path / "houses.csv")


def test_the_target_is_standardised_as_the_features_and_read_back_in_its_units(capsys, tmp_path, houses):
    model_path = tmp_path / "houses.json"
    code, out, err = run(capsys, "train", "--csv", houses, "--target", "price", *ADAM, "--save", model_path)
    assert code == 0 and err == ""
    X, y, _ = load_csv(houses, target="price", regression=True)

    # The model file keeps the price's mean and scale, as it keeps each feature's.
    model = nn.load(model_path)
    (price_mean,), (price_scale,) = mean_and_scale([[t] for t in y])
    assert (model.data_info.target_mean, model.data_info.target_scale) == (price_mean, price_scale)
    section = json.loads(model_path.read_text())["data"]
    assert (section["target_mean"], section["target_scale"]) == (price_mean, price_scale)

    # The same run on the API: the net learns (price - mean) / scale.
    Xs = standardize(X, *mean_and_scale(X))
    twin = nn.MLP(3, [8, 1], seed=0)
    labels = [(t - price_mean) / price_scale for t in y]
    history = nn.fit(
        twin, Xs, labels, nn.mse_loss, nn.Adam(twin.parameters(), lr=0.05), 150, l2=1e-4,
        lr_schedule=lambda k: 0.05 * (1.0 - 0.9 * k / 150), quiet=True, engine="replay", regression=True,
    )  # fmt: skip
    assert twin.state_dict() == model.state_dict()
    assert list(history) == ["loss", "r2", "mae"]

    # What train prints is in the price's units: the net's output times the scale, plus the mean.
    predictions = [model(x).data * price_scale + price_mean for x in Xs]
    mse, r2, mae = figures(predictions, y)
    assert list(printed(out)) == ["loss", "r2", "mae"]  # no accuracy
    assert printed(out) == shown(mse, r2, mae)
    assert r2 > 0.95  # measured: 0.9885
    assert mae < 15  # measured: 9.98; the noise's own is about 8

    code, evaluated, err = run(capsys, "eval", "--model", model_path, "--csv", houses)
    assert (code, err) == (0, "")
    assert evaluated == "loss: {loss}\nr2: {r2}\nmae: {mae}\n".format(**shown(mse, r2, mae))

    code, predicted, err = run(capsys, "predict", "--model", model_path, "--csv", houses)
    assert (code, err) == (0, "")
    rows = list(csv.reader(io.StringIO(predicted)))
    assert rows[0] == ["area", "rooms", "age", "price", "predicted_price"]
    assert [float(row[4]) for row in rows[1:]] == predictions


def test_the_held_out_rows_are_measured_in_the_targets_units(capsys, tmp_path, houses):
    model_path = tmp_path / "houses.json"
    argv = ["train", "--csv", houses, "--target", "price", *ADAM, "--test-fraction", "0.25", "--save", model_path]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert list(printed(out)) == ["loss", "r2", "mae", "test loss", "test r2", "test mae"]
    X, y, _ = load_csv(houses, target="price", regression=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=0)
    (price_mean,), (price_scale,) = mean_and_scale([[t] for t in y_train])  # the training rows' only
    model = nn.load(model_path)
    assert (model.data_info.target_mean, model.data_info.target_scale) == (price_mean, price_scale)
    for rows, targets, prefix in ((X_train, y_train, ""), (X_test, y_test, "test ")):
        Xs = standardize(rows, model.data_info.mean, model.data_info.scale)
        predictions = [model(x).data * price_scale + price_mean for x in Xs]
        expected = shown(*figures(predictions, targets), prefix)
        assert {name: printed(out)[name] for name in expected} == expected


def test_an_older_regression_file_without_the_targets_mean_and_scale_predicts_the_nets_output(capsys, tmp_path, houses):
    model_path = tmp_path / "old.json"
    assert run(capsys, "train", "--csv", houses, "--target", "price", *ADAM, "--save", model_path)[0] == 0
    doc = json.loads(model_path.read_text())
    del doc["data"]["target_mean"], doc["data"]["target_scale"]
    model_path.write_text(json.dumps(doc))
    model = nn.load(model_path)
    assert model.data_info.target_mean is None and model.data_info.target_scale is None
    code, predicted, _ = run(capsys, "predict", "--model", model_path, "--csv", houses)
    X, _, _ = load_csv(houses, target="price", regression=True)
    outputs = nn.predict(model, standardize(X, model.data_info.mean, model.data_info.scale))
    assert code == 0 and [float(row[4]) for row in list(csv.reader(io.StringIO(predicted)))[1:]] == outputs


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"target_mean": 1.0}, "come together"),
        ({"target_mean": 1.0, "target_scale": 0.0}, "target_scale must be positive"),
        ({"target_mean": float("nan"), "target_scale": 1.0}, "finite"),
    ],
)
def test_a_targets_mean_and_scale_are_checked(change, problem):
    with pytest.raises(ValueError, match=problem):
        nn.DataInfo(["x"], "y", [0.0], [1.0], None, "mse", **change)


def test_a_classifier_has_no_targets_mean_and_scale():
    with pytest.raises(ValueError, match="a classifier has none"):
        nn.DataInfo(["x"], "y", [0.0], [1.0], ["a", "b"], "hinge", 0.0, 1.0)


def test_the_record_keeps_r2_and_mae_in_the_targets_units_never_accuracy(capsys, tmp_path, houses):
    page = tmp_path / "run.html"
    argv = ["train", "--csv", houses, "--target", "price", *ADAM[:-3], "--steps", "12", "--quiet", "--record", page]
    assert run(capsys, *argv)[0] == 0
    record = viewer.read_record(page)
    X, y, _ = load_csv(houses, target="price", regression=True)
    (price_mean,), (price_scale,) = mean_and_scale([[t] for t in y])
    assert record["y"] == pytest.approx([(t - price_mean) / price_scale for t in y], rel=1e-15)
    model = nn.MLP(3, [8, 1], seed=0)
    for step in record["steps"]:
        assert "accuracy" not in step
        for p, x in zip(model.parameters(), step["parameters"]):
            p.data = x
        predictions = [model(x).data * price_scale + price_mean for x in record["X"]]
        _, r2, mae = figures(predictions, y)
        assert step["r2"] == pytest.approx(r2, rel=1e-9)
        assert step["mae"] == pytest.approx(mae, rel=1e-9)
    assert record["steps"][-1]["r2"] > record["steps"][0]["r2"]


def test_the_fit_of_a_classifier_keeps_accuracy():
    X, y = [[0.0], [1.0], [2.0], [3.0]], [-1, -1, 1, 1]
    model = nn.MLP(1, [4, 1], seed=0)
    history = nn.fit(model, X, y, nn.hinge_loss, nn.SGD(model.parameters(), lr=0.1), 2, quiet=True)
    assert list(history) == ["loss", "accuracy"]


@pytest.mark.parametrize(
    "outputs, targets, r2, mae",
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 1.0, 0.0),  # a perfect fit
        ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], 0.0, 2 / 3),  # the targets' mean: no better than it
        ([3.0, 2.0, 1.0], [1.0, 2.0, 3.0], -3.0, 4 / 3),  # backwards: 1 - 8/2
        ([1.0, 1.0], [5.0, 5.0], 0.0, 4.0),  # targets without spread, missed: sklearn's 0
        ([5.0, 5.0], [5.0, 5.0], 1.0, 0.0),  # and hit: sklearn's 1
    ],
)
def test_r2_and_mae_by_hand(outputs, targets, r2, mae):
    assert nn.r2_score(outputs, targets) == r2
    assert nn.mean_absolute_error(outputs, targets) == pytest.approx(mae, rel=1e-15)


def test_a_loss_that_runs_away_stops_the_run_with_one_line_and_exit_1_on_both_engines(capsys, tmp_path, houses):
    """The defaults (SGD, lr 1 falling to 0.1) overshoot on this regression: stopped at 1000 times the first loss."""
    said = {}
    for engine in ("replay", "scalar"):
        model_path = tmp_path / f"{engine}.json"
        argv = ["train", "--csv", houses, "--target", "price", "--loss", "mse", "--quiet", "--engine", engine]
        code, out, said[engine] = run(capsys, *argv, "--save", model_path)
        assert (code, out) == (1, "") and not model_path.exists()
    assert said["scalar"] == said["replay"]

    # The same run on the API, on both engines: the step, the losses and the words.
    X, y, _ = load_csv(houses, target="price", regression=True)
    (price_mean,), (price_scale,) = mean_and_scale([[t] for t in y])
    Xs, labels = standardize(X, *mean_and_scale(X)), [(t - price_mean) / price_scale for t in y]
    stopped = {}
    for engine in ("replay", "scalar"):
        model = nn.MLP(3, [16, 16, 1], seed=0)
        with pytest.raises(nn.TrainingDiverged) as caught:
            nn.fit(
                model, Xs, labels, nn.mse_loss, nn.SGD(model.parameters(), lr=1.0), 100, l2=1e-4,
                lr_schedule=lambda k: 1.0 * (1.0 - 0.9 * k / 100), quiet=True, engine=engine, regression=True,
            )  # fmt: skip
        stopped[engine] = caught.value
    losses = stopped["replay"].history["loss"]
    assert stopped["scalar"].history["loss"] == pytest.approx(losses, rel=1e-9)
    assert stopped["scalar"].step == stopped["replay"].step == len(losses) == 3  # measured: the third step
    first, last = losses[0], losses[-1]
    assert last > 1000 * first and all(loss <= 1000 * first for loss in losses[:-1])
    lr = 1.0 * (1.0 - 0.9 * 2 / 100)
    assert said["replay"] == (
        f"error: train: training diverged at step 3: the loss grew from {fmt(first)} at step 1 to {fmt(last)}, "
        f"over 1000 times: the SGD steps overshoot (lr {lr:g} at this step); try Adam or a smaller lr; "
        "nothing was saved\n"
    )


def test_overfit_on_a_regression_judges_the_standardised_loss_the_net_learnt(capsys, tmp_path, houses):
    """Five houses: the verdict reads the loss of (price - mean) / scale, unit-free, as OVERFIT_LOSS is."""
    model_path = tmp_path / "five.json"
    argv = ["train", "--csv", houses, "--target", "price", "--loss", "mse", "--optimizer", "adam", "--quiet"]
    code, out, err = run(capsys, *argv, "--overfit", "5", "--save", model_path)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "loss",
        "r2",
        "mae",
        f"saved the model to {model_path}",
        "overfit",
    ]
    assert lines[-1].startswith("overfit: yes, the loss on the 5 points fell to ")
    fitted = float(lines[-1].split("fell to ")[1].split(",")[0])
    mse = float(printed(out)["loss"])  # in dollars squared
    scale = nn.load(model_path).data_info.target_scale  # the five prices' deviation
    assert fitted == pytest.approx(mse / scale**2, rel=1e-2)  # the same errors in standardised units (to 3 digits)


@pytest.mark.parametrize(
    "language, words",
    [
        ("zh", ["损失：{loss}", "R²：{r2}", "平均绝对误差：{mae}"]),
        ("ru", ["потери: {loss}", "R²: {r2}", "средняя абсолютная ошибка: {mae}"]),
    ],
)
def test_eval_says_a_regressions_figures_in_its_lang_with_the_same_numbers(capsys, tmp_path, houses, language, words):
    model_path = tmp_path / "houses.json"
    assert run(capsys, "train", "--csv", houses, "--target", "price", *ADAM, "--save", model_path)[0] == 0
    code, english, _ = run(capsys, "eval", "--model", model_path, "--csv", houses)
    numbers = printed(english)
    code, said, err = run(capsys, "eval", "--model", model_path, "--csv", houses, "--lang", language)
    assert (code, err) == (0, "")
    assert said.splitlines() == [w.format(**numbers) for w in words]
