'''Exercises on layers: the topological order, BatchNorm's and LayerNorm's backward in one expression (makemore's
"backprop ninja"), and a convolution through im2col. Each check computes the answer with the engine.'''

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn import Conv2d
from ..value import Value
from .checking import compare, engine_grads, run
from .exercise import Exercise, Wrong, solved

TOPO = '''"""Exercise 7: the topological order backward walks: every value of the graph under `root`, each one after all
the values it was computed from, each once.

parents(v) gives the values v was computed from ([] for a leaf). Return the list, root last. A graph may be deep
(thousands of ops): a recursive walk hits Python's recursion limit, an explicit stack does not. Check with
`tinygrad-lite exercises check 7`.
"""


def topo(root, parents):
    """Every value under root, each after its parents, each once; root last."""
    raise NotImplementedError  # TODO
'''


def _parents(v: Any) -> list[Any]:
    node = v._node
    return [p for p in node.inputs if isinstance(p, Value)] if node is not None else []


def _topo_trial(m: Any, r: Any, name: str, size: int) -> None:
    graph = _diamond() if name == "a diamond" else _chain(size) if name == "a chain" else _dag(r, size)
    name = f"a chain of {size:,} ops" if name == "a chain" else name
    try:
        got = m.topo(graph, _parents)
    except RecursionError:
        raise Wrong(f"topo: on {name} it hit Python's recursion limit. Likely mistake: a recursive walk; keep "
                    "the values to visit on a list (an explicit stack)") from None
    ids = [id(v) for v in got]
    if len(ids) != len(set(ids)):
        raise Wrong(f"topo: on {name} a value comes more than once. Likely mistake: no set of visited values")
    reachable = _reachable(graph)
    if set(ids) != reachable:
        raise Wrong(f"topo: on {name} it gave {len(set(ids))} values of the {len(reachable)} under the root")
    position = {i: k for k, i in enumerate(ids)}
    for v in got:
        for p in _parents(v):
            if position[id(p)] > position[id(v)]:
                raise Wrong(f"topo: on {name} a value comes before one it was computed from. Likely mistake: "
                            "append a value after its parents are all in the list, not before")
    if got[-1] is not graph:
        raise Wrong(f"topo: on {name} the root is not last")


def _check_topo(m: Any) -> None:
    run(m, _topo_trial, [("a diamond", 0), ("a chain", 3000)], seed=7,
        shapes=lambda st, hnp: st.tuples(st.just("a drawn graph"), st.integers(1, 12)))


def _diamond() -> Value:
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c + a  # a diamond: a reaches d twice
    return (d * c).tanh()


def _dag(r: Any, size: int) -> Value:
    """A graph of `size` ops, each on one or two earlier values picked by r, all summed into one root."""
    values = [Value(1.0), Value(2.0)]
    for _ in range(size):
        i, j = (int(k) for k in r.integers(0, len(values), 2))
        values.append(values[i] * values[j] if i != j else values[i].tanh())
    root = values[-1]
    for v in values[:-1]:
        root = root + v if r.integers(0, 2) else root
    return root


def _chain(n: int) -> Value:
    x = Value(0.5)
    for _ in range(n):
        x = x * 1.0
    return x


def _reachable(root: Any) -> set[int]:
    seen, todo = set(), [root]
    while todo:
        v = todo.pop()
        if id(v) not in seen:
            seen.add(id(v))
            todo += _parents(v)
    return seen


BATCHNORM = '''"""Exercise 8: BatchNorm's backward in one expression (makemore's "backprop ninja").

y = gamma * (x - mean) / sqrt(var + eps), with the mean and the (biased, 1/n) variance of each column of x, of
shape (n, features), over its n rows. Given dy = dL/dy, return dL/dx, of x's shape. Remember that the mean and the
variance are computed from x too. Check with `tinygrad-lite exercises check 8`.
"""
import numpy as np


def batchnorm_backward(dy, x, gamma, eps=1e-5):
    """dL/dx for y = gamma * (x - mean) / sqrt(var + eps), the statistics over axis 0."""
    raise NotImplementedError  # TODO
'''

LAYERNORM = '''"""Exercise 9: LayerNorm's backward in one expression: as BatchNorm's, but each row of x, of shape
(n, features), is normalised over its own features (the last axis).

y = gamma * (x - mean) / sqrt(var + eps), mean and biased variance over the last axis. Given dy, return dL/dx.
Check with `tinygrad-lite exercises check 9`.
"""
import numpy as np


def layernorm_backward(dy, x, gamma, eps=1e-5):
    """dL/dx for y = gamma * (x - mean) / sqrt(var + eps), the statistics over the last axis."""
    raise NotImplementedError  # TODO
'''


def _norm_check(fn: str, axis: int) -> Any:
    def trial(m: Any, r: Any, n: int, f: int) -> None:
        x, gamma, dy = r.standard_normal((n, f)) * 2 + 1, r.standard_normal(f), r.standard_normal((n, f))

        def y(v: Value) -> Value:
            return (v - v.mean(axis=axis, keepdims=True)) / (v.var(axis=axis, keepdims=True) + 1e-5).sqrt() * gamma
        (dx,) = engine_grads(y, x, g=dy)
        std = np.sqrt(x.var(axis=axis, keepdims=True) + 1e-5)
        s1 = np.sqrt(x.var(axis=axis, keepdims=True, ddof=1) + 1e-5)  # the one-expression form with n - 1
        xhat, d = (x - x.mean(axis=axis, keepdims=True)) / s1, dy * gamma
        unbiased = (d - d.mean(axis=axis, keepdims=True) - xhat * (d * xhat).mean(axis=axis, keepdims=True)) / s1
        compare(fn, f"dL/dx for x of shape {(n, f)}", getattr(m, fn)(dy, x, gamma), dx,
                ((dy * gamma / std, "the statistics: the mean and the variance depend on x too"),
                 (unbiased, "the variance divides by n (biased), not n - 1")))

    def check(m: Any) -> None:
        run(m, trial, [(8, 3), (5, 4), (16, 2)], seed=8 + axis,
            shapes=lambda st, hnp: st.tuples(st.integers(2, 10), st.integers(2, 5)))
    return check


CONV = '''"""Exercise 10: a convolution through im2col: the forward of Conv2d with no padding and stride 1.

x: images (N, C, H, W); w: kernels (O, C, kh, kw), PyTorch's layout. out[n, o, i, j] = the sum over c, a, b of
x[n, c, i + a, j + b] * w[o, c, a, b], of shape (N, O, H - kh + 1, W - kw + 1). Lay every kh x kw window out as a
row (im2col), then one matrix product does the whole convolution. Check with `tinygrad-lite exercises check 10`.
"""
import numpy as np


def conv2d(x, w):
    """The convolution (PyTorch's: no flip of the kernel) of x (N, C, H, W) with w (O, C, kh, kw)."""
    raise NotImplementedError  # TODO
'''


def _conv_trial(m: Any, r: Any, n: int, c: int, hw: tuple[int, int], o: int, khw: tuple[int, int]) -> None:
    x, w = r.standard_normal((n, c, *hw)), r.standard_normal((o, c, *khw))
    conv = Conv2d(c, o, khw, bias=False)
    conv.weight.data[...] = w
    expected = conv(Value(x)).data
    flipped = Conv2d(c, o, khw, bias=False)
    flipped.weight.data[...] = w[:, :, ::-1, ::-1]
    compare("conv2d", f"the output for x {x.shape} and w {w.shape}", m.conv2d(x, w), expected,
            ((flipped(Value(x)).data, "a flipped kernel: PyTorch's convolution is a cross-correlation"),
             (expected.transpose(0, 2, 3, 1), "the layout: the output is (N, O, OH, OW), channels second")))


def _check_conv(m: Any) -> None:
    # the fixed cases are square; the search draws heights and widths apart, kernels too
    run(m, _conv_trial, [(2, 3, (6, 6), 4, (3, 3)), (1, 1, (5, 5), 2, (2, 2)), (3, 2, (4, 4), 1, (3, 3))], seed=10,
        examples=15, shapes=lambda st, hnp: st.tuples(
            st.integers(1, 2), st.integers(1, 3), st.tuples(st.integers(3, 6), st.integers(3, 6)), st.integers(1, 3),
            st.tuples(st.integers(1, 3), st.integers(1, 3))))


EXERCISES = [
    Exercise(7, "topo", "the topological order", TOPO,
             solved(TOPO, {"topo": "    order, done, stack = [], set(), [(root, False)]\n"
                                      "    while stack:\n"
                                      "        v, parents_done = stack.pop()\n"
                                      "        if parents_done:\n"
                                      "            order.append(v)\n"
                                      "        elif id(v) not in done:\n"
                                      "            done.add(id(v))\n"
                                      "            stack.append((v, True))\n"
                                      "            stack += [(p, False) for p in parents(v) if id(p) not in done]\n"
                                      "    return order"}),
             ("Keep a set of the values already visited (by id), so that a value reached twice comes once.",
              "On a stack, push (v, True) before v's parents: when it comes back up, its parents are all done."),
             _check_topo),
    Exercise(8, "batchnorm_backward", "BatchNorm's backward in one expression", BATCHNORM,
             solved(BATCHNORM, {"batchnorm_backward":
                                   "    n = x.shape[0]\n"
                                   "    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)\n"
                                   "    d = dy * gamma\n"
                                   "    return (d - d.mean(0) - xhat * (d * xhat).mean(0)) / np.sqrt(x.var(0) + eps)"}),
             ("Write xhat = (x - mean) / std; dL/dxhat = dy * gamma.",
              "dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std, the means over the batch."),
             _norm_check("batchnorm_backward", 0)),
    Exercise(9, "layernorm_backward", "LayerNorm's backward", LAYERNORM,
             solved(LAYERNORM, {"layernorm_backward":
                                   "    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)\n"
                                   "    xhat, d = (x - mu) / np.sqrt(var + eps), dy * gamma\n"
                                   "    mean = lambda a: a.mean(-1, keepdims=True)  # noqa: E731\n"
                                   "    return (d - mean(d) - xhat * mean(d * xhat)) / np.sqrt(var + eps)"}),
             ("BatchNorm's formula, with the means over the last axis (keepdims=True).",
              "dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / std, per row."),
             _norm_check("layernorm_backward", -1)),
    Exercise(10, "conv_im2col", "a convolution through im2col", CONV,
             solved(CONV, {"conv2d":
                              "    N, C, H, W = x.shape\n"
                              "    O, _, kh, kw = w.shape\n"
                              "    oh, ow = H - kh + 1, W - kw + 1\n"
                              "    cols = np.stack([x[:, :, a:a + oh, b:b + ow] for a in range(kh) for b in range(kw)],"
                              " axis=2)\n"
                              "    cols = cols.reshape(N, C * kh * kw, oh * ow)  # (N, C kh kw, windows)\n"
                              "    out = w.reshape(O, -1) @ cols  # (O, C kh kw) @ (N, C kh kw, windows)\n"
                              "    return out.reshape(N, O, oh, ow)"}),
             ("Gather, for each offset (a, b) of the kernel, the shifted image x[:, :, a:a + OH, b:b + OW].",
              "Order the rows as the kernel's (C, kh, kw) are laid out, then w.reshape(O, -1) @ them."), _check_conv),
]
