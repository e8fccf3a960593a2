"""The runnable promises: examples run and print what they say; generated docs are current."""

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_runs_and_prints_hand_derived_values():
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for line in ("dL/da = 6", "dL/db = -4", "dL/dc = -2", "dL/df = 4", "f'(2)  = 12", "f''(2) = 12",
                 "gradcheck of tanh(A @ B): True"):
        assert line in done.stdout


@pytest.mark.parametrize("name, expected", [
    ("perceptron.py", "[0.99993704]"),
    ("regressor.py", "Part 7"),
    ("xor.py", "100% of the rows right"),
    ("three_layer.py", "accuracy: 100%"),
    ("newton.py", "Newton: final cost"),
])
def test_examples_run(name, expected, tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


def test_ops_doc_is_generated_from_the_table():
    render = runpy.run_path(str(ROOT / "docs" / "make_ops_table.py"))["render"]
    assert (ROOT / "docs" / "ops.md").read_text() == render(), "run: python docs/make_ops_table.py"


@pytest.mark.parametrize("page", ["README.md", *sorted(p.relative_to(ROOT).as_posix()
                                                          for p in (ROOT / "docs").glob("*.md"))])
def test_every_python_block_in_the_docs_runs(page):
    """The blocks of a page run in order in one namespace, as a reader would run them."""
    text = (ROOT / page).read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, page, "exec"), namespace)
