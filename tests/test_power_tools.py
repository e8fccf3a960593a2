"""Custom ops, hooks, anomaly detection, Hessians and Jacobians, explain, float32."""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

import tinygrad_lite as tl
from tinygrad_lite import Value, ops
from tinygrad_lite.testing import GradcheckError, gradcheck, gradgradcheck
from tinygrad_lite.testing import strategies as tst


class Cube(tl.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return 3 * x ** 2 * grad


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return 3 * x * grad


class ScaleBy(tl.Function):
    """a * b with b's gradient None: b is a constant scale."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        (b,) = ctx.saved
        return grad * b, None


# ---- custom ops ----

@given(tst.values())
def test_custom_op_passes_first_and_second_order_checks(x):
    assert gradcheck(Cube.apply, x)
    assert gradgradcheck(Cube.apply, x)


def test_gradcheck_catches_a_wrong_custom_backward_readably():
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(2,\)\), element \(0,\).*analytic 6 != numeric 12"):
        gradcheck(WrongCube.apply, Value([2.0, 3.0]))


@given(tst.broadcastable_values())
def test_custom_op_broadcasting_is_undone_by_the_engine(pair):
    a, b = pair
    out = ScaleBy.apply(a, b.data)
    out.backward(np.ones(out.shape))
    assert a.grad.shape == a.shape
    assert gradcheck(lambda a: ScaleBy.apply(a, b.data), a)


def test_none_gradient_and_bad_backward_results():
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    ScaleBy.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])
    np.testing.assert_array_equal(b.grad, [0.0, 0.0])

    class TooFew(tl.Function):
        forward = staticmethod(lambda ctx, a, b: a + b)
        backward = staticmethod(lambda ctx, g: g)

    with pytest.raises(TypeError, match="TooFew.backward returned 1 gradients for 2 inputs"):
        TooFew.apply(Value([1.0]), Value([2.0])).sum().backward()

    class BadShape(tl.Function):
        forward = staticmethod(lambda ctx, a: a * 2)
        backward = staticmethod(lambda ctx, g: np.ones(5))

    with pytest.raises(ValueError, match=r"BadShape.backward returned a gradient of shape \(5,\) for input 0"):
        BadShape.apply(Value([1.0, 2.0])).sum().backward()


# ---- hooks ----

def test_hook_sees_the_complete_gradient_and_a_removed_hook_no_longer_runs():
    x = Value([1.0, 2.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(np.array(g)))
    (x * x + x * 3).sum().backward()  # x is reached twice: the hook sees the sum, 2x + 3
    np.testing.assert_allclose(seen[0], [5.0, 7.0])
    handle.remove()
    (x * x).sum().backward()
    assert len(seen) == 1


def test_a_hook_on_an_intermediate_value_replaces_the_gradient_that_flows_on():
    x = Value([1.0, 2.0])
    h = x * 3
    h.register_hook(lambda g: g * 2)
    (h * h).sum().backward()  # d/dh = 2h = [6, 12], doubled by the hook, times 3 for x
    np.testing.assert_allclose(x.grad, [36.0, 72.0])


def test_hook_returning_a_wrong_shape_is_an_error():
    x = Value([1.0, 2.0])
    x.register_hook(lambda g: np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3,\) for a value of shape \(2,\)"):
        (x * 2).sum().backward()


# ---- anomaly detection ----

def test_anomaly_in_forward_names_op_shapes_and_line():
    x = Value([1.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FloatingPointError) as info, tl.detect_anomaly():
            line = sys._getframe().f_lineno + 1
            x.log()
    message = str(info.value)
    assert "log produced NaN in its forward output" in message and "(2,)" in message
    assert f"{Path(__file__).name}:{line}" in message


def test_anomaly_in_backward_names_op_and_line():
    x = Value(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FloatingPointError) as info, tl.detect_anomaly():
            line = sys._getframe().f_lineno + 1
            y = x.sqrt()
            y.backward()
    message = str(info.value)
    assert "pow produced Inf in its backward gradient" in message  # sqrt is x ** 0.5
    assert f"{Path(__file__).name}:{line}" in message


def test_no_anomaly_mode_records_nothing():
    y = Value([1.0]).exp()
    assert not hasattr(y, "_site")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(Value([-1.0]).log().data).all()  # outside the mode, numpy's own behaviour


# ---- Hessians, Jacobians ----

def test_hessian_and_jacobian_against_closed_forms():
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]])
    x = np.array([0.5, -1.0, 2.0])
    H = tl.hessian(lambda v: 0.5 * (v @ A @ v) + (v ** 3).sum())(x)
    np.testing.assert_allclose(H, A + np.diag(6 * x))
    J = tl.jacobian(lambda v: (v * v).tanh())(x)
    np.testing.assert_allclose(J, np.diag(2 * x * (1 - np.tanh(x * x) ** 2)))
    M = np.arange(6.0).reshape(2, 3)
    assert tl.jacobian(lambda v: M @ v)(x).shape == (2, 3)


def test_hessian_against_finite_differences_of_gradients():
    f = lambda v: (v[0] * v[1].exp() + (v * v).sum().sqrt()).tanh()
    x = np.array([0.3, -0.2, 0.7])
    g = tl.grad(f)
    eps = 1e-6
    numeric = np.stack([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(tl.hessian(f)(x), numeric, atol=1e-7)
    np.testing.assert_allclose(tl.hessian(f)(x), tl.hessian(f)(x).T, atol=1e-12)


def test_grad_with_argnums_tuple():
    f = lambda a, b, c: (a * b * c).sum()
    ga, gc = tl.grad(f, argnums=(0, 2))(np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0]))
    np.testing.assert_allclose(ga, [15.0, 24.0])
    np.testing.assert_allclose(gc, [3.0, 8.0])


# ---- explain ----

def test_explain_the_perceptron_step():
    from tinygrad_lite.tutorials import perceptron_loss

    loss = perceptron_loss()
    w = loss_w(loss)
    text = tl.explain(loss)
    assert repr(text) == str(text)
    for piece in ("w = input", "v1 = X @ w", "out = sigmoid(v1)", "v2 = out - y", "v3 = v2 ** 2", "L = 0.5 * v4",
                  "ds/dx = s (1 - s)", "d(a^b)/da = b a^(b-1)", "dL/dB = A^T @ g",
                  "dL/dw = [-0.2862, -0.0639, -0.1491]"):
        assert piece in text, piece
    assert len(text.splitlines()) <= 24  # fits a screen
    loss.backward()  # explain kept the graph and left .grad alone
    np.testing.assert_allclose(w.grad.ravel(), [-0.28621, -0.063913, -0.149134], atol=1e-5)


def loss_w(loss):
    order = tl.backward.order(loss)
    return next(v for v in order if v.name == "w")


def test_explain_summarises_large_graphs():
    x = Value(1.0, name="x")
    y = x
    for _ in range(200):
        y = y * 1.0
    text = tl.explain(y)
    assert "more ..." in text and len(text.splitlines()) < 60


def test_explain_command():
    done = subprocess.run([sys.executable, "-m", "tinygrad_lite", "explain", "perceptron"], capture_output=True,
                          text=True)
    assert done.returncode == 0 and "Backward: from L" in done.stdout


# ---- float32 ----

SMALL = {"add": 2, "mul": 2, "div": 2, "pow": 2, "matmul": 2}
# ops whose parameters have no default: an input shape and parameters to call them with
REQUIRED = {"im2col": ((1, 1, 3, 3), {"kernel": 2}),
            "col2im": ((1, 2, 2, 2, 2, 1), {"shape": (1, 1, 3, 3), "kernel": 2}),
            "where": ((3,), {"cond": np.array([True, False, True])})}


@pytest.mark.parametrize("name", sorted(op for op in ops.TABLE if op not in ("getitem", "scatter", "broadcast_to",
                                                                              "reshape", "transpose", "astype")))
def test_float32_stays_float32_and_passes_a_float32_gradcheck(name):
    op = ops.TABLE[name]
    rng = np.random.default_rng(0)
    shape, params = REQUIRED.get(name, ((3,), {}))
    inputs = []
    for domain in op.domain:
        base = {"positive": rng.uniform(0.5, 2, shape), "nonzero": rng.choice([-1, 1], 3) * rng.uniform(0.5, 2, 3),
                "distinct": np.array([0.3, -1.2, 2.1]), "off_grid": np.array([0.3, -1.8, 1.2])}.get(domain,
                                                                                                    rng.normal(size=shape))
        inputs.append(Value(base.astype(np.float32)))
    fn = lambda *xs: tst.apply_op(op, xs, params)
    out = fn(*inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert all(x.grad.dtype == np.float32 for x in inputs)
    assert gradcheck(fn, *inputs, dtype=None)


def test_explain_says_when_there_is_nothing_to_explain():
    with pytest.raises(ValueError, match="needs no gradient"):
        tl.explain(Value(1.0, requires_grad=False) * 2)
    with pytest.raises(ValueError, match="scalar output"):
        tl.explain(Value([1.0, 2.0]) * 2)
