"""gategrad.data.load_csv and friends: a CSV file as numbers, every bad file named by file, line and column."""

import math
import os
import statistics

import pytest

from gategrad.data import CSVError, load_csv, mean_and_scale, standardize, tables, train_test_split

FLOWERS = """\
sepal_length,sepal_width,species
5.1,3.5,setosa
7.0,3.2,versicolor
6.3,3.3,virginica
4.9,3.0,setosa
"""


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_a_string_labelled_file_gives_features_class_indices_and_sorted_class_names(tmp_path):
    X, y, classes = load_csv(write(tmp_path, FLOWERS), target="species")
    assert X == [[5.1, 3.5], [7.0, 3.2], [6.3, 3.3], [4.9, 3.0]]
    assert y == [0, 1, 2, 0]
    assert classes == ["setosa", "versicolor", "virginica"]


def test_the_table_also_knows_its_column_names(tmp_path):
    table = load_csv(write(tmp_path, FLOWERS), target="species")
    assert table.features == ["sepal_length", "sepal_width"] and table.target == "species"
    assert table.columns == ["sepal_length", "sepal_width", "species"] and table.rows is None


def test_integer_labels_are_sorted_as_numbers(tmp_path):
    X, y, classes = load_csv(write(tmp_path, "x,label\n1,10\n2,2\n3,-1\n4,2\n"), target="label")
    assert classes == ["-1", "2", "10"]
    assert y == [2, 1, 0, 1]


def test_the_target_may_be_any_column_and_every_other_column_is_a_feature(tmp_path):
    X, y, classes = load_csv(write(tmp_path, "a,label,b\n1,yes,2\n3,no,4\n"), target="label")
    assert X == [[1.0, 2.0], [3.0, 4.0]] and y == [1, 0] and classes == ["no", "yes"]


def test_a_regression_target_is_read_as_numbers(tmp_path):
    X, y, classes = load_csv(write(tmp_path, "area,price\n50,150.5\n80,210\n"), target="price", regression=True)
    assert X == [[50.0], [80.0]] and y == [150.5, 210.0] and classes is None


def test_spreadsheet_habits_are_read_too(tmp_path):
    """A byte-order mark, CRLF line ends, blank lines, quoted fields and spaces around names and labels."""
    text = '\ufeff sepal_length ,"name, latin",species\r\n\r\n5.1,"3.5", setosa \r\n\r\n7.0,3.2,versicolor\r\n'
    table = load_csv(write(tmp_path, text.encode("utf-8")), target="species")
    assert table.features == ["sepal_length", "name, latin"]
    assert table.X == [[5.1, 3.5], [7.0, 3.2]] and table.classes == ["setosa", "versicolor"]


def test_a_models_features_and_classes_pick_columns_by_name_and_fix_the_class_indices(tmp_path):
    path = write(tmp_path, "id,sepal_width,species,sepal_length\n7,3.5,virginica,5.1\n8,3.0,setosa,4.9\n")
    table = load_csv(
        path,
        target="species",
        classes=["setosa", "versicolor", "virginica"],
        features=["sepal_length", "sepal_width"],
        keep_rows=True,
    )
    assert table.X == [[5.1, 3.5], [4.9, 3.0]]
    assert table.y == [2, 0] and table.classes == ["setosa", "versicolor", "virginica"]
    assert table.rows == [["7", "3.5", "virginica", "5.1"], ["8", "3.0", "setosa", "4.9"]]


def test_without_a_target_every_column_is_a_feature(tmp_path):
    X, y, classes = load_csv(write(tmp_path, "a,b\n1,2\n"))
    assert (X, y, classes) == ([[1.0, 2.0]], None, None)


# ---- bad files: one CSVError (a ValueError) naming the file, the line and the column ----


@pytest.mark.parametrize(
    "content, target, message",
    [
        ("", "species", "the file is empty; its first line should name the columns"),
        ("\n  \n\n", "species", "the file is empty"),
        ("sepal_length,species\n", "species", "no rows after the header on line 1"),
        ("sepal_length,species\n\n\n", "species", "no rows after the header on line 1"),
        ("a,b,species\n1,2,x\n1,2\n", "species", "line 3 has 2 columns, the header on line 1 has 3"),
        ("a,b,species\n1,2,x\n1,2,x,4\n", "species", "line 3 has 4 columns, the header on line 1 has 3"),
        ("a,b,species\n1,2,x\n1,two,y\n", "species", "line 3, column 2 (b): 'two' is not a number"),
        ("a,b,species\n1,2,x\n1,,y\n", "species", "line 3, column 2 (b): is empty"),
        ("a,b,species\n1,2,x\n1,2, \n", "species", "line 3, column 3 (species): is empty; every row needs a target"),
        ("a,b,species\n1,nan,x\n", "species", "line 2, column 2 (b): 'nan' is not a finite number"),
        ("a,b,species\n-inf,1,x\n", "species", "line 2, column 1 (a): '-inf' is not a finite number"),
        ("a,b,species\n1,2,x\n", "specie", "line 1: no column 'specie' to predict (did you mean 'species'?); the "),
        ("a,b,species\n1,2,x\n", "colour", "line 1: no column 'colour' to predict; the columns are a, b, species"),
        (
            "a,b,species\n1,2,x\n3,4,x\n",
            "species",
            "column 'species' has one class, 'x': a classifier needs two or more",
        ),
        ("a,price\n1,2.5\n3,4\n", "price", "column 'price' holds numbers such as 2.5, not class labels: train a regr"),
        ("species\nx\ny\n", "species", "line 1: no feature columns, only the target 'species'"),
        ("a,,species\n1,2,x\n", "species", "line 1, column 2: the header gives no name"),
        ("a,b,a,species\n1,2,3,x\n", "species", "line 1: column 'a' appears twice (columns 1 and 3)"),
        ('a,species\n1,"x\n2,y\n', "species", "line 3: not valid CSV (unexpected end of data)"),
        ('a,species\n1,"x"y\n', "species", "line 2: not valid CSV (',' expected after '\"')"),
        ("a,species\r1,x\r2,y\r", "species", "line 1: a line ends with a lone carriage return (\\r)"),
        (b"a,species\n\x00\x00\x00\x01\n", "species", "line 2: not a text file (a NUL byte)"),
        (b"\x89PNG\r\n", "species", "line 1: not a UTF-8 text file (byte 0x89)"),
        ("a,species\n1,caf\xe9\n".encode("latin-1"), "species", "line 2: not a UTF-8 text file (byte 0xe9)"),
    ],
    ids=[
        *("empty", "blank-lines", "header-only", "header-and-blanks", "short-row", "long-row", "not-a-number"),
        *(
            "missing-value",
            "missing-target",
            "nan",
            "inf",
            "close-target",
            "unknown-target",
            "one-class",
            "fractional-labels",
        ),
        *("only-target", "unnamed-column", "twice-named", "open-quote", "stray-quote", "old-mac-lines", "nul"),
        *("png", "latin-1"),
    ],
)
def test_a_bad_file_is_a_csv_error_naming_file_line_and_column(tmp_path, content, target, message):
    path = write(tmp_path, content)
    with pytest.raises(CSVError) as error:
        load_csv(path, target=target)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
    assert isinstance(error.value, ValueError) and "\n" not in str(error.value)


def test_a_regression_target_that_is_not_a_number_says_a_regression_needs_one(tmp_path):
    with pytest.raises(CSVError, match=r"line 2, column 2 \(species\): 'setosa' is not a number \(a regression's"):
        load_csv(write(tmp_path, "a,species\n1,setosa\n"), target="species", regression=True)


def test_columns_or_labels_that_do_not_match_a_models_are_named(tmp_path):
    path = write(tmp_path, "petal,species\n1,setosa\n2,tulip\n")
    with pytest.raises(CSVError, match=r"line 1: no column 'sepal'; expected the features sepal, petal$"):
        load_csv(path, target="species", features=["sepal", "petal"])
    with pytest.raises(CSVError, match=r"line 3, column 2 \(species\): 'tulip' is not one of the classes setosa, iris"):
        load_csv(path, target="species", features=["petal"], classes=["setosa", "iris"])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp_path: tmp_path, "not a regular file (a directory)"),
        (lambda tmp_path: "/dev/zero", "not a regular file (a character device)"),
        (lambda tmp_path: os.mkfifo(tmp_path / "pipe") or tmp_path / "pipe", "not a regular file (a named pipe)"),
    ],
    ids=["directory", "dev-zero", "fifo"],
)
def test_what_is_not_a_regular_file_is_refused_unread(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(CSVError) as error:
        load_csv(path, target="species")
    assert str(error.value) == f"{path}: {message}"


def test_a_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "MAX_BYTES", 20)
    path = write(tmp_path, FLOWERS)
    with pytest.raises(CSVError, match=f"{len(FLOWERS)} bytes, more than the limit of 20"):
        load_csv(path, target="species")


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "nowhere.csv", target="species")


# ---- standardising and splitting ----


def test_standardised_columns_have_mean_0_and_deviation_1():
    X = [[1.0, 10.0, 5.0], [2.0, 30.0, 5.0], [3.0, 20.0, 5.0], [6.0, 60.0, 5.0]]
    mean, scale = mean_and_scale(X)
    assert mean == [3.0, 30.0, 5.0]
    assert scale[0] == math.sqrt((4 + 1 + 0 + 9) / 4) and scale[1] == math.sqrt((400 + 0 + 100 + 900) / 4)
    assert scale[2] == 1.0  # a constant column is only centred
    Z = standardize(X, mean, scale)
    assert Z[0] == [(1.0 - 3.0) / scale[0], (10.0 - 30.0) / scale[1], 0.0]
    for j in range(2):
        column = [row[j] for row in Z]
        assert statistics.fmean(column) == pytest.approx(0.0, abs=1e-15)
        assert statistics.pstdev(column) == pytest.approx(1.0, abs=1e-15)


def test_standardising_refuses_rows_of_the_wrong_length():
    with pytest.raises(ValueError, match="a row of 1 numbers, but mean and scale have 2"):
        standardize([[1.0]], [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="mean_and_scale needs rows of one length"):
        mean_and_scale([[1.0, 2.0], [1.0]])
    with pytest.raises(ValueError, match="too large to standardise"):
        mean_and_scale([[1e300], [-1e300]])


def test_train_test_split_holds_out_a_seeded_share_of_the_rows():
    X, y = [[float(i)] for i in range(10)], list(range(10))
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.3, seed=1)
    assert len(X_test) == 3 and len(X_train) == 7
    assert sorted(y_train + y_test) == y
    assert [[float(i)] for i in y_test] == X_test  # rows keep their labels
    assert train_test_split(X, y, 0.3, seed=1) == (X_train, X_test, y_train, y_test)
    assert train_test_split(X, y, 0.3, seed=2)[3] != y_test


@pytest.mark.parametrize(
    "fraction, words",
    [(0.0, "between 0 and 1"), (1.0, "between 0 and 1"), (0.01, "no rows to test on"), (0.99, "no rows to train on")],
)
def test_train_test_split_refuses_a_fraction_that_leaves_a_part_empty(fraction, words):
    with pytest.raises(ValueError, match=words):
        train_test_split([[1.0]] * 10, [0] * 10, fraction)
