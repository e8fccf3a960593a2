"""Regenerate what the docs say of the op table (tinygrad_lite/ops/): docs/ops.md, and the lists of methods in
README.md (its "- Operators" item) and docs/coming_from.md (its "| ops |" row). The test suite checks all three
are current, so a new table entry shows up in them when this is run."""

import inspect
import textwrap
from pathlib import Path

from tinygrad_lite import ops
from tinygrad_lite.pytorch_names import markdown_table
from tinygrad_lite.value import Value

ROOT = Path(__file__).resolve().parents[1]

HEADER = """# The primitive operations

Generated from the table in `tinygrad_lite/ops/` by `python docs/make_ops_table.py`: do not edit by hand.
Each primitive is one entry there, its forward and one backward rule per input side by side. Every other
operation (`x.mean()`, `x.var()`, `x.softmax()`, `x.sqrt()`, ...) is a one-line composite of these, with no
backward of its own.

"""

FOOTER = """
## dtypes

A Value holds float64 unless it is given float32 (`Value(x, dtype=np.float32)`, or `model.to(np.float32)` for
a model's parameters), and every op keeps its inputs' dtype, gradients included. A constant with axes mixed in
follows numpy's promotion (a float64 array makes the result float64), but a Python number, a numpy scalar and
a 0-d array are taken as Python floats, as PyTorch takes 0-d tensors: `x / np.sqrt(d)` and `x * np.float64(2)`
keep a float32 `x` float32.

## Conventions at the edges

Every composite and loss is compared with PyTorch's recorded answers at +-0, +-inf, NaN, ties, zero spread,
`ddof >= n`, empty and size-1 axes, saturated probabilities and masked logits, forward, first and second order,
in float64 and float32 (`tools/pytorch_edges.py` records them, `tests/test_pytorch_edges.py` compares). Where
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
- `masked_softmax` (attention's) passes no gradient where the mask forbids or where a row allows one place, even
  when the upstream gradient holds NaN or inf there (PyTorch's softmax backward sums it into the row: NaN).
- `max`, `min` and `nn.MaxPool2d`: a NaN in a group is its maximum and gets the gradient, as in PyTorch's
  `max(dim)` and max-pooling (PyTorch's `amax` gives NaN to the whole group).
- `prod` gives each element the product of the others even where another element is `inf` or NaN or the whole
  product overflows (PyTorch's `out / x` is NaN or inf there).
"""


def render() -> str:
    return HEADER + ops.markdown_table() + "\n" + FOOTER


def method_names() -> tuple[list[str], list[str], list[str]]:
    """The primitives' Value methods (not the operators), the composites, and the module functions."""
    primitives = [op.name for op in ops.TABLE.values()  # the table's order (ABOUT's is the order of import)
                  if ops.about(op).method and not ops.about(op).symbol and op.name != "getitem"]
    not_ops = {"item", "tolist", "numpy", "zero_grad", "detach", "register_hook", "retain_grad", "backward"}
    composites = [n for n, f in vars(Value).items() if inspect.isfunction(getattr(f, "__wrapped__", f)) and
                  not n.startswith("_") and n not in ops.TABLE and n not in not_ops]
    functions = [op.name for op in ops.TABLE.values() if not ops.about(op).method] + ["maximum", "minimum"]
    return primitives, composites, functions


def readme_methods() -> str:
    primitives, composites, functions = method_names()
    text = (f"- Operators `+ - * / ** @`, unary `-`, indexing; the primitives' methods `{' '.join(primitives)}` "
            f"(docs/ops.md); the composites `{' '.join(composites)} T`; the module functions "
            f"{', '.join(f'`tl.{n}`' for n in functions)}. `im2col`/`col2im` give an image's windows as rows and "
            "back (what Conv2d and the pooling layers are built on); `argmax`/`argmin` give plain integer arrays; "
            "comparisons give plain boolean arrays.")
    return textwrap.fill(text, 110, subsequent_indent="  ", break_on_hyphens=False)


def coming_from_methods() -> str:
    primitives, composites, functions = method_names()
    return (f"| ops | `+ * ** relu` | `+ - * / ** @`, `{' '.join(primitives + composites)}`, indexing, "
            f"{', '.join(f'`tl.{n}`' for n in functions)} | all of these, and many more |")


def with_item(text: str, start: str, item: str) -> str:
    """text with the item (a list item or a table row, and its indented continuation lines) that begins with
    `start` replaced by `item`."""
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    end = first + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return "\n".join(lines[:first] + item.split("\n") + lines[end:])


def with_section(text: str, heading: str, body: str) -> str:
    """text with the section under `heading` (to the next heading or the end) replaced by body."""
    start = text.index(heading) + len(heading)
    end = text.find("\n## ", start)
    return text[:start] + "\n\n" + body + "\n" + (text[end:] if end != -1 else "")


PYTORCH_NAMES_INTRO = ("Each PyTorch name below either works in tinygrad_lite or, used there, raises an AttributeError "
                       "that says the tinygrad_lite way (the same words as here: both come from "
                       "`tinygrad_lite/pytorch_names.py`).")


GENERATED = {"docs/ops.md": lambda text: render(),
             "README.md": lambda text: with_item(text, "- Operators ", readme_methods()),
             "docs/coming_from.md": lambda text: with_section(with_item(text, "| ops |", coming_from_methods()),
                                                              "## PyTorch's names, and the tinygrad_lite way",
                                                              PYTORCH_NAMES_INTRO + "\n\n" + markdown_table())}


if __name__ == "__main__":
    for name, make in GENERATED.items():
        path = ROOT / name
        path.write_text(make(path.read_text()))
