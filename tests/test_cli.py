"""The `tinygrad-lite` command: the JSON contract of every demo, plots, and bad arguments."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = [sys.executable, "-m", "tinygrad_lite"]


def _run(*args, env=None):
    return subprocess.run([*RUN, *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("name, keys", [
    ("perceptron", {"initial_weights", "final_weights", "prediction", "final_loss"}),
    ("regressor", {"seed", "initial_cost", "gradient_check", "final_cost", "iterations", "predicted_scores",
                   "overfitting"}),
    ("xor", {"single_neuron_accuracy", "hidden_layer_accuracy"}),
])
def test_demo_json_contract(name, keys):
    done = _run("demo", name, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # exactly one JSON object on stdout, nothing else
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


def test_demo_all_json_and_seed():
    done = _run("demo", "all", "--json", "--seed", "3")
    result = json.loads(done.stdout)
    assert set(result) == {"perceptron", "regressor", "xor"} and result["regressor"]["seed"] == 3


def test_demo_narrates_and_writes_plots(tmp_path):
    done = _run("demo", "all", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Considering new situation [1, 0, 0] -> ?:" in done.stdout and "Part 7" in done.stdout
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["perceptron_loss.png", "regressor_cost.png", "regressor_grid.png", "regressor_overfitting.png",
                    "regressor_predictions.png", "regressor_sigmoid.png", "xor_loss.png"]
    assert all((tmp_path / p).read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_demo_without_matplotlib_says_so_once_and_still_runs(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None; from tinygrad_lite.cli import main; "
            f"sys.exit(main(['demo', 'xor', '--out', {str(tmp_path)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("matplotlib") == 1 and 'pip install "tinygrad-lite[plot]"' in done.stderr
    assert "100% of the rows right" in done.stdout and not list(tmp_path.iterdir())


@pytest.mark.parametrize("args", [["demo"], ["demo", "nonsense"], ["demo", "xor", "--seed", "x"], ["bogus"], [],
                                  ["demo", "perceptron", "--seed", "-5"], ["demo", "xor", "--seed", "99999999999"],
                                  ["explain", "nonsense"]])
def test_bad_arguments_give_usage_and_exit_2(args):
    done = _run(*args)
    assert done.returncode == 2
    assert "usage: tinygrad-lite" in done.stderr and "Traceback" not in done.stderr


def test_out_that_is_a_file_or_unwritable_gives_a_message(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    done = _run("demo", "xor", "--out", str(afile))
    assert done.returncode == 2 and "that is a file" in done.stderr and "Traceback" not in done.stderr
    done = _run("demo", "xor", "--out", str(afile / "inside"))
    assert done.returncode == 1 and "tinygrad-lite:" in done.stderr and "Traceback" not in done.stderr


def test_help_from_both_entry_points():
    assert "demo" in _run("--help").stdout
    script = Path(sys.executable).with_name("tinygrad-lite")  # the console script, installed beside python
    script = subprocess.run([str(script), "demo", "--help"], capture_output=True, text=True)
    assert script.returncode == 0 and "--json" in script.stdout
