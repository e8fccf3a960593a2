"""The benchmark is not a timed test: here it only has to run, and its engines have to agree."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses, trained demos, a browser: `make check` leaves them out

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


def test_bench_runs_and_engines_agree(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--json", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # bench.py exits non-zero if any engine disagrees with numpy
    for name in ("W1", "W2", "W3", "W4", "W5", "W6", "W1r", "W3r", "W4r", "W5r", "W6r"):
        assert f"| {name} " in done.stdout
    assert '"ratio"' in out.read_text()


def test_peers_benchmark_runs_and_engines_agree(tmp_path):
    # Here only numpy and tinygrad_lite are installed; `make bench-peers` adds PyTorch, autograd, micrograd.
    out = tmp_path / "peers.json"
    peers = BENCH.with_name("peers.py")
    done = subprocess.run([sys.executable, str(peers), "--quick", "--json", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # non-zero if any engine's result differs from numpy's
    results = __import__("json").loads(out.read_text())["results"]
    assert {"numpy", "tinygrad_lite"} <= set(results)
    for engine in results.values():
        assert all("error" not in v for v in engine.values())
    assert "| W3 one step, peak traced |" in done.stdout


def test_gpt_step_benchmark_runs_with_or_without_pytorch():
    # W7 times tinygrad_lite's GPT step beside numpy by hand and PyTorch's (checking that their losses agree);
    # where PyTorch is absent it says so instead of its row.
    done = subprocess.run([sys.executable, str(BENCH.with_name("gpt_step.py")), "--quick"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "| tinygrad_lite | " in done.stdout and "| numpy by hand" in done.stdout
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "(torch: " in done.stderr
    else:
        assert "| torch | " in done.stdout
