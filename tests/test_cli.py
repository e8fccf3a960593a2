"""The `tinygrad-lite` command: the JSON contract of every demo, plots, and bad arguments."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lite.cli import main

pytestmark = pytest.mark.slow  # subprocesses, trained demos, a browser: `make check` leaves them out

RUN = [sys.executable, "-m", "tinygrad_lite"]


def _run(*args, env=None):
    return subprocess.run([*RUN, *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("name, keys", [
    ("perceptron", {"initial_weights", "final_weights", "prediction", "final_loss"}),
    ("regressor", {"seed", "initial_cost", "gradient_check", "final_cost", "iterations", "predicted_scores",
                   "overfitting"}),
    ("xor", {"single_neuron_accuracy", "hidden_layer_accuracy"}),
    ("moons", {"train_accuracy", "steps"}),
    ("digits", {"mlp", "cnn"}),
    ("names", {"steps", "split", "models"}),
    ("shakespeare", {"iters", "train_loss", "val_loss", "seconds", "parameters", "evals", "sample"}),
])
def test_demo_json_contract(name, keys, demo_runs):
    done = demo_runs["json"]  # `demo all --json`: one object, each demo's under its name
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)[name]  # exactly one JSON object on stdout, nothing else
    assert set(result) == keys
    if name == "perceptron":
        assert len(result["initial_weights"]) == len(result["final_weights"]) == 3
        assert result["prediction"] == pytest.approx(0.99993704283521567, rel=1e-9)
    if name == "regressor":
        assert len(result["predicted_scores"]) == 3 and result["seed"] == 0
        for model in ("unregularized", "regularized"):
            assert set(result["overfitting"][model]) == {"train_mse", "test_mse"}
    if name == "xor":
        assert 0 <= result["single_neuron_accuracy"] < 1 == result["hidden_layer_accuracy"]
    if name == "moons":  # micrograd's demo: every one of the 100 points on its side of the boundary
        assert result["train_accuracy"] == 1.0
    if name == "digits":  # the stratified 75/25 split with seed 0: 450 test images
        assert set(result["mlp"]) == set(result["cnn"]) == {"test_accuracy", "seconds"}
        assert result["mlp"]["test_accuracy"] >= 0.97 and result["cnn"]["test_accuracy"] >= 0.98
        assert all(round(result[m]["test_accuracy"] * 450, 9) % 1 == 0 for m in ("mlp", "cnn"))  # k of 450
    if name == "names":  # the short version `demo all` runs: 500 steps a network
        assert result["steps"] == 500 and result["split"] == [25626, 3203, 3204]
        assert list(result["models"]) == ["bigram (counts)", "bigram (descent)", "MLP", "MLP + BatchNorm",
                                          "WaveNet-style"]
        assert all(m["dev"] < 3.0 and len(m["samples"]) == 10 for m in result["models"].values())
    if name == "shakespeare":
        assert result["iters"] == 40 and result["parameters"] == 804096 and len(result["sample"]) == 500
        assert result["val_loss"] < np.log(65) - 0.5  # below a uniform guess over the 65 characters


def test_demo_all_json_one_demo_s_json_and_seed(demo_runs):
    result = json.loads(demo_runs["json"].stdout)
    assert set(result) == {"perceptron", "regressor", "xor", "moons", "digits", "names", "shakespeare"}
    assert result["regressor"]["seed"] == 0
    one = _run("demo", "perceptron", "--json")  # one demo: its object itself, the same numbers
    assert one.returncode == 0 and json.loads(one.stdout) == result["perceptron"]
    seeded = json.loads(_run("demo", "regressor", "--json", "--seed", "3").stdout)
    assert seeded["seed"] == 3 and seeded["initial_cost"] != result["regressor"]["initial_cost"]


def test_demo_narrates_and_writes_plots(demo_runs):
    done, tmp_path = demo_runs["narrated"], demo_runs["out"]
    assert done.returncode == 0, done.stderr
    assert "Considering new situation [1, 0, 0] -> ?:" in done.stdout and "Part 7" in done.stdout
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["digits_confusion.png", "digits_curves.png", "digits_mistakes.png", "moons_boundary.png",
                    "names_embedding.png", "names_loss.png", "perceptron_loss.png", "regressor_cost.png",
                    "regressor_grid.png", "regressor_overfitting.png", "regressor_predictions.png",
                    "regressor_sigmoid.png", "shakespeare_attention.png", "shakespeare_loss.png", "xor_loss.png"]
    assert "training accuracy 100.0% (100 of 100)" in done.stdout and "CNN conv-pool-conv-pool-linear" in done.stdout
    assert all((tmp_path / p).read_bytes().startswith(b"\x89PNG") for p in pngs)
    for name in ("perceptron", "regressor"):  # each tutorial's graph, and its backward pass as a page to step through
        assert f"graph: {tmp_path / f'{name}_graph.svg'}" in done.stdout
        assert f"page: {tmp_path / f'{name}_steps.html'}" in done.stdout
        assert "Backward pass of the" in (tmp_path / f"{name}_steps.html").read_text()


def test_demo_without_matplotlib_says_so_once_and_still_runs(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None; from tinygrad_lite.cli import main; "
            f"sys.exit(main(['demo', 'xor', '--out', {str(tmp_path)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("matplotlib") == 1 and 'pip install "tinygrad-lite[plot]"' in done.stderr
    assert "100% of the rows right" in done.stdout and not list(tmp_path.iterdir())


def _cli(capsys, *args):
    """Run the command in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_mistake(code, err, *words):
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("tinygrad-lite"), err
    assert "Traceback" not in err and all(w in err for w in words), err


@pytest.mark.parametrize("args", [["demo"], ["demo", "nonsense"], ["demo", "xor", "--seed", "x"], ["bogus"], [],
                                  ["demo", "perceptron", "--seed", "-5"], ["demo", "xor", "--seed", "99999999999"],
                                  ["explain", "nonsense"], ["graph"], ["graph", "perceptron"]])
def test_bad_arguments_are_one_line_and_exit_2(args, capsys):
    code, _, err = _cli(capsys, *args)
    _one_line_mistake(code, err, "--help")


def test_out_that_is_a_file_or_unwritable_gives_one_line(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("")
    for out, words in ((afile, ["a file"]), (afile / "inside", ["inside"]), ("", ["empty"])):
        code, _, err = _cli(capsys, "demo", "xor", "--out", str(out))
        _one_line_mistake(code, err, *words)
    assert afile.read_text() == ""


@pytest.mark.parametrize("expr, shown", [("1/0", "1 / 0"), ("0**-1", "0 ** (-1)"), ("9**9**9", "9 ** 9 ** 9"),
                                         ("10**400", "10 ** 400"), ("2.0**1024", "2.0 ** 1024"),
                                         ("(-8)**0.5", "(-8) ** 0.5"), ("(-1)**(1/3)", "(-1) ** (1 / 3)"),
                                         ("a * (1/0)", "1 / 0"), ("exp(1000)", "exp(1000)"),
                                         ("log(a - 2)", "log(a - 2)")])
def test_arithmetic_mistakes_name_the_sub_expression(expr, shown, tmp_path, capsys):
    code, _, err = _cli(capsys, "graph", "--expr", expr, "a=2", "-o", str(tmp_path / "g.dot"))
    _one_line_mistake(code, err, repr(shown))
    assert not list(tmp_path.iterdir())


def test_an_expression_may_start_with_a_minus(tmp_path, capsys):
    code, out, err = _cli(capsys, "graph", "--expr", "-a*b", "a=2", "b=3", "-o", str(tmp_path / "g.dot"))
    assert code == 0, err
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


@pytest.mark.parametrize("pair", ["a=1e400", "a=nan", "a=-inf", "a=", "a=x"])
def test_variables_must_be_finite_numbers(pair, tmp_path, capsys):
    code, _, err = _cli(capsys, "graph", "--expr", "a*2", pair, "-o", str(tmp_path / "g.dot"))
    _one_line_mistake(code, err, "a")
    assert not list(tmp_path.iterdir())


def test_full_width_names_are_the_same_in_expression_and_variable(tmp_path, capsys):
    for expr, pair in (("\uff41*2", "\uff41=3"), ("a*2", "\uff41=3"), ("\uff41*2", "a=3")):
        code, _, err = _cli(capsys, "graph", "--expr", expr, pair, "-o", str(tmp_path / "g.dot"))
        assert code == 0, err


def test_output_paths_that_cannot_be_written_are_one_line(tmp_path, capsys):
    for out, words in ((tmp_path, ["folder"]), (tmp_path / "no" / "such" / "g.svg", ["no/such", "does not exist"]),
                       (tmp_path / "g.xyz", [".xyz", ".svg"]), ("", ["empty"])):
        code, _, err = _cli(capsys, "graph", "--expr", "a*2", "a=1", "-o", str(out))
        _one_line_mistake(code, err, *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_numpy_warnings_never_reach_the_terminal(tmp_path):
    done = _run("graph", "--expr", "sqrt(a) + log(b)", "a=0", "b=1", "-o", str(tmp_path / "g.dot"))
    assert done.returncode == 0, done.stderr
    assert "RuntimeWarning" not in done.stderr and ".py:" not in done.stderr
    assert "not finite" in done.stderr  # said in words: the gradient of sqrt at 0 is infinite


def test_help_from_both_entry_points():
    assert "demo" in _run("--help").stdout
    script = Path(sys.executable).with_name("tinygrad-lite")  # the console script, installed beside python
    script = subprocess.run([str(script), "demo", "--help"], capture_output=True, text=True)
    assert script.returncode == 0 and "--json" in script.stdout


def test_what_the_demo_prints_does_not_depend_on_the_cpu_s_simd_level(demo_runs):
    # numpy picks AVX-512, AVX2 or baseline kernels by CPU; their last bits differ. What we print must not.
    from numpy._core._multiarray_umath import __cpu_dispatch__
    plain = demo_runs["narrated"]
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(__cpu_dispatch__)}
    baseline = subprocess.run([*demo_runs["command"], "--out", str(demo_runs["out"])], capture_output=True, text=True,
                              env=env)
    assert plain.returncode == baseline.returncode == 0, plain.stderr + baseline.stderr
    assert plain.stdout == baseline.stdout


ROOT = Path(__file__).resolve().parents[1]


def test_the_command_line_without_scipy_says_so_in_one_line_with_exit_code_2(tmp_path):
    blocker = tmp_path / "scipy"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('No module named scipy')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    run = subprocess.run([sys.executable, "-m", "tinygrad_lite", "demo", "regressor", "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "scipy" in lines[0] and "pip install" in lines[0], run.stderr
