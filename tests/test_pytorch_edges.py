"""Every Value composite and every loss against PyTorch's recorded answers (tools/pytorch_edges.py) at the inputs
where numbers get hard: +-0, +-inf, NaN, ties, zero spread, ddof >= n, empty and size-1 axes, saturated
probabilities, masked logits. Forward, first order along a direction that is not all ones, and second order (the
derivative of sum(grad * u)), in float64 and float32; NaN and inf must sit where PyTorch has them.

Where tinygrad_lite differs on purpose, _different says so with the reason (and the docstring says so)."""

import inspect
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, ops

RECORDED = json.loads((Path(__file__).parent / "data" / "pytorch_edges.json").read_text())

# The public Value methods that are not differentiable operations (or that the op table covers, see test_ops).
NOT_OPS = {"item", "tolist", "numpy", "detach", "zero_grad", "retain_grad", "register_hook", "backward", "argmax",
           "argmin", "dim"}

LOSSES = {"MSE": tl.nn.MSE, "BCE": tl.nn.BCE, "BCEWithLogits": tl.nn.BCEWithLogits, "CrossEntropy": tl.nn.CrossEntropy}



def _different(name, row):
    """Why tinygrad_lite's gradient differs from PyTorch's on purpose at this case, or None. Each is in the
    docstring of the composite or loss; the forward is still compared, and the gradient checked as said."""
    x = _array(row["x"], np.float64)
    p = row["params"]
    if name in ("var", "std"):
        n = x.size if p.get("axis") is None else x.shape[p["axis"]]
        if p.get("ddof", 0) >= n:  # PyTorch's backward divides by n - ddof < 0 where its forward divides by 0
            return "nan: var divides by zero when ddof >= n, and so does its gradient"
        if np.isinf(x).any():  # PyTorch leaves out mean's share, which is inf - inf here
            return "nan: an infinite input makes every element's gradient NaN (mean's share is inf - inf)"
    if name == "sqrt" and (np.signbit(x) & (x == 0)).any():
        return "inf: sqrt'(-0.0) is numpy's (-0.0) ** -0.5 = +inf (PyTorch: 1 / (2 sqrt(-0.0)) = -inf)"
    if name == "prod" and x.size and not np.isfinite(np.prod(x, axis=p.get("axis"))).all():
        return "others: each element gets the product of the others (PyTorch's out / x is NaN or inf there)"
    if name in ("max", "min") and np.isnan(x).any():
        return "finite: a NaN wins max, as in PyTorch's max(dim) and max-pooling (its amax gives NaN)"
    if name == "cumprod" and np.isinf(x).any():  # first order compared; the second multiplies inf by 0 or inf
        return "second: at an infinite input the second order is NaN where PyTorch's formula gives +-inf"
    if name == "atan2" and ((x[0] == 0) & (x[1] == 0)).any():  # see ops.arithmetic._atan2_rule
        return "second: at the origin the gradient is 0 (PyTorch's) and so is its own derivative (PyTorch's: NaN)"
    if name == "BCE" and ((x == 0) | (x == 1)).any():  # see nn.BCE: PyTorch's gradient is up to 1e12 there
        return "finite: the clamped log's gradient is 0"
    return None


def _public_composites():
    return sorted(n for n, f in inspect.getmembers(Value, callable) if not n.startswith("_")
                  and n not in NOT_OPS and n not in ops.TABLE)


def test_every_public_composite_and_loss_has_recorded_pytorch_cases():
    missing = [n for n in _public_composites() if n not in RECORDED["composites"]]
    assert not missing, (f"no recorded PyTorch cases for the Value methods {missing}: add them to COMPOSITES in "
                         "tools/pytorch_edges.py and record again")
    losses = [n for n, c in inspect.getmembers(tl.nn, inspect.isclass) if issubclass(c, tl.nn.Module)
              and c.__module__.endswith("losses")]
    assert sorted(losses) == sorted(RECORDED["losses"]) == sorted(LOSSES)


# The primitives whose numbers at +-inf, NaN and extreme inputs are recorded here (the others: in
# pytorch_conventions.py at their special points, or they only move numbers about: reshape, transpose, ...).
ELEMENTWISE = {n for n, about in ops.ABOUT.items() if about.cases in ("unary", "leaky_relu", "broadcast", "cumulative")}


def test_every_elementwise_primitive_has_recorded_cases_at_the_infinities():
    missing = sorted(ELEMENTWISE - set(RECORDED["composites"]))
    assert not missing, (f"no recorded PyTorch cases at +-inf and NaN for {missing}: add them to "
                         "tools/pytorch_edges.py and record again: make .venv-peers/.installed, then "
                         ".venv-peers/bin/python tools/pytorch_edges.py > tests/data/pytorch_edges.json")


def _array(x, dtype):
    if isinstance(x, dict):
        return np.zeros(x["empty"], dtype=dtype)
    return np.array(x, dtype=dtype)


def _directions(shape, dtype):
    n = int(np.prod(shape))
    g = ((np.arange(n) % 5 + 1) / 4).reshape(shape).astype(dtype)
    u = (np.arange(n) % 3 - 1.5).reshape(shape).astype(dtype)
    return g, u


def _close(mine, theirs, dtype, what):
    tol = 1e-10 if dtype == np.float64 else 2e-5  # PyTorch's BCE adds 1e-12 inside its second derivative
    theirs = np.array(theirs, dtype=np.float64)
    mine = np.asarray(mine, dtype=np.float64).reshape(theirs.shape)
    np.testing.assert_allclose(mine, theirs, rtol=tol, atol=tol, equal_nan=True, err_msg=what)


def _compare(fn, row, target=None, different=None):
    dtype = np.dtype(row["dtype"])
    x = Value(_array(row["x"], dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns where PyTorch silently gives NaN or inf
        out = fn(x) if target is None else fn(x, target)
        assert out.dtype == dtype, f"the output left {dtype}"
        _close(out.data, row["out"], dtype, "forward")
        if not out.requires_grad or x.size == 0:
            return
        g, _ = _directions(out.shape, dtype)
        out.backward(g, create_graph=True)
        if different is not None and different.startswith("others"):  # plain numpy: the product of the others
            axis = row["params"].get("axis")
            xs = np.moveaxis(x.data, axis, -1) if axis is not None else x.data.reshape(1, -1)
            others = np.stack([np.prod(np.delete(xs, i, axis=-1), axis=-1) for i in range(xs.shape[-1])], -1)
            expected = np.moveaxis(others * np.expand_dims(g, -1), -1, axis) if axis is not None else \
                (others * g).reshape(x.shape)
            np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12, equal_nan=True)
            return
        if different is not None and not different.startswith("second"):  # the gradient is what the reason says
            check = {"nan": np.isnan, "inf": np.isposinf, "finite": np.isfinite}[different.split(":")[0]]
            mine = x.grad.data
            assert check(mine[np.isfinite(mine) != np.isfinite(np.array(row["grad"]))]).all(), different
            return
        _close(x.grad.data, row["grad"], dtype, "first order")
        if different is not None:  # "second: ...": the first order is PyTorch's, the second differs as said
            return
        _, u = _directions(x.shape, dtype)
        grad = x.grad
        x.zero_grad()
        if grad.requires_grad:
            (grad * u).sum().backward()
        hvp = x.grad if x.grad is not None else np.zeros(x.shape)
        _close(hvp, row["hvp"], dtype, "second order")


def _composite(name, params):
    if name == "minimum" or (name in ops.TABLE and ops.about(ops.TABLE[name]).cases == "broadcast"):
        return lambda x: getattr(x[0], name)(x[1])
    return lambda x: getattr(x, name)(**params)


@pytest.mark.parametrize("name,i", [(n, i) for n, rows in RECORDED["composites"].items() for i in range(len(rows))])
def test_composites_follow_pytorch(name, i):
    row = RECORDED["composites"][name][i]
    _compare(_composite(name, row["params"]), row, different=_different(name, row))


@pytest.mark.parametrize("name,i", [(n, i) for n, rows in RECORDED["losses"].items() for i in range(len(rows))])
def test_losses_follow_pytorch(name, i):
    row = RECORDED["losses"][name][i]
    dtype = np.dtype(row["dtype"])
    target = np.array(row["target"], dtype=np.int64 if isinstance(row["target"][0], int) else dtype)
    _compare(LOSSES[name](**row["params"]), row, target, different=_different(name, row))


def test_bce_at_a_clamped_log_has_a_finite_loss_and_a_zero_gradient():
    # _different's BCE case, checked: a confident sigmoid in float32 rounds to exactly 1.
    for dtype in (np.float32, np.float64):
        z = Value(np.array([20.0, -20.0, 40.0], dtype=dtype))
        loss = tl.nn.BCE(reduction="sum")(z.sigmoid(), np.array([1.0, 0.0, 0.0], dtype=dtype))
        loss.backward()
        assert np.isfinite(loss.data) and np.isfinite(z.grad).all() and loss.dtype == dtype
        if dtype == np.float32:  # sigmoid(40) is exactly 1 in float32: log(1 - p) is clamped at -100
            assert loss.item() == pytest.approx(100.0, rel=1e-6)


LAYERS = {"Linear": lambda w: tl.nn.Linear(3, 2), "BatchNorm1d": lambda w: tl.nn.BatchNorm1d(len(w["weight"])),
          "Conv2d": lambda w: tl.nn.Conv2d(1, 2, 2), "MaxPool2d": lambda w: tl.nn.MaxPool2d(2),
          "AvgPool2d": lambda w: tl.nn.AvgPool2d(2), "LayerNorm": lambda w: tl.nn.LayerNorm(3),
          "RMSNorm": lambda w: tl.nn.RMSNorm(3, eps=1e-6),
          "CausalSelfAttention": lambda w: tl.nn.CausalSelfAttention(4, 2, bias=False),
          "RNNCell": lambda w: tl.nn.RNNCell(2, 2), "GRUCell": lambda w: tl.nn.GRUCell(2, 2)}


def _parameter(layer, dotted):
    for part in dotted.split("."):
        layer = getattr(layer, part)
    return layer


# Modules with no case of their own, and why: their numbers are another recorded case's, or not floats.
NOT_LAYERS = {
    "Module": "the base class", "Sequential": "a container", "ModuleList": "a container", "ModuleDict": "a container",
    "Dropout": "random; its scaling is tested in test_nn_layers", "Flatten": "a reshape (flatten is a composite here)",
    "Embedding": "its input is indices, not floats (against PyTorch in test_nn_language)",
    "GELU": "the gelu composite's cases", "ReLU": "relu's cases", "LeakyReLU": "leaky_relu's (conventions)",
    "Sigmoid": "sigmoid's cases", "Tanh": "tanh's cases", "Softmax": "softmax's cases",
    "BCE": "a loss (LOSSES)", "BCEWithLogits": "a loss (LOSSES)", "CrossEntropy": "a loss (LOSSES)",
    "MSE": "a loss (LOSSES)",
    "LSTMCell": "a pair (h, c); an ordinary and a saturated state against PyTorch in test_nn_language",
}


def test_every_layer_has_recorded_cases():
    """Each public module of tl.nn has PyTorch's answers at special inputs, or a reason above why not."""
    public = {n for n, c in vars(tl.nn).items() if inspect.isclass(c) and issubclass(c, tl.nn.Module)}
    assert sorted(RECORDED["layers"]) == sorted(LAYERS)
    assert sorted(public - set(NOT_LAYERS)) == sorted(LAYERS)


@pytest.mark.parametrize("name,i", [(n, i) for n, rows in RECORDED["layers"].items() for i in range(len(rows))])
def test_layers_at_special_inputs_follow_pytorch(name, i):
    """inf, NaN, -0.0, zero spread in BatchNorm, empty batches: outputs, input and parameter gradients, and the
    second order through the input."""
    row = RECORDED["layers"][name][i]
    dtype = np.dtype(row["dtype"])
    layer = LAYERS[name](row["weights"])
    for pname, w in row["weights"].items():  # PyTorch's weights; a matrix is (out, in) there, (in, out) here
        w = np.array(w, dtype=dtype)
        _parameter(layer, pname).data = w.T if w.ndim == 2 else w
    x = Value(_array(row["x"], dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = layer(x)
        assert out.dtype == dtype
        _close(out.data, row["out"], dtype, "forward")
        g, _ = _directions(out.shape, dtype)
        out.backward(g, create_graph=True)
        grad = x.grad if x.grad is not None else Value(np.zeros(x.shape))
        _close(grad.data, row["grad"], dtype, "input gradient")
        first = {n: _parameter(layer, n).grad for n in row["param_grads"]}  # before the second backward adds to them
        x.zero_grad()
        if grad.requires_grad and x.size:
            _, u = _directions(x.shape, dtype)
            (grad * u).sum().backward()
        _close(x.grad if x.grad is not None else np.zeros(x.shape), row["hvp"], dtype, "second order")
    for pname, theirs in row["param_grads"].items():
        mine = first[pname]
        mine = mine.data if isinstance(mine, Value) else mine
        mine = np.zeros(np.shape(theirs)) if mine is None else (mine.T if mine.ndim == 2 else mine)
        _close(mine, theirs, dtype, f"{pname} gradient")
