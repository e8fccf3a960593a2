"""`tinygrad-lite fit data.csv --target COLUMN [--save MODEL]` and `tinygrad-lite predict MODEL new.csv`:
regression and classification on a learner's table, text columns one-hot, the baselines, the saved model used
again, and every malformed file answered with one line and exit code 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_lite import data
from tinygrad_lite.programs.fit import Model, TableError, fit, read_table, target_kind

pytestmark = pytest.mark.slow  # subprocesses, trained demos, a browser: `make check` leaves them out


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinygrad_lite", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture
def houses(tmp_path):
    """A made-up table: price = 2500 size + 15000 rooms + 40000 + noise, semicolons, a quoted header."""
    rng = np.random.default_rng(0)
    size = rng.uniform(40, 220, 80)
    rooms = np.round(size / 35 + rng.normal(0, 0.7, 80)).clip(1, 8)
    price = 2500 * size + 15000 * rooms + 40000 + rng.normal(0, 20000, 80)
    path = tmp_path / "houses.csv"
    path.write_text('"size";"rooms";"price"\n' + "".join(f"{a:.1f};{b:.0f};{c:.0f}\n"
                                                         for a, b, c in zip(size, rooms, price)))
    return path


def test_a_numeric_target_is_regression_and_beats_predicting_the_mean(houses):
    done = _cli("fit", houses, "--target", "price", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["kind"] == "regression" and result["rows"] == 80 and result["test_rows"] == 20
    s = result["scores"]
    # the noise has a spread of 20,000: a model that learned the line is near it, the mean is far off
    assert s["network"] < 0.3 * s["predicting the mean"] and s["linear model"] < 0.3 * s["predicting the mean"]
    text = _cli("fit", houses, "--target", "price", "--steps", "200")
    assert "in the units of 'price'" in text.stdout and "predicting the mean:" in text.stdout


def test_text_labels_are_classes_and_the_network_beats_the_majority(tmp_path):
    X, y = data.moons(n=160, noise=0.1, seed=1)
    path = tmp_path / "moons.csv"
    path.write_text("x1,x2,kind\n" + "".join(f'{a:.4f},{b:.4f},"{("upper", "lower")[c]}"\n' for (a, b), c in zip(X, y)))
    result = json.loads(_cli("fit", path, "--target", "kind", "--json").stdout)
    assert result["kind"] == "classification" and result["metric"] == "accuracy"
    assert result["scores"]["predicting the majority class"] == 0.5  # stratified: 20 of each class in the test rows
    assert result["scores"]["network"] >= 0.9 > result["scores"]["linear model"] - 0.05


def test_the_target_s_kind():
    assert target_kind(["1.5", "2", "3", "4"])[0] == "regression"
    kind, y, names = target_kind(["0", "1", "1", "0", "1", "0"])
    assert kind == "classification" and names == ["0", "1"] and y.tolist() == [0, 1, 1, 0, 1, 0]
    kind, y, names = target_kind(["cat", "dog", "cat", "cat"])
    assert kind == "classification" and names == ["cat", "dog"] and y.tolist() == [0, 1, 0, 0]
    assert target_kind([str(i) for i in range(40)])[0] == "regression"  # many whole numbers: a quantity


def test_quoted_fields_blank_lines_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('\ufeffa,"b, with a comma",y\n1,2,3\n\n4,5,6\n7,8,9\n1,1,1\n', encoding="utf-8")
    encoding, X, y = read_table(path, "y")
    assert encoding.features() == ["a", "b, with a comma"] and X.shape == (4, 2) and y == ["3", "6", "9", "1"]


BAD = {  # file name: (bytes, the message's words)
    "empty.csv": (b"", "the file is empty"),
    "blank_lines.csv": (b"\n\n  \n", "the file is empty"),
    "header_only.csv": (b"a,b,y\n", "a header but no data rows"),
    "one_row.csv": (b"a,y\n1,2\n", "1 data row; fit needs at least 4"),
    "three_rows.csv": (b"a,y\n1,2\n3,4\n5,6\n", "3 data rows; fit needs at least 4"),
    "no_target.csv": (b"a,b\n1,2\n3,4\n5,6\n7,8\n", "no column 'y'; the columns are a, b"),
    "only_target.csv": (b"y\n1\n2\n3\n4\n", "only the target column"),
    "text_column.csv": (b"a,b,y\n1,x,1\n2,3,4\n5,6,7\n8,9,1\n", "line 2, column 'b': 'x' is not a number"),
    "text_column_late.csv": (b"a,y\n1,1\n2,2\n3,3\n4,4\nfive,5\n", "line 6, column 'a': 'five' is not a number"),
    "empty_cell.csv": (b"a,b,y\n1,,1\n2,3,4\n5,6,7\n8,9,1\n", "line 2, column 'b': an empty cell"),
    "empty_target.csv": (b"a,y\n1,\n2,3\n4,5\n6,7\n", "line 2, column 'y': the target is empty"),
    "ragged_short.csv": (b"a,b,y\n1,2,3\n4,5\n6,7,8\n9,1,2\n", "line 3 has 2 fields, the header has 3"),
    "ragged_long.csv": (b"a,b,y\n1,2,3\n4,5,6,7\n6,7,8\n9,1,2\n", "line 3 has 4 fields, the header has 3"),
    "nan_input.csv": (b"a,y\n1,2\nnan,3\n4,5\n6,7\n", "line 3, column 'a': 'nan' is not a finite number"),
    "inf_input.csv": (b"a,y\n1,2\ninf,3\n4,5\n6,7\n", "line 3, column 'a': 'inf' is not a finite number"),
    "neg_inf_input.csv": (b"a;y\n1;2\n-Infinity;3\n4;5\n6;7\n", "'-Infinity' is not a finite number"),
    "nan_target.csv": (b"a,y\n1,2\n2,NaN\n4,5\n6,7\n", "the target has 'NaN', which is not a finite number"),
    "inf_target.csv": (b"a,y\n1,2\n2,1e999\n4,5\n6,7\n", "the target has '1e999', which is not a finite number"),
    "one_class.csv": (b"a,y\n1,cat\n2,cat\n3,cat\n4,cat\n", "one class only ('cat')"),
    "latin1.csv": ("a,y\n1,caf\u00e9\n2,b\n3,c\n4,d\n".encode("latin-1"), "not UTF-8 text"),
    "utf16.csv": ("a,y\n1,2\n3,4\n5,6\n7,8\n".encode("utf-16"), "not UTF-8 text"),
    "binary.csv": (bytes(range(256)), "not UTF-8 text"),
    "unnamed_column.csv": (b"a,,y\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n", "every column needs a name of its own"),
    "duplicate_column.csv": (b"a,a,y\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n", "every column needs a name of its own"),
    "unclosed_quote.csv": (b'a,y\n1,"2\n3,4\n5,6\n7,8\n', "not readable as CSV (unexpected end of data"),
    "nul_byte.csv": (b"a,y\n1,2\n3,\x004\n5,6\n7,8\n", "not readable as CSV: it holds NUL bytes"),
    "id_target.csv": (b"a,y\n1,ann\n2,bob\n3,cy\n4,di\n5,ed\n", "5 different labels in 5 rows"),
    "tab_separated.csv": (b"a\tb\ty\n1\t2\t3\n4\t5\t6\n7\t8\t9\n1\t2\t3\n", "no column 'y'; the columns are a\tb\ty"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_malformed_file_is_one_line_and_exit_code_2(tmp_path, name):
    content, words = BAD[name]
    (tmp_path / name).write_bytes(content)
    done = _cli("fit", tmp_path / name, "--target", "y", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("tinygrad-lite fit: error:"), done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args, words", [
    (["missing.csv", "--target", "y"], "missing.csv: no such file"),
    ([".", "--target", "y"], "that is a folder"),
    (["t.csv"], "the following arguments are required: --target"),
    (["t.csv", "--target", "y", "--steps", "0"], "0 is too small"),
    (["t.csv", "--target", "y", "--hidden", "two"], "'two' is not a whole number"),
])
def test_a_wrong_command_line_is_one_line_and_exit_code_2(tmp_path, args, words):
    (tmp_path / "t.csv").write_text("a,y\n1,2\n3,4\n5,6\n7,8\n")
    done = _cli("fit", *args, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and words in done.stderr, done.stderr


def test_read_table_raises_table_errors_only(tmp_path):
    with pytest.raises(TableError, match="no such file"):
        read_table(tmp_path / "nothing.csv", "y")


@pytest.fixture
def cities(tmp_path):
    """Prices set by size and a text column (the city): price = 2500 size + a city's premium, semicolons."""
    premium = {"Paris": 90000, "Lyon": 30000, "Nice": 50000}
    rng = np.random.default_rng(1)
    rows = [(rng.uniform(40, 200), ("Paris", "Lyon", "Nice")[i % 3]) for i in range(90)]
    path = tmp_path / "cities.csv"
    path.write_text("size;city;price\n" + "".join(f"{a:.1f};{c};{2500 * a + premium[c]:.0f}\n" for a, c in rows))
    (tmp_path / "new.csv").write_text("city,size,note\nParis,100,x\nLyon,100,y\nNice,150,z\n")
    return path


def test_a_text_input_column_is_one_hot_encoded_and_said_so(cities):
    encoding, X, _ = read_table(cities, "price")
    assert encoding.features() == ["size", "city=Lyon", "city=Nice", "city=Paris"]
    one_hot = X[:, 1:]
    assert set(one_hot.sum(axis=1)) == {1.0} and one_hot[:3].tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    run = fit(cities, "price", steps=600)
    assert "city (text: one-hot, 3 values)" in run.narration[0]
    s = run.summary["scores"]
    assert s["linear model"] < 0.05 * s["predicting the mean"]  # the premiums are learnt: price is linear in them


def test_a_saved_model_predicts_new_rows_as_the_trained_one_does(cities, tmp_path):
    model = tmp_path / "prices.npz"
    done = _cli("fit", cities, "--target", "price", "--steps", "300", "--save", model)
    assert done.returncode == 0, done.stderr
    assert f"predict {model}" in done.stdout and model.stat().st_mode & 0o777 == 0o666 & ~_umask()
    learnt = fit(cities, "price", steps=300).curves["model"]  # the same seed and steps: the same network
    new = tmp_path / "new.csv"
    X = np.array([[100, 0, 0, 1], [100, 1, 0, 0], [150, 0, 1, 0]], dtype=float)  # the new rows, encoded by hand
    expected = learnt.predict_numbers(X)
    loaded = Model.load(model)
    np.testing.assert_allclose(loaded.predict_numbers(X), expected, rtol=1e-12)
    assert loaded.predict(new) == [f"{v:.6g}" for v in expected]
    out = _cli("predict", model, new)
    assert out.returncode == 0 and out.stdout.splitlines()[0] == "city,size,note,predicted_price"
    assert [line.split(",")[-1] for line in out.stdout.splitlines()[1:]] == [f"{v:.6g}" for v in expected]
    written = _cli("predict", model, new, "-o", tmp_path / "p.csv")
    assert written.returncode == 0 and (tmp_path / "p.csv").read_text() == out.stdout


def test_a_saved_classifier_predicts_class_names(tmp_path):
    X, y = data.moons(n=120, noise=0.1, seed=2)
    path = tmp_path / "moons.csv"
    path.write_text("x1,x2,kind\n" + "".join(f"{a:.4f},{b:.4f},{('upper', 'lower')[c]}\n" for (a, b), c in zip(X, y)))
    run = fit(path, "kind", steps=400, save=tmp_path / "moons.npz")
    predicted = Model.load(tmp_path / "moons.npz").predict(path)
    assert set(predicted) <= {"upper", "lower"}
    assert np.mean([p == ("upper", "lower")[c] for p, c in zip(predicted, y)]) >= 0.9
    assert run.summary["saved"] == str(tmp_path / "moons.npz")


def _umask():
    import os
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("args, words", [
    (["model.npz", "unknown_city.csv"], "line 2, column 'city': 'Rome' was not in the training table (it had Lyon, "
                                        "Nice, Paris)"),
    (["model.npz", "no_city.csv"], "no column 'city'; the model needs the columns size, city"),
    (["model.npz", "text_size.csv"], "line 3, column 'size': 'big' is not a number"),
    (["cities.csv", "new.csv"], "cities.csv: not a model saved by tinygrad-lite fit --save"),
    (["missing.npz", "new.csv"], "missing.npz: no such file"),
    (["model.npz", "new.csv", "-o", "out.txt"], "give a file name ending in .csv"),
])
def test_predict_mistakes_are_one_line_and_exit_code_2(cities, tmp_path, args, words):
    fit(cities, "price", steps=20, save=tmp_path / "model.npz")
    (tmp_path / "unknown_city.csv").write_text("size,city\n100,Rome\n")
    (tmp_path / "no_city.csv").write_text("size\n100\n")
    (tmp_path / "text_size.csv").write_text("size,city\n100,Paris\nbig,Lyon\n")
    done = _cli("predict", *args, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out.txt").exists()


def test_fit_save_refuses_a_name_that_is_not_npz_before_training(cities, tmp_path):
    done = _cli("fit", cities, "--target", "price", "--save", tmp_path / "model.pkl")
    assert done.returncode == 2 and "must end in .npz" in done.stderr and not (tmp_path / "model.pkl").exists()
