"""Single primitives at their edges (transpose with negative axes, pow at 0, prod over zeros, index arrays,
astype, float32), beside the table-driven tests of test_ops.py."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_lite import Value, ops
from tinygrad_lite.testing import gradcheck
from tinygrad_lite.testing import strategies as tst

RNG = np.random.default_rng(7)


# ops whose parameters have no default: an input shape and parameters to call them with
REQUIRED = {"im2col": ((1, 1, 3, 3), {"kernel": 2}),
            "col2im": ((1, 2, 2, 2, 2, 1), {"shape": (1, 1, 3, 3), "kernel": 2}),
            "where": ((3,), {"cond": np.array([True, False, True])})}


def test_max_ties_share_the_gradient():
    x = Value([1.0, 3.0, 3.0])
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5])
    y = Value([[2.0, 2.0], [1.0, 5.0]])
    y.max(axis=1).sum().backward()
    np.testing.assert_array_equal(y.grad, [[0.5, 0.5], [0.0, 1.0]])


def test_repeated_integer_index_accumulates_and_masks_work():
    x = Value(np.arange(6.0).reshape(2, 3))
    x[[0, 0, 1], [1, 1, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 2, 0], [0, 0, 1]])
    y = Value([1.0, -2.0, 3.0])
    (y[y > 0] * 2).sum().backward()
    np.testing.assert_array_equal(y.grad, [2.0, 0.0, 2.0])


@pytest.mark.parametrize("shape, axes", [((2, 3, 4), (-1, 0, 1)), ((2, 3), (-1, 0)), ((2, 3, 4), (1, -1, -3)),
                                         ((2, 3, 4), (np.int64(2), np.int32(0), 1))])
def test_transpose_with_negative_or_numpy_axes_puts_the_gradient_back(shape, axes):
    x = Value(RNG.standard_normal(shape))
    y = x.transpose(axes)
    g = RNG.standard_normal(y.shape)  # not all ones: a wrong layout shows
    y.backward(g)
    # d/dx of <g, transpose(x)> is g with the permutation undone (numpy: transpose by the inverse permutation)
    inverse = np.argsort([int(a) % len(shape) for a in axes])
    np.testing.assert_array_equal(x.grad, np.transpose(g, inverse))


def test_sum_to_refuses_a_gradient_it_cannot_sum():
    with pytest.raises(RuntimeError, match=r"transpose.*\(3, 2\).*\(2, 3\)"):
        ops.sum_to(np.ones((3, 2)), (2, 3), "transpose")
    with pytest.raises(RuntimeError, match=r"mul.*\(4,\).*\(2, 2\)"):
        ops.sum_to(np.ones(4), (2, 2), "mul")
    np.testing.assert_array_equal(ops.sum_to(np.ones((2, 3)), (1, 3), "add"), [[2.0, 2.0, 2.0]])


def test_pow_at_zero_follows_pytorch():
    x = Value(0.0)
    (x ** 0).backward()
    assert x.grad == 0.0  # d(x^0)/dx = 0 at x = 0 (a naive rule gives 0 * 0^-1 = NaN)
    y = Value([0.0, 1.0, 2.0])
    (0.0 ** y).backward(np.ones(3))
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 0.0])  # d(0^y)/dy = 0 for y >= 0 (naive: 0 * log 0)
    a, b = Value(0.0), Value(0.0)
    (a ** b).backward()
    assert (a.grad, b.grad) == (0.0, 0.0)
    for v in (a.grad, b.grad, x.grad, *y.grad):
        assert np.isfinite(v)


def test_an_index_array_changed_after_the_forward_does_not_move_the_gradient():
    x = Value([1.0, 2.0, 3.0, 4.0])
    idx = np.array([0, 1])
    y = x[idx]
    idx[0] = 3
    y.backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(x.grad, [10.0, 20.0, 0.0, 0.0])
    lst = [0, 1]
    x.zero_grad()
    y = x[lst]
    lst[0] = 3
    y.backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(x.grad, [10.0, 20.0, 0.0, 0.0])


@pytest.mark.parametrize("name", sorted(n for n, op in ops.TABLE.items() if ops.about(op).arity != 1))
def test_an_array_constant_written_after_the_forward_does_not_move_the_gradient(name):
    """Each op with two or more inputs, one of them given as a plain array (drawn as in the op's own tests; for
    embedding and cross_entropy, the ids or the targets): the op keeps its own copy, so writing into the caller's
    array before backward changes nothing."""
    op = ops.TABLE[name]

    @given(tst.op_cases(op), st.integers(0, 10))
    def check(case, which):
        inputs, params = case
        values = [i for i, x in enumerate(inputs) if isinstance(x, Value)]
        plain = [i for i, x in enumerate(inputs) if isinstance(x, np.ndarray) and x.ndim]
        if plain and len(values) == 1:  # an op whose other input is an index (embedding's ids, the targets)
            index = plain[which % len(plain)]

            def grads(write):
                full = [Value(x.data.copy()) if isinstance(x, Value) else np.array(x) for x in inputs]
                out = tst.apply_op(op, tuple(full), params)
                if write:
                    full[index][...] = 0
                out.backward(np.ones(out.shape, out.dtype))
                return [x.grad for x in full if isinstance(x, Value)]
            for before, after in zip(grads(False), grads(True)):
                np.testing.assert_array_equal(before, after)
            return
        assume(len(values) >= 2)
        # this one given as an array (a method's first input is its Value: `X @ w` is checked below)
        choices = values if ops.about(op).variadic or name == "where" else values[1:]
        k = choices[which % len(choices)]
        arrays = [x.data.copy() for x in inputs if isinstance(x, Value)]

        def grads(write):
            args = [Value(a) for a in arrays]
            given_array = np.array(args[values.index(k)].data)
            args[values.index(k)] = given_array
            full = list(inputs)
            for i, a in zip(values, args):
                full[i] = a
            out = tst.apply_op(op, tuple(full), params)
            if write:
                given_array[...] = 7.0
            out.backward(np.ones(out.shape, out.dtype))
            return [a.grad for a in args if isinstance(a, Value)]
        for before, after in zip(grads(False), grads(True)):
            np.testing.assert_array_equal(before, after)

    check()


def test_the_issues_example_of_a_data_matrix_written_after_the_forward():
    X = np.array([[1.0, 2.0]])
    w = Value([1.0, 1.0])
    y = (X @ w).sum()
    X[0, 0] = 100.0
    y.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])


@pytest.mark.parametrize("dtype", [int, np.int32, bool, complex, np.complex64, str, "U3", object])
def test_astype_to_a_non_float_dtype_is_refused(dtype):
    with pytest.raises(TypeError, match="astype"):
        Value([1.0, 2.0]).astype(dtype)


def test_astype_without_a_dtype_is_refused():
    with pytest.raises(TypeError, match=r"astype\(\).*dtype"):
        Value([1.0]).astype()
    with pytest.raises(TypeError, match=r"reshape\(\).*shape"):
        Value([1.0]).reshape()


@pytest.mark.parametrize("axis", [np.int64(1), np.int32(0), np.int64(-1), (np.int64(0), np.int32(1))])
@pytest.mark.parametrize("reduce", ["sum", "max", "mean", "min"])
def test_numpy_integer_axes_work_like_python_ints(axis, reduce):
    data = RNG.standard_normal((2, 3))
    x = Value(data)
    y = getattr(x, reduce)(axis=axis)
    g = RNG.standard_normal(y.shape)
    y.backward(g)
    ref = Value(data)
    plain = tuple(int(a) for a in axis) if isinstance(axis, tuple) else int(axis)
    getattr(ref, reduce)(axis=plain).backward(g)
    np.testing.assert_array_equal(x.grad, ref.grad)


INDEXED = {"embedding": (np.array([[0, 2], [2, 1]]), np.random.default_rng(1).normal(size=(3, 2))),
           "cross_entropy": (np.random.default_rng(2).normal(size=(4, 3)), np.array([0, 2, 2, 1])),
           "masked_softmax": (np.random.default_rng(3).normal(size=(3, 4)), np.tril(np.ones((3, 4), dtype=int)))}


@pytest.mark.parametrize("name", sorted(op for op in ops.TABLE if op not in ("getitem", "scatter", "broadcast_to",
                                                                              "reshape", "transpose", "astype")))
def test_float32_stays_float32_and_passes_a_float32_gradcheck(name):
    op = ops.TABLE[name]
    rng = np.random.default_rng(0)
    shape, params = REQUIRED.get(name, ((3,), {}))
    inputs = []
    for domain in () if name in INDEXED else ops.about(op).domain:
        base = {"positive": rng.uniform(0.5, 2, shape), "nonzero": rng.choice([-1, 1], 3) * rng.uniform(0.5, 2, 3),
                "distinct": np.array([0.3, -1.2, 2.1]), "off_grid": np.array([0.3, -1.8, 1.2])}.get(domain,
                                                                                                    rng.normal(size=shape))
        inputs.append(Value(base.astype(np.float32)))
    if name in INDEXED:  # one input is an index (ids, targets): an int array
        inputs = [x if x.dtype.kind == "i" else Value(x.astype(np.float32)) for x in INDEXED[name]]
    fn = lambda *xs: tst.apply_op(op, xs, params)
    out = fn(*inputs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert all(x.grad.dtype == np.float32 for x in inputs if isinstance(x, Value))
    assert gradcheck(fn, *inputs, dtype=None)


def test_prod_of_thirty_thousand_numbers_is_linear_in_memory_and_exact_at_zeros():
    x = np.random.default_rng(0).uniform(0.999, 1.001, 30_000)
    v = Value(x)
    tracemalloc.start()
    v.prod().backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * x.nbytes  # the n x n matrix would be 30,000 times
    np.testing.assert_allclose(v.grad, np.prod(x) / x, rtol=1e-10)
    z = Value([2.0, 0.0, 3.0, 0.0])
    z.prod().backward()
    np.testing.assert_array_equal(z.grad, [0.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("axis", [0, -1, None])
def test_prod_of_a_0d_value_over_its_only_axis_has_gradient_one(axis):
    v = Value(3.0)
    v.prod(axis=axis).backward()
    assert v.grad == 1.0  # PyTorch: 1


def test_swapaxes_is_pytorchs_transpose_of_two_axes():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Value(x).swapaxes(1, 2).data, np.swapaxes(x, 1, 2))
    np.testing.assert_array_equal(Value(x).swapaxes(-1, 0).data, np.swapaxes(x, -1, 0))
