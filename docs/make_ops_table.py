"""Regenerate docs/ops.md from the op table in tinygrad_lite/ops.py (the test suite checks it is current)."""

from pathlib import Path

from tinygrad_lite import ops

HEADER = """# The primitive operations

Generated from the table in `tinygrad_lite/ops.py` by `python docs/make_ops_table.py`: do not edit by hand.
Each primitive is one entry there, its forward and one backward rule per input side by side. Every other
operation (`x.mean()`, `x.var()`, `x.softmax()`, `x.sqrt()`, ...) is a one-line composite of these, with no
backward of its own.

"""

FOOTER = """
## Conventions at the edges

Every composite and loss is compared with PyTorch's recorded answers at +-0, +-inf, NaN, ties, zero spread,
`ddof >= n`, empty and size-1 axes, saturated probabilities and masked logits, forward, first and second order,
in float64 and float32 (`tests/pytorch_edges.py` records them, `tests/test_pytorch_edges.py` compares). Where
PyTorch gives a number, tinygrad_lite gives the same:

- `softmax`, `log_softmax` and `logsumexp` shift by the largest *finite* value: a `-inf` logit (a mask) gets
  probability 0 and gradient 0; `logsumexp` of only `-inf` is `-inf`, with a `+inf` it is `+inf`; over an empty
  axis softmax is empty and logsumexp is `-inf`.
- `nn.CrossEntropy` with class indices picks each target's log-probability by index, so a masked (`-inf`) class
  elsewhere in the row leaves the loss and its gradient finite.
- `std` where the spread is zero has gradient 0 (not NaN).
- `var` and `std` with `ddof >= n` divide by zero, as numpy and PyTorch: NaN, or inf.
- `prod` gives each element the product of the others, exact at zeros to second order, in linear memory.
- `nn.BCE` clamps each log at -100, as PyTorch, in any float dtype.
- At a NaN input `relu` passes the gradient on and `abs` gives 0; `maximum` and `minimum` give the whole
  gradient to both inputs where either is NaN; as PyTorch's.

Where tinygrad_lite differs on purpose (each docstring says so too):

- `nn.BCE` at a clamped log: gradient 0 (PyTorch divides by `max(p (1 - p), 1e-12)`: up to 1e12).
- `var` and `std` with `ddof >= n`: gradient NaN (PyTorch's backward divides by the negative `n - ddof`); an
  infinite element makes the whole gradient of `var` NaN (PyTorch leaves out the mean's share).
- `sqrt` at `-0.0`: gradient `+inf` (numpy's `(-0.0) ** -0.5`; PyTorch: `-inf`).
- `nn.Dropout` gives 0 for a dropped `inf` or NaN (PyTorch's product with its mask gives NaN).
- `max`, `min` and `nn.MaxPool2d`: a NaN in a group is its maximum and gets the gradient, as in PyTorch's
  `max(dim)` and max-pooling (PyTorch's `amax` gives NaN to the whole group).
- `prod` gives each element the product of the others even where another element is `inf` or NaN or the whole
  product overflows (PyTorch's `out / x` is NaN or inf there).
"""


def render() -> str:
    return HEADER + ops.markdown_table() + "\n" + FOOTER


if __name__ == "__main__":
    Path(__file__).with_name("ops.md").write_text(render())
