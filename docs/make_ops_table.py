"""Regenerate docs/ops.md from the op table in tinygrad_lite/ops.py (the test suite checks it is current)."""

from pathlib import Path

from tinygrad_lite import ops

HEADER = """# The primitive operations

Generated from the table in `tinygrad_lite/ops.py` by `python docs/make_ops_table.py`: do not edit by hand.
Each primitive is one entry there, its forward and one backward rule per input side by side. Every other
operation (`a - b`, `x.mean()`, `x.softmax()`, `x.sqrt()`, ...) is a one-line composite of these, with no
backward of its own.

"""


def render() -> str:
    return HEADER + ops.markdown_table() + "\n"


if __name__ == "__main__":
    Path(__file__).with_name("ops.md").write_text(render())
