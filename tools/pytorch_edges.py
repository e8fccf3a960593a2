"""Record PyTorch's answers for every Value composite and every loss at the inputs where numbers get hard: +-0,
+-inf, NaN, ties, zero spread, ddof >= n, empty and size-1 axes, saturated probabilities, masked (-inf) logits.
Forward, first order (along a direction g that is not all ones) and second order (the derivative of
sum(grad * u) along another direction u), in float64 and float32.

    make .venv-peers/.installed
    .venv-peers/bin/python tools/pytorch_edges.py > tests/data/pytorch_edges.json

tests/test_pytorch_edges.py compares tinygrad_lite with this file, and fails for a public composite or loss that
has no case here. Not collected by pytest, never run in CI: PyTorch is not a test dependency.
"""

import json
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tinygrad_lite import ops  # noqa: E402

INF, NAN = math.inf, math.nan


def dims(axis):
    return () if axis is None else axis


# name: (PyTorch's function of (x, **params), [(x, params), ...]); x is a nested list or ("empty", shape).
COMPOSITES = {
    "sqrt": (torch.sqrt, [([4.0, 0.25, 9.0], {}), ([0.0, 1.0], {}), ([INF, NAN, -0.0], {})]),
    "square": (torch.square, [([-0.0, 2.0, INF], {}), ([NAN, -3.0], {})]),
    "mean": (lambda x, axis=None: x.mean(dim=dims(axis)),
             [([[1.0, 2.0], [3.0, 4.0]], {"axis": 0}), ([INF, 1.0], {}), ([INF, -INF], {}),
              (("empty", (2, 0)), {"axis": 1}), ([[5.0]], {"axis": -1})]),
    "min": (lambda x, axis=None: torch.amin(x, dim=dims(axis)),
            [([1.0, 1.0, 2.0], {}), ([[0.0, 0.0], [1.0, -1.0]], {"axis": 1}), ([-INF, 0.0, -INF], {}),
             ([NAN, 1.0], {})]),
    "softmax": (lambda x, axis=-1: torch.softmax(x, dim=axis),
                [([1.0, 2.0, 3.0], {}), ([[1.0, -INF, 0.0]], {}), ([[0.0, 0.0], [-INF, 3.0]], {"axis": 0}),
                 ([1000.0, 0.0], {}), (("empty", (2, 0)), {}), ([7.0], {})]),
    "log_softmax": (lambda x, axis=-1: torch.log_softmax(x, dim=axis),
                    [([1.0, 2.0, 3.0], {}), ([[1.0, -INF, 0.0]], {}), ([1000.0, 0.0], {}),
                     (("empty", (3, 0)), {}), ([[2.0], [3.0]], {"axis": 1})]),
    "logsumexp": (lambda x, axis=None: torch.logsumexp(x, dim=dims(axis) if axis is not None else tuple(range(x.ndim))),
                  [([1.0, 2.0, 3.0], {}), ([-INF, -INF], {}), ([INF, 0.0], {}), ([1.0, -INF], {}),
                   ([[1000.0, 1000.0], [0.0, -1000.0]], {"axis": 1}), (("empty", (2, 0)), {"axis": 1})]),
    "var": (lambda x, axis=None, ddof=0: torch.var(x, dim=dims(axis) if axis is not None else None, correction=ddof),
            [([1.0, 2.0, 4.0], {}), ([1.0, 2.0, 4.0], {"ddof": 1}), ([2.0, 2.0, 2.0], {}), ([3.0], {}),
             ([[1.0, 2.0]], {"axis": 0}), ([[1.0, 2.0]], {"axis": 0, "ddof": 5}),
             ([[1.0, 2.0]], {"axis": 1, "ddof": 5}), ([[1.0, 1.0]], {"axis": 1, "ddof": 2}), ([INF, 1.0], {})]),
    "std": (lambda x, axis=None, ddof=0: torch.std(x, dim=dims(axis) if axis is not None else None, correction=ddof),
            [([1.0, 2.0, 4.0], {}), ([1.0, 2.0, 4.0], {"ddof": 1}), ([2.0, 2.0, 2.0], {}), ([3.0], {}),
             ([[1.0, 2.0], [1.0, 5.0]], {"axis": 0}), ([[1.0, 2.0]], {"axis": 0, "ddof": 5}),
             ([[1.0, 1.0]], {"axis": 1, "ddof": 2}), ([[1.0, 2.0]], {"axis": 1, "ddof": 5})]),
    "gelu": (F.gelu, [([-3.0, -0.5, 0.0, 0.5, 3.0], {}), ([-INF, INF], {}), ([-40.0, 40.0], {})]),
    "silu": (F.silu, [([-3.0, 0.0, 2.0], {}), ([-800.0, 800.0], {})]),
    "minimum": (lambda x: torch.minimum(x[0], x[1]), [([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], {}),
                                                     ([[-INF, 0.0], [0.0, -0.0]], {})]),
    "flatten": (torch.flatten, [([[1.0, 2.0], [3.0, 4.0]], {})]),
    "squeeze": (lambda x, axis=None: x.squeeze() if axis is None else x.squeeze(axis),
                [([[[1.0, 2.0]]], {}), ([[[1.0], [2.0]]], {"axis": 2})]),
    "expand_dims": (lambda x, axis: x.unsqueeze(axis), [([1.0, 2.0], {"axis": 0}), ([1.0, 2.0], {"axis": -1})]),
    "swapaxes": (lambda x, axis1, axis2: x.transpose(axis1, axis2),
                 [([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]], {"axis1": 1, "axis2": 2})]),
}

# The primitives' methods at the infinities, NaN and empty or size-1 axes (their conventions at finite special
# points are in pytorch_conventions.py).
COMPOSITES.update({
    "exp": (torch.exp, [([-INF, INF, NAN, 0.0], {}), ([-800.0, 700.0], {})]),
    "log": (torch.log, [([0.0, -0.0, INF, 1.0], {}), ([NAN, 2.0], {})]),
    "tanh": (torch.tanh, [([-INF, INF, NAN, 0.0], {}), ([-30.0, 30.0], {})]),
    "sigmoid": (torch.sigmoid, [([-INF, INF, NAN, 0.0], {}), ([-800.0, 800.0], {})]),
    "relu": (torch.relu, [([-INF, INF, NAN, -0.0], {})]),
    "abs": (torch.abs, [([-INF, INF, NAN, -2.0], {})]),
    "softplus": (F.softplus, [([-INF, INF, 0.0], {}), ([-800.0, 800.0], {})]),
    "sum": (lambda x, axis=None: x.sum(dim=dims(axis)) if axis is not None else x.sum(),
            [([INF, 1.0, -2.0], {}), ([INF, -INF], {}), ([[NAN, 1.0], [2.0, 3.0]], {"axis": 1}),
             (("empty", (2, 0)), {"axis": 1}), (("empty", (0, 3)), {"axis": 0})]),
    "max": (lambda x, axis=None: torch.amax(x, dim=dims(axis)),
            [([INF, 1.0, INF], {}), ([-INF, -INF], {}), ([[NAN, 1.0], [2.0, 3.0]], {"axis": 1}),
             ([[4.0]], {"axis": 0})]),
    "prod": (lambda x, axis=None: x.prod(dim=axis) if axis is not None else x.prod(),
             [([INF, 2.0, 3.0], {}), ([INF, 0.0, 3.0], {}), ([[NAN, 1.0], [2.0, 3.0]], {"axis": 1}),
              ([[1e200, 1e200, 1e-200]], {"axis": 1}), (("empty", (2, 0)), {"axis": 1})]),
    "cumsum": (lambda x, axis: torch.cumsum(x, dim=axis), [([1.0, INF, 2.0], {"axis": 0}), ([[1.0, NAN], [2.0, 3.0]],
                                                                                          {"axis": 1})]),
    "clip": (lambda x, lo, hi: torch.clamp(x, lo, hi), [([-INF, INF, NAN, 0.5], {"lo": 0.0, "hi": 1.0})]),
    "sin": (torch.sin, [([0.0, -0.0, NAN, 1e10], {})]),
    "cos": (torch.cos, [([0.0, -0.0, NAN, 1e10], {})]),
    "log1p": (torch.log1p, [([-1.0, 0.0, INF, 1e-20], {}), ([NAN, -0.5], {})]),
    "expm1": (torch.expm1, [([-INF, INF, 0.0, 1e-20], {}), ([NAN, -800.0], {})]),
    "erf": (torch.erf, [([-INF, INF, 0.0, NAN], {}), ([-30.0, 30.0], {})]),
    "leaky_relu": (lambda x, slope: F.leaky_relu(x, slope), [([-INF, INF, NAN, -0.0], {"slope": 0.2})]),
    "maximum": (lambda x: torch.maximum(x[0], x[1]), [([[INF, NAN, -INF, 1.0], [1.0, 0.0, -INF, NAN]], {})]),
    "neg": (torch.neg, [([INF, NAN, 0.0], {})]),
})

# Every other primitive of these families, by its name in torch (a new table entry needs nothing here):
# elementwise ones at the infinities, NaN, +-0 and huge inputs; those of two inputs at pairs of them;
# running products and sums over zeros, inf and NaN.
FAMILY_CASES = {
    "unary": lambda f: (f, [([-INF, INF, NAN, 0.0, -0.0], {}), ([-1e10, 1e10, 0.5, -2.5, 3.0], {})]),
    "broadcast": lambda f: (lambda x: f(x[0], x[1]), [([[INF, NAN, -INF, 1.0, 0.0, 2.0],
                                                        [1.0, 0.0, -INF, NAN, -0.0, -3.0]], {})]),
    "cumulative": lambda f: (lambda x, axis: f(x, dim=axis),
                             [([2.0, 0.0, 3.0, 0.0, 4.0], {"axis": 0}),
                              ([[1.0, INF, 2.0], [0.0, NAN, 3.0]], {"axis": 1}),
                              ([[0.5, 2.0], [0.0, 3.0]], {"axis": 0})]),
}
for _op in ops.TABLE.values():
    if _op.name not in COMPOSITES and ops.about(_op).cases in FAMILY_CASES:
        COMPOSITES[_op.name] = FAMILY_CASES[ops.about(_op).cases](getattr(torch, _op.name))

# Losses: (prediction, target, params). CrossEntropy's integer targets are lists of ints.
LOSSES = {
    "MSE": (lambda p, t, reduction="mean": F.mse_loss(p, t, reduction=reduction),
            [([1.0, 2.0], [0.0, 4.0], {}), ([1.0, 2.0], [0.0, 4.0], {"reduction": "sum"}),
             ([INF, 0.0], [0.0, 0.0], {})]),
    "BCE": (lambda p, t, reduction="mean": F.binary_cross_entropy(p, t, reduction=reduction),
            [([0.2, 0.9], [0.0, 1.0], {}), ([0.2, 0.9], [0.0, 1.0], {"reduction": "sum"}), ([1.0, 0.0], [1.0, 0.0], {}),
             ([0.3, 0.5], [0.25, 0.5], {})]),
    "BCEWithLogits": (lambda p, t, reduction="mean": F.binary_cross_entropy_with_logits(p, t, reduction=reduction),
                      [([-2.0, 3.0], [0.0, 1.0], {}), ([-200.0, 200.0], [1.0, 0.0], {"reduction": "sum"}),
                       ([0.0, 40.0], [0.5, 1.0], {})]),
    "CrossEntropy": (lambda p, t, reduction="mean": F.cross_entropy(p, t, reduction=reduction),
                     [([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]], [1, 2], {}), ([[1.0, -INF, 0.0]], [0], {}),
                      ([[1.0, -INF, 0.0], [-INF, 5.0, -INF]], [2, 1], {"reduction": "sum"}),
                      ([[1000.0, 0.0]], [1], {}), ([[1.0, 2.0, 0.5]], [[0.2, 0.3, 0.5]], {})]),
}


# Layers at special inputs: (PyTorch's layer, its weights as nested lists, the input). The weights are copied into
# tinygrad_lite's layer by the test (Linear's weight transposed: tinygrad_lite's is (in, out)).
W23 = [[0.5, -1.0, 0.25], [1.5, 0.5, -0.75]]
LAYERS = {
    "Linear": [(lambda: torch.nn.Linear(3, 2), {"weight": W23, "bias": [0.1, -0.2]},
                [[INF, 1.0, 2.0], [1.0, NAN, 0.0], [-0.0, 0.0, 1.0]]),
               (lambda: torch.nn.Linear(3, 2), {"weight": W23, "bias": [0.1, -0.2]}, ("empty", (0, 3)))],
    "BatchNorm1d": [(lambda: torch.nn.BatchNorm1d(3), {"weight": [1.0, 2.0, 0.5], "bias": [0.0, 1.0, -1.0]},
                     [[1.0, 5.0, 2.0], [1.0, 3.0, -2.0], [1.0, 4.0, 0.0]]),  # feature 0: zero spread
                    (lambda: torch.nn.BatchNorm1d(2), {"weight": [1.0, 1.0], "bias": [0.0, 0.0]},
                     [[1.0, 1e-9], [1.0, -1e-9]])],
    "Conv2d": [(lambda: torch.nn.Conv2d(1, 2, 2), {"weight": [[[[1.0, -1.0], [0.5, 0.0]]], [[[0.0, 2.0], [1.0, 1.0]]]],
                                                   "bias": [0.0, 0.5]},
                [[[[INF, 1.0, 0.0], [1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]]]),
               (lambda: torch.nn.Conv2d(1, 2, 2), {"weight": [[[[1.0, -1.0], [0.5, 0.0]]], [[[0.0, 2.0], [1.0, 1.0]]]],
                                                   "bias": [0.0, 0.5]}, ("empty", (0, 1, 3, 3)))],
    "MaxPool2d": [(lambda: torch.nn.MaxPool2d(2), {}, [[[[-INF, 1.0, 2.0, 0.0], [0.5, 0.25, -1.0, INF],
                                                         [NAN, 1.0, 3.0, 4.0], [0.0, 2.0, 5.0, 6.0]]]])],
    "AvgPool2d": [(lambda: torch.nn.AvgPool2d(2), {}, [[[[INF, 1.0, 2.0, 0.0], [0.5, 0.25, -1.0, 3.0],
                                                         [NAN, 1.0, 3.0, 4.0], [0.0, 2.0, 5.0, 6.0]]]])],
}


class CausalSelfAttention(torch.nn.Module):
    """nanoGPT's attention block, as tinygrad_lite's (one Linear for q, k, v; one to mix the heads)."""

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.h = num_heads
        self.qkv = torch.nn.Linear(embed_dim, 3 * embed_dim, bias=False)
        self.proj = torch.nn.Linear(embed_dim, embed_dim, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.reshape(B, T, self.h, C // self.h).transpose(1, 2) for t in self.qkv(x).split(C, dim=2))
        scores = q @ k.transpose(-1, -2) / math.sqrt(C // self.h)  # SDPA's math, which has a second derivative
        allowed = torch.ones(T, T, dtype=torch.bool).tril()
        heads = scores.masked_fill(~allowed, -INF).softmax(dim=-1) @ v
        return self.proj(heads.transpose(1, 2).reshape(B, T, C))


LN = {"weight": [1.0, 2.0, -0.5], "bias": [0.0, 1.0, -1.0]}
QKV = [[0.5 * math.sin(3 * i + j) for j in range(4)] for i in range(12)]  # (out, in), PyTorch's layout
PROJ = [[0.5 * math.cos(2 * i - j) for j in range(4)] for i in range(4)]
RNN = {"weight_ih": [[0.5, -1.0], [1.5, 0.25]], "weight_hh": [[0.25, 0.5], [-0.5, 1.0]],
       "bias_ih": [0.1, -0.2], "bias_hh": [0.0, 0.3]}
# The language-model layers: constant rows (zero spread), all-zero rows for RMSNorm, infinities, NaN, an empty
# batch, saturated attention (one score far above the rest), identical tokens (uniform attention), one token.
LAYERS.update({
    "LayerNorm": [(lambda: torch.nn.LayerNorm(3), LN, [[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]),
                  (lambda: torch.nn.LayerNorm(3), LN, [[1e-9, -1e-9, 0.0], [INF, 1.0, 0.0], [NAN, 1.0, 2.0]]),
                  (lambda: torch.nn.LayerNorm(3), LN, [[[5.0, 5.0, 5.0]], [[-1.0, 0.0, 3.0]]]),
                  (lambda: torch.nn.LayerNorm(3), LN, ("empty", (0, 3)))],
    "RMSNorm": [(lambda: torch.nn.RMSNorm(3, eps=1e-6), {"weight": [1.0, 2.0, -0.5]},
                 [[0.0, 0.0, 0.0], [1.0, -2.0, 3.0], [1e-9, 0.0, -1e-9]]),
                (lambda: torch.nn.RMSNorm(3, eps=1e-6), {"weight": [1.0, 2.0, -0.5]},
                 [[INF, 1.0, 0.0], [NAN, 1.0, 2.0]]),
                (lambda: torch.nn.RMSNorm(3, eps=1e-6), {"weight": [1.0, 2.0, -0.5]}, ("empty", (0, 3)))],
    "CausalSelfAttention": [
        (lambda: CausalSelfAttention(4, 2), {"qkv.weight": QKV, "proj.weight": PROJ},
         [[[1.0, -0.5, 0.25, 2.0], [300.0, 0.0, -300.0, 100.0], [0.5, 0.5, 0.5, 0.5]]]),  # saturated scores
        (lambda: CausalSelfAttention(4, 2), {"qkv.weight": QKV, "proj.weight": PROJ},
         [[[0.5, -1.0, 2.0, 0.0]] * 3, [[1.0, 2.0, 3.0, 4.0]] * 3]),  # identical tokens: uniform weights
        (lambda: CausalSelfAttention(4, 2), {"qkv.weight": QKV, "proj.weight": PROJ},
         [[[1.0, -2.0, 0.5, 0.0]]]),  # one token attends to itself alone
        (lambda: CausalSelfAttention(4, 2), {"qkv.weight": QKV, "proj.weight": PROJ}, ("empty", (0, 3, 4)))],
    "RNNCell": [(lambda: torch.nn.RNNCell(2, 2), RNN, [[1e3, -1e3], [0.0, 0.0], [INF, 1.0]]),
                (lambda: torch.nn.RNNCell(2, 2), RNN, ("empty", (0, 2)))],
    "GRUCell": [(lambda: torch.nn.GRUCell(2, 2),
                 {"weight_ih": [[0.5 * math.sin(i + 2 * j) for j in range(2)] for i in range(6)],
                  "weight_hh": [[0.5 * math.cos(i - j) for j in range(2)] for i in range(6)],
                  "bias_ih": [0.1, -0.2, 0.3, 0.0, 0.5, -0.5], "bias_hh": [0.0, 0.3, -0.1, 0.2, 0.0, 0.1]},
                 [[1e3, -1e3], [0.0, 0.0], [-50.0, 20.0]])],
})


def record_layer(make, weights, x, dtype):
    layer = make().to(dtype)
    params = [layer.get_parameter(n) for n in weights]
    with torch.no_grad():
        for p, w in zip(params, weights.values()):
            p.copy_(torch.tensor(w, dtype=dtype))
    xt = tensor(x, dtype)
    out = layer(xt)
    g, _ = directions(out.shape, dtype)
    grads = torch.autograd.grad(out, [xt, *params], g, create_graph=True, allow_unused=True)
    _, u = directions(xt.shape, dtype)
    hvp = None
    if xt.numel() and grads[0] is not None and grads[0].requires_grad:
        hvp = torch.autograd.grad((grads[0] * u).sum(), xt, allow_unused=True)[0]
    zeros = torch.zeros_like(xt)
    return {"x": x if not isinstance(x, tuple) else {"empty": list(x[1])}, "weights": weights,
            "dtype": str(dtype).removeprefix("torch."), "out": listed(out), "out_shape": list(out.shape),
            "grad": listed(grads[0] if grads[0] is not None else zeros),
            "hvp": listed(hvp if hvp is not None else zeros),
            "param_grads": {n: listed(gp) for n, gp in zip(weights, grads[1:])}}


def tensor(x, dtype):
    if isinstance(x, tuple):
        return torch.zeros(x[1], dtype=dtype, requires_grad=True)
    return torch.tensor(x, dtype=dtype, requires_grad=True)


def directions(shape, dtype):
    n = math.prod(shape)
    g = (torch.arange(n, dtype=dtype) % 5 + 1).reshape(shape) / 4  # 0.25 ... 1.25: not all ones
    u = (torch.arange(n, dtype=dtype) % 3 - 1.5).reshape(shape)
    return g, u


def listed(t):
    if t._is_zerotensor():  # PyTorch's efficient zeros (abs's second derivative) hold no storage
        return torch.zeros(t.shape, dtype=t.dtype).tolist()
    return t.detach().tolist()


def record(fn, x, params, dtype, target=None):
    xt = tensor(x, dtype)
    out = fn(xt, target, **params) if target is not None else fn(xt, **params)
    g, _ = directions(out.shape, dtype)
    row = {"x": x if not isinstance(x, tuple) else {"empty": list(x[1])}, "params": params,
           "dtype": str(dtype).removeprefix("torch."), "out": listed(out), "out_shape": list(out.shape)}
    if not out.requires_grad or xt.numel() == 0:
        row.update(grad=listed(torch.zeros_like(xt)), hvp=listed(torch.zeros_like(xt)))
        return row
    (grad,) = torch.autograd.grad(out, xt, g, create_graph=True)
    _, u = directions(xt.shape, dtype)
    hvp = torch.autograd.grad((grad * u).sum(), xt, allow_unused=True)[0] if grad.requires_grad else None
    row.update(grad=listed(grad), hvp=listed(hvp if hvp is not None else torch.zeros_like(xt)))
    return row


def main():
    composites, losses = {}, {}
    for name, (fn, cases) in COMPOSITES.items():
        composites[name] = [record(fn, x, p, dt) for x, p in cases for dt in (torch.float64, torch.float32)]
    for name, (fn, cases) in LOSSES.items():
        rows = []
        for pred, target, params in cases:
            for dt in (torch.float64, torch.float32):
                t = torch.tensor(target) if name == "CrossEntropy" and isinstance(target[0], int) else \
                    torch.tensor(target, dtype=dt)
                row = record(fn, pred, params, dt, target=t)
                row["target"] = target
                rows.append(row)
        losses[name] = rows
    layers = {name: [record_layer(make, w, x, dt) for make, w, x in cases for dt in (torch.float64, torch.float32)]
              for name, cases in LAYERS.items()}
    json.dump({"torch": torch.__version__, "composites": composites, "losses": losses, "layers": layers},
              sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
