"""Your own ops (tl.Function): first and second order, broadcasting, and what backward may return."""

import numpy as np
import pytest
from hypothesis import given  # noqa: E402

import tinygrad_lite as tl
from tinygrad_lite import Value
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


@pytest.mark.parametrize("returned", [3.0, [3.0], np.array(3.0)], ids=repr)
def test_function_backward_may_return_a_float_list_or_0d_array(returned):
    class Const(tl.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, grad):
            return returned

    x = Value(2.0)
    Const.apply(x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad == 3.0

    class Silly(Const):
        @staticmethod
        def backward(ctx, grad):
            return {"a": 1}

    with pytest.raises(TypeError, match=r"Silly.backward.*dict"):
        Silly.apply(Value(2.0)).backward()


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


def test_a_custom_backward_may_use_builtin_abs_and_is_checked_to_second_order():
    class SoftSign(tl.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x / (1 + np.abs(x))

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved
            return g / (1 + abs(x)) ** 2

    assert tl.testing.gradgradcheck(SoftSign.apply, Value([0.5, -1.5, 2.0]))


def test_a_custom_function_takes_integer_arrays_python_values_and_keywords_unchanged():
    seen = {}

    class Lookup(tl.Function):
        @staticmethod
        def forward(ctx, table, index, scale=1.0, *, flag=False):
            seen.update(index=index, scale=scale, flag=flag)
            ctx.save_for_backward(index)
            ctx.shape, ctx.scale = table.shape, scale
            return table[index] * scale

        @staticmethod
        def backward(ctx, g):
            (index,) = ctx.saved
            out = np.zeros(ctx.shape)
            np.add.at(out, index, g * ctx.scale)
            return out, None, None

    table = Value(np.arange(6.0).reshape(3, 2))
    index = np.array([0, 2, 0])
    y = Lookup.apply(table, index, 2, flag=True)
    assert seen["index"].dtype.kind == "i" and seen["scale"] == 2 and type(seen["scale"]) is int and seen["flag"]
    np.testing.assert_array_equal(y.data, np.arange(6.0).reshape(3, 2)[index] * 2)
    y.sum().backward()
    np.testing.assert_array_equal(table.grad, [[4.0, 4.0], [0.0, 0.0], [2.0, 2.0]])


def test_a_float_array_computed_in_forward_is_refused_at_second_order_not_silently_constant():
    class Exp(tl.Function):
        @staticmethod
        def forward(ctx, x):
            out = np.exp(x)
            ctx.save_for_backward(np.exp(x))  # a new array: not the output object, so it would stay a constant
            return out

        @staticmethod
        def backward(ctx, grad):
            (e,) = ctx.saved
            return grad * e

    x = Value([0.5, -1.0])
    Exp.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.exp([0.5, -1.0]))  # first order: fine
    x.zero_grad()
    with pytest.raises(RuntimeError, match=r"Exp.backward\(create_graph=True\): saved array 0 was computed"):
        Exp.apply(x).sum().backward(create_graph=True)

    class Masked(tl.Function):  # a boolean mask computed in forward is a constant: it passes to every order
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, x > 0)
            return np.where(x > 0, x * x, 0.0)

        @staticmethod
        def backward(ctx, grad):
            x, mask = ctx.saved
            return grad * 2 * x * mask

    assert gradgradcheck(Masked.apply, Value([0.5, -1.0, 2.0]))


class _Boom(Exception):
    pass


def test_errors_from_the_user_s_own_code_come_back_as_they_were():
    class BadForward(tl.Function):
        @staticmethod
        def forward(ctx, x):
            raise ValueError("my forward failed")

    class BadBackward(tl.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise _Boom("my backward failed")

    with pytest.raises(ValueError) as info:
        BadForward.apply(Value([1.0]))
    assert str(info.value) == "my forward failed" and info.value.__suppress_context__ is False
    assert any(tb.name == "forward" for tb in info.traceback)
    y = BadBackward.apply(Value([1.0])).sum()
    with pytest.raises(_Boom, match="^my backward failed$") as info:
        y.backward()
    assert any(tb.name == "backward" and str(tb.path) == __file__ for tb in info.traceback)  # the user's own line
