"""`--lang` on train, eval, predict, check and demo: their own lines in Chinese and Russian, the same numbers."""

import math
import re
from pathlib import Path

import pytest

from gategrad import nn
from gategrad.cli import main
from gategrad.data import make_moons

BACKPROPS = Path(__file__).parent / "backprops"
SMALL_MOONS = ["train", "--dataset", "moons", "--hidden", "8", "--steps", "30", "--quiet"]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def numbers(text):
    return NUMBER.findall(text)


@pytest.fixture(scope="module")
def english_train(tmp_path_factory):
    """What train prints in English for the small moons net with a held-out fifth: the numbers to find again."""
    import contextlib
    import io

    model = tmp_path_factory.mktemp("en") / "model.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*SMALL_MOONS, "--test-fraction", "0.2", "--save", str(model)]) == 0
    return out.getvalue().splitlines(), model


@pytest.mark.parametrize(
    ("code", "lines"),
    [
        (
            "zh",
            ["损失：{0}", "准确率：{1}", "测试集损失：{2}", "测试集准确率：{3}", "模型已保存到 {path}"],
        ),
        (
            "ru",
            [
                "потери: {0}",
                "доля верных ответов: {1}",
                "потери на тестовой выборке: {2}",
                "доля верных ответов на тестовой выборке: {3}",
                "модель сохранена в {path}",
            ],
        ),
    ],
)
def test_train_says_its_lines_in_the_language_with_the_english_numbers(capsys, tmp_path, english_train, code, lines):
    english, _ = english_train
    assert english[:4] == [line for line in english[:4] if ": " in line]  # loss, accuracy, test loss, test accuracy
    found = [line.split(": ")[1] for line in english[:4]]
    model = tmp_path / "model.json"
    status, out, err = run(capsys, *SMALL_MOONS, "--test-fraction", "0.2", "--save", model, "--lang", code)
    assert (status, err) == (0, "")
    assert out.splitlines() == [line.format(*found, path=model) for line in lines]


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("zh", "警告：第 0 层：最后一步时 8 个 ReLU 中有 {dead} 个已死亡"),
        ("ru", "предупреждение: слой 0: на последнем шаге мертвы {dead} из 8 ReLU"),
    ],
)
def test_train_warns_in_the_language(capsys, code, says):
    # lr 30 kills most of the first layer's ReLUs: the English warning says how many, the translation the same.
    _, _, english = run(capsys, *SMALL_MOONS, "--lr", "30")
    dead = re.search(r"layer 0: (\d+) of 8 ReLUs are dead at the last step", english)[1]
    status, _, err = run(capsys, *SMALL_MOONS, "--lr", "30", "--lang", code)
    assert status == 0
    assert err.startswith(says.format(dead=dead))
    assert sorted(numbers(err)) == sorted(numbers(english))  # the same figures, in the language's word order


def test_train_takes_lang_without_record(capsys):
    status, out, err = run(capsys, *SMALL_MOONS, "--lang", "zh")
    assert (status, err) == (0, "") and out.startswith("损失：")


@pytest.mark.parametrize(("code", "line"), [("zh", "准确率：{}"), ("ru", "доля верных ответов: {}")])
def test_eval_says_accuracy_in_the_language(capsys, english_train, code, line):
    _, model = english_train
    _, english, _ = run(capsys, "eval", "--model", model, "--dataset", "moons")
    (accuracy,) = numbers(english)
    status, out, err = run(capsys, "eval", "--model", model, "--dataset", "moons", "--lang", code)
    assert (status, err) == (0, "")
    assert out == line.format(accuracy) + "\n"


@pytest.mark.parametrize(
    ("code", "first"),
    [
        ("zh", "全部 4 个数组都与引擎的梯度一致（容差为每个数组中最大的 |真实值| 的 1e-8 倍）。"),
        ("ru", "Все 4 массива совпадают с градиентами движка (в пределах 1e-8 × наибольший по модулю истинный "
               "элемент каждого массива)."),
    ],
)  # fmt: skip
def test_check_reports_in_the_language(capsys, code, first):
    status, out, err = run(capsys, "check", BACKPROPS / "cs231n_two_layer_net.py", "--lang", code)
    assert (status, err) == (0, "")
    assert out.splitlines()[0] == first


@pytest.mark.parametrize("command", ["train", "eval", "predict", "check", "demo"])
def test_help_says_error_messages_stay_english(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Error messages stay English" in text


def test_errors_stay_english_in_every_language(capsys):
    status, out, err = run(capsys, "eval", "--model", "no/such.json", "--dataset", "moons", "--lang", "ru")
    assert (status, out) == (2, "")
    assert err.startswith("error: eval: cannot read the model file no/such.json")


@pytest.fixture(scope="module", params=["zh", "ru"])
def demo(request, tmp_path_factory):
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["demo", "--quiet", "--out", str(folder), "--lang", request.param])
    return request.param, code, out.getvalue(), err.getvalue(), folder


DEMO_SAYS = {
    "zh": [
        "1. 反向传播，逐个门进行",
        "最大值门对梯度做路由：较大的输入 z（2）得到全部上游梯度 2，w（-1）得到 0。",
        "2. micrograd 的双月示例，用 gategrad 训练",
        "准确率：0.99",
        "文件都在 {folder} 中：",
        "  walkthrough.html  逐步演示页面：请用浏览器打开",
    ],
    "ru": [
        "1. Обратное распространение, вентиль за вентилем",
        "2. Пример micrograd с двумя лунами, обученный на gategrad",
        "доля верных ответов: 0.99",
        "Файлы лежат в {folder}:",
        "  run.html          запись обучения, шаг за шагом: откройте её в браузере",
    ],
}


@pytest.mark.slow
@pytest.mark.needs_dot
def test_the_demo_tours_in_the_language(demo):
    code, status, out, err, folder = demo
    assert (status, err) == (0, "")
    lines = out.splitlines()
    for line in DEMO_SAYS[code]:
        assert line.format(folder=folder.resolve()) in lines or line in out
    assert f"--model {folder / 'model.json'} --dataset moons --lang {code}" in out
    page = (folder / "walkthrough.html").read_text(encoding="utf-8")
    run_page = (folder / "run.html").read_text(encoding="utf-8")
    assert f'<html lang="{code}">' in page and f'<html lang="{code}">' in run_page
    picture = (folder / "circuit.svg").read_text(encoding="utf-8")
    data, grad = {"zh": ("值\u00a03", "梯度\u00a0&#45;8"), "ru": ("знач. 3", "град. &#45;8")}[code]
    assert data in picture and grad in picture  # x = 3, dL/dx = -8


def test_eval_of_a_csv_file_says_loss_and_accuracy_in_the_language(capsys, tmp_path):
    table = tmp_path / "fruit.csv"
    table.write_text("a,b,label\n1,2,x\n2,1,y\n3,3,x\n0,1,y\n1,1,x\n2,2,y\n")
    model = tmp_path / "fruit.json"
    assert run(capsys, "train", "--csv", table, "--target", "label", "--steps", "5", "--quiet", "--save", model)[0] == 0
    _, english, _ = run(capsys, "eval", "--model", model, "--csv", table)
    loss, accuracy = numbers(english)
    status, out, err = run(capsys, "eval", "--model", model, "--csv", table, "--lang", "ru")
    assert (status, err) == (0, "")
    assert out == f"потери: {loss}\nдоля верных ответов: {accuracy}\n"


FIVE, ONE, TWO = ["--overfit", "5", "--loss", "cross_entropy"], ["--overfit", "1"], ["--overfit", "2"]
SLOW_LR = ["--lr", "1e-5"]  # no learning: the verdict is no


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (FIVE, "zh", "过拟合检查：通过，5 个样本上的损失降到了 {loss}，低于 0.05"),
        (FIVE, "ru", "переобучение: да, потери на 5 примерах упали до {loss}, ниже 0.05"),
        ([*ONE, *SLOW_LR, "--steps", "21"], "ru", "переобучение: нет, потери на 1 примере после 21 шага равны {loss}"),
        (
            [*TWO, *SLOW_LR, "--steps", "22"],
            "ru",
            "переобучение: нет, потери на 2 примерах после 22 шагов равны {loss}",
        ),
    ],
)
def test_the_overfit_verdict_is_said_in_the_language_with_its_plurals(capsys, argv, code, says):
    status, out, _ = run(capsys, "train", *argv, "--quiet")
    english = out.splitlines()
    loss = float(english[0].removeprefix("loss: "))
    translated_status, out, _ = run(capsys, "train", *argv, "--quiet", "--lang", code)
    assert translated_status == status
    assert out.splitlines()[-1].startswith(says.format(loss=f"{loss:.3g}"))


@pytest.fixture(scope="module")
def fruit_model(tmp_path_factory):
    """A classifier of a small fruit table, saved: predict's model."""
    folder = tmp_path_factory.mktemp("fruit")
    table, model = folder / "fruit.csv", folder / "fruit.json"
    table.write_text("a,b,label\n1,2,x\n2,1,y\n3,3,x\n0,1,y\n1,1,x\n2,2,y\n")
    argv = ["train", "--csv", table, "--target", "label", "--steps", "5", "--quiet", "--save", model]
    assert main([str(a) for a in argv]) == 0
    return model


@pytest.mark.parametrize(
    ("rows", "code", "says"),
    [
        (2, "en", "wrote 2 predictions to {path}"),
        (1, "en", "wrote 1 prediction to {path}"),
        (5, "zh", "已将 5 条预测写入 {path}"),
        (1, "ru", "1 предсказание записано в {path}"),
        (3, "ru", "3 предсказания записаны в {path}"),
        (5, "ru", "5 предсказаний записано в {path}"),
        (21, "ru", "21 предсказание записано в {path}"),
    ],
)
def test_predict_says_what_it_wrote_to_out_in_the_language(capsys, tmp_path, fruit_model, rows, code, says):
    table, written = tmp_path / "new.csv", tmp_path / "predicted.csv"
    table.write_text("a,b\n" + "".join(f"{k % 4},{k % 3}\n" for k in range(rows)))
    _, stdout_csv, _ = run(capsys, "predict", "--model", fruit_model, "--csv", table)
    status, out, err = run(capsys, "predict", "--model", fruit_model, "--csv", table, "--out", written, "--lang", code)
    assert (status, err) == (0, "")
    assert out == says.format(path=written) + "\n"
    assert written.read_text(encoding="utf-8") == stdout_csv  # the CSV itself is data: the same in every language
    assert len(stdout_csv.splitlines()) == rows + 1


def test_predict_cannot_write_out_in_one_english_line(capsys, tmp_path, fruit_model):
    table = tmp_path / "new.csv"
    table.write_text("a,b\n1,2\n")
    missing = tmp_path / "no" / "such" / "folder" / "p.csv"
    status, out, err = run(capsys, "predict", "--model", fruit_model, "--csv", table, "--out", missing, "--lang", "zh")
    assert (status, out) == (2, "")
    assert err.startswith(f"error: predict: cannot write {missing}: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (
            "zh",
            "错误：train：训练在第 2 步发散：乘法门由有限的输入得出了 inf：{a}（局部梯度 {b}）、{b}（局部梯度 {a}）；"
            "没有保存任何文件\n",
        ),
        (
            "ru",
            "ошибка: train: обучение разошлось на шаге 2: вентиль умножения выдал inf при конечных входах {a} "
            "(локальный градиент {b}), {b} (локальный градиент {a}); ничего не сохранено\n",
        ),
    ],
)
def test_train_says_why_a_run_diverged_in_the_language(capsys, tmp_path, code, says):
    X, y = make_moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], seed=0)
    with pytest.raises(nn.TrainingDiverged) as diverged:
        nn.fit(model, X, [2 * c - 1 for c in y], nn.hinge_loss, nn.SGD(model.parameters(), lr=1e308), 100, quiet=True)
    [a, b], [b_again, a_again] = diverged.value.numbers["inputs"]  # a product: each input's local gradient is the other
    assert (a, b) == (a_again, b_again) and float(a) * float(b) == math.inf
    path = tmp_path / "model.json"
    argv = ["train", "--quiet", "--lr", "1e308", "--schedule", "constant", "--l2", "0", "--save", path, "--lang", code]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert err == says.format(a=a, b=b)
    assert not path.exists()


def test_train_help_says_a_diverged_run_is_told_in_the_language(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "what train prints (why a run diverged too) and the --record page" in text
