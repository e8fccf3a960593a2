"""Record PyTorch's gradients at the points where a convention, not calculus, decides them: the special points
of each op in the table (0 for relu and abs, 0 and integers for pow, clip's bounds), max over ties and prod
over zeros.

    make .venv-peers/.installed                     # PyTorch 2.13.0, CPU, in its own environment
    .venv-peers/bin/python tools/pytorch_conventions.py > tests/data/pytorch_conventions.json

tests/test_ops.py compares tinygrad_lite with this file. Run it again when an op gains special points.
Not collected by pytest (its name does not start with test_), and never run in CI: PyTorch is not a test
dependency.
"""

import itertools
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tinygrad_lite import ops  # noqa: E402

CLIP_BOUNDS = (None, *ops.about(ops.TABLE["clip"]).special[0])  # as tinygrad_lite.testing.strategies draws them
LEAKY_SLOPES = (0.01, 0.2, 0.0)  # as tinygrad_lite.testing.strategies draws them

# Elementwise ops: the PyTorch function, and the parameter sets to record (bounds drawn as the tests draw them).
ELEMENTWISE = {
    "relu": (torch.relu, [{}]),
    "abs": (torch.abs, [{}]),
    "leaky_relu": (lambda x, slope: torch.nn.functional.leaky_relu(x, slope), [{"slope": s} for s in LEAKY_SLOPES]),
    "maximum": (torch.maximum, [{}]),
    "pow": (torch.pow, [{}]),
    "clip": (lambda x, lo, hi: torch.clamp(x, lo, hi),
             [{"lo": lo, "hi": hi} for lo, hi in itertools.product(CLIP_BOUNDS, CLIP_BOUNDS)
              if (lo, hi) != (None, None) and (lo is None or hi is None or lo <= hi)]),
}

# max over ties (torch.amax splits the gradient evenly between equal maxima): arrays of 0s and 1s, axes.
MAX_CASES = [([1.0, 1.0, 0.0, 1.0], None), ([[1.0, 1.0], [0.0, 1.0]], 0), ([[1.0, 1.0], [0.0, 1.0]], 1),
             ([[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]], -1), ([[[1.0, 1.0], [1.0, 0.0]]], (0, 2)), ([2.0, 2.0], None)]

# prod over zeros (each element gets the product of the others; 0 where another element is 0 too).
PROD_CASES = [([2.0, 0.0, 3.0], None), ([0.0, 0.0, 2.0], None), ([[0.0, 2.0], [1.0, 0.0]], 0),
              ([[0.0, 2.0, 2.0], [1.0, 0.0, 0.0]], 1), ([[[0.0, 2.0], [1.0, 2.0]]], (0, 2)), ([[1.0, 2.0]], -1)]


def _grads(fn, points, params):
    inputs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in points]
    fn(*inputs, **params).backward()
    return [float(t.grad) for t in inputs]


def main():
    records = {}
    for name, (fn, param_sets) in ELEMENTWISE.items():
        op = ops.TABLE[name]
        rows = []
        for params in param_sets:
            for point in itertools.product(*ops.about(op).special):
                rows.append({"point": list(point), "params": params, "grads": _grads(fn, point, params)})
        records[name] = rows
    rows = []
    for data, axis in MAX_CASES:
        x = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        out = torch.amax(x, dim=() if axis is None else axis)
        g = torch.arange(1.0, out.numel() + 1, dtype=torch.float64).reshape(out.shape)  # not all ones
        out.backward(g)
        rows.append({"x": data, "axis": axis, "g": g.tolist(), "grad": x.grad.tolist()})
    records["max"] = rows
    rows = []
    for data, axis in PROD_CASES:
        x = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        if axis is None:
            out = torch.prod(x)
        else:  # torch.prod takes one dim: several are reduced one after another
            out = x
            for d in sorted((axis,) if isinstance(axis, int) else axis, reverse=True):
                out = torch.prod(out, dim=d)
        g = torch.arange(1.0, out.numel() + 1, dtype=torch.float64).reshape(out.shape)
        out.backward(g)
        rows.append({"x": data, "axis": axis, "g": g.tolist(), "grad": x.grad.tolist()})
    records["prod"] = rows
    for op in ops.TABLE.values():  # the others: torch's function of the same name, no parameters
        if ops.about(op).special and op.name not in records:
            fn = getattr(torch, op.name)
            records[op.name] = [{"point": list(point), "params": {}, "grads": _grads(fn, point, {})}
                                for point in itertools.product(*ops.about(op).special)]
    json.dump({"torch": torch.__version__, "ops": records}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
