"""A number given as a numpy float64 scalar (or a 0-d array) never upcasts a float32 computation: every op of the
table with a number among its parameters (drawn as in its own tests), the composites and module functions that take
a number, every layer, loss and optimiser that takes one. The rule is `x * np.float64(2)`'s (docs/ops.md): a number
is weakly typed, as PyTorch's 0-d tensors."""

import numpy as np
import pytest
from hypothesis import given

import tinygrad_lite as tl
from tinygrad_lite import Value, nn, ops
from tinygrad_lite.testing import strategies as tst

WITH_NUMBERS = sorted(op.name for op in ops.TABLE.values()
                      if ops.about(op).cases in ("clip", "leaky_relu", "cross_entropy", "layer_norm"))


def _as_numpy(p):
    return np.float64(p) if isinstance(p, float) else p


def test_every_op_whose_parameters_are_numbers_is_listed_here():
    for op in ops.TABLE.values():
        numeric = [k for k, v in ops.about(op).params.items()
                   if isinstance(v, float) or (k in ("lo", "hi") and v is None)]
        assert not numeric or op.name in WITH_NUMBERS, f"{op.name}: a number among its parameters {numeric}"


@pytest.mark.parametrize("name", WITH_NUMBERS)
@pytest.mark.parametrize("zero_d", [False, True])
def test_a_numpy_float64_parameter_keeps_a_float32_op_float32(name, zero_d):
    op = ops.TABLE[name]

    @given(tst.op_cases(op))
    def check(case):
        inputs, params = case
        x32 = [Value(x.data.astype(np.float32)) if isinstance(x, Value) else x for x in inputs]  # targets stay
        wrap = (lambda p: np.array(p)) if zero_d else (lambda p: p)
        given_params = {k: wrap(_as_numpy(v)) if isinstance(v, float) else v for k, v in params.items()}
        out = tst.apply_op(op, tuple(x32), given_params)
        assert out.dtype == np.float32, (name, given_params)
        out.backward(np.ones(out.shape, np.float32))
        assert all(x.grad.dtype == np.float32 for x in x32 if isinstance(x, Value))

    check()


X32 = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
F64 = np.float64


@pytest.mark.parametrize("fn", [
    lambda x: x.leaky_relu(F64(0.2)),
    lambda x: x.clip(F64(-0.5), F64(0.5)),
    lambda x: x.clip(np.array(-0.5), None),
    lambda x: x ** F64(2.0),
    lambda x: F64(2.0) ** x,
    lambda x: x / F64(3.0),
    lambda x: F64(1.0) - x,
    lambda x: x.where(X32 > 0, F64(0.5)),
    lambda x: tl.where(X32 > 0, x, F64(0.5)),
    lambda x: tl.maximum(x, F64(0.5)),
    lambda x: tl.minimum(F64(0.5), x),
    lambda x: x.logaddexp(F64(1.0)),
    lambda x: x.atan2(F64(1.0)),
], ids=["leaky_relu", "clip", "clip-0d", "pow", "rpow", "div", "rsub", "Value.where", "tl.where", "maximum",
        "minimum", "logaddexp", "atan2"])
def test_composites_and_functions_given_numpy_numbers_stay_float32(fn):
    x = Value(X32)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("make, x", [
    (lambda: nn.LeakyReLU(F64(0.2)), X32),
    (lambda: nn.Dropout(F64(0.5), rng=0), X32),
    (lambda: nn.LayerNorm(4, eps=F64(1e-5)), X32),
    (lambda: nn.RMSNorm(4, eps=F64(1e-6)), X32),
    (lambda: nn.BatchNorm1d(4, eps=F64(1e-5), momentum=F64(0.2)), X32),
    (lambda: nn.CausalSelfAttention(4, 2, dropout=F64(0.1), rng=0), X32.reshape(1, 3, 4)),
    (lambda: (lambda x: nn.attention(x, x, x, scale=F64(0.5))), X32.reshape(1, 3, 4)),
    (lambda: (lambda x: nn.attention(x, x, x, mask=np.where(np.eye(3) > 0, 0.0, -1.0))), X32.reshape(1, 3, 4)),
    (lambda: (lambda x: nn.CrossEntropy(label_smoothing=F64(0.1))(x, np.array([0, 1, 3]))), X32),
    (lambda: (lambda x: nn.CrossEntropy()(x, np.array([0.0, 1.0, 3.0]))), X32),
], ids=["LeakyReLU", "Dropout", "LayerNorm", "RMSNorm", "BatchNorm1d", "CausalSelfAttention", "attention-scale",
        "attention-float64-mask", "CrossEntropy", "CrossEntropy-float-labels"])
def test_layers_and_losses_given_numpy_numbers_stay_float32(make, x):
    layer = make()
    if isinstance(layer, nn.Module):
        layer.to(np.float32)
    xv = Value(x)
    out = layer(xv)
    assert out.dtype == np.float32
    out.sum().backward()
    assert xv.grad.dtype == np.float32
    if isinstance(layer, nn.Module):
        assert all(p.grad.dtype == np.float32 for p in layer.parameters() if p.grad is not None)


@pytest.mark.parametrize("make", [
    lambda ps: tl.optim.SGD(ps, lr=F64(0.1), momentum=F64(0.9), weight_decay=F64(0.01)),
    lambda ps: tl.optim.Adam(ps, lr=F64(0.01), eps=F64(1e-8)),
    lambda ps: tl.optim.AdamW(ps, lr=F64(0.01), weight_decay=F64(0.1)),
    lambda ps: tl.optim.RMSprop(ps, lr=F64(0.01), alpha=F64(0.9)),
], ids=["SGD", "Adam", "AdamW", "RMSprop"])
def test_optimisers_given_numpy_numbers_keep_float32_parameters(make):
    layer = nn.Linear(4, 2, rng=0).to(np.float32)
    opt = make(layer.parameters())
    for _ in range(2):
        opt.zero_grad()
        layer(X32).sum().backward()
        opt.step()
    assert all(p.dtype == np.float32 for p in layer.parameters())
    tl.optim.clip_grad_norm(layer.parameters(), F64(0.5))
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
