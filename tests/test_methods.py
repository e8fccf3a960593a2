"""The composites and module functions (tinygrad_lite/value.py) at their edges: expected values from
closed forms, plain numpy or PyTorch's documented conventions."""

import tracemalloc
import warnings

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value

RNG = np.random.default_rng(7)


def test_sigmoid_and_softmax_are_stable():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            s = Value([-1000.0, 0.0, 1000.0]).sigmoid()
            np.testing.assert_allclose(s.data, [0.0, 0.5, 1.0], atol=1e-300)
            s32 = Value(np.array([-1000.0, 1000.0], np.float32)).sigmoid()
            assert s32.dtype == np.float32 and s32.data[0] < 1e-37 and s32.data[1] == 1.0
            logits = Value([[1000.0, 1001.0, 1002.0]])
            p = logits.softmax()
            np.testing.assert_allclose(p.data.sum(), 1.0)
            ls = logits.log_softmax()
            assert np.isfinite(ls.data).all()
            np.testing.assert_allclose(ls.data, np.log(p.data))
            p.sum().backward()


def test_concatenate_and_stack_match_numpy():
    a, b = np.arange(6.0).reshape(2, 3), np.ones((1, 3))
    np.testing.assert_array_equal(tl.concatenate([Value(a), b]).data, np.concatenate([a, b]))
    np.testing.assert_array_equal(tl.stack([Value(a), a], axis=-1).data, np.stack([a, a], axis=-1))
    with pytest.raises(ValueError, match="concatenate"):
        tl.concatenate([Value(a), np.ones((1, 4))])
    with pytest.raises(ValueError, match="stack"):
        tl.stack([Value(a), b])


def test_softmax_and_log_softmax_take_numpy_axes():
    x = Value(RNG.standard_normal((2, 3)))
    (x.softmax(axis=np.int64(0)) * RNG.standard_normal((2, 3))).sum().backward()
    assert x.grad.shape == (2, 3)
    x.zero_grad()
    x.log_softmax(axis=np.int32(1)).sum().backward()
    assert x.grad.shape == (2, 3)


def test_mean_of_nothing_is_nan_with_numpy_s_warning():
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"), np.errstate(invalid="ignore"):
        expected = np.mean(np.ones((0, 3)), axis=0)  # what numpy does: NaN, with this warning
    for x, axis, shape in ((Value(np.ones((0, 3))), 0, (3,)), (Value(np.ones(0)), None, ())):
        with pytest.warns(RuntimeWarning, match="[Mm]ean of empty slice"):
            m = x.mean(axis=axis)
        assert m.shape == shape and np.isnan(m.data).all()
    assert np.isnan(expected).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Value(np.ones((0, 3))).mean(axis=1).shape == (0,)  # empty result: nothing to warn about


def test_stack_and_concatenate_argument_errors():
    a = Value(np.ones((2, 3)))
    with pytest.raises((ValueError, np.exceptions.AxisError), match="concatenate"):
        tl.concatenate([a, a], axis=2)
    with pytest.raises((ValueError, np.exceptions.AxisError), match="stack"):
        tl.stack([a, a], axis=3)
    with pytest.raises(ValueError, match="stack.*at least one"):
        tl.stack([])
    with pytest.raises(ValueError, match="concatenate.*at least one"):
        tl.concatenate([])


def test_concatenate_and_stack_of_many_parts_stay_small():
    parts = [Value([float(i)]) for i in range(10_000)]
    tracemalloc.start()
    out = tl.concatenate(parts)
    out.backward(np.arange(10_000.0))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MB"
    assert parts[1234].grad == 1234.0
    for p in parts[:3]:
        p.zero_grad()
    s = tl.stack(parts[:3], axis=1)
    assert s.shape == (1, 3)
    s.backward(np.array([[1.0, 2.0, 3.0]]))
    assert [p.grad.item() for p in parts[:3]] == [1.0, 2.0, 3.0]


def test_a_list_of_values_is_refused_with_a_pointer_to_stack():
    a = Value(2.0)
    with pytest.raises(TypeError, match=r"tl\.stack"):
        Value([a * 3, a * 4])
    with pytest.raises(TypeError, match=r"tl\.stack"):
        Value([[1.0, a]])
    s = tl.stack([a * 3, a * 4])
    s.sum().backward()
    assert a.grad == 7.0


@pytest.mark.parametrize("x,kw", [([2.0, 2.0, 2.0], {}), ([2.0], {}), (2.0, {}), ([[1.0, 2.0]], {"axis": 0})])
def test_std_where_the_spread_is_zero_has_gradient_zero(x, kw):
    v = Value(x)
    v.std(**kw).sum().backward()
    np.testing.assert_array_equal(v.grad, np.zeros(np.shape(x)))


def test_std_where_the_spread_is_zero_in_a_batch_leaves_the_other_rows_exact():
    x = np.array([[1.0, 1.0], [1.0, 3.0]])
    v = Value(x)
    v.std(axis=1).sum().backward()
    np.testing.assert_allclose(v.grad, [[0.0, 0.0], [-0.5, 0.5]])  # d std / dx = (x - mean) / (n std)


@pytest.mark.parametrize("x,kw", [(np.zeros((0, 3)), {"axis": 0}), ([[1.0, 2.0]], {"axis": 0, "ddof": 5}),
                                  ([3.0], {"ddof": 1})])
def test_var_and_std_with_ddof_at_least_n_are_nan_as_numpy(x, kw):
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(np.asarray(x), **kw)
        assert np.isnan(expected).all()
        np.testing.assert_array_equal(Value(x).var(**kw).data, expected)
        np.testing.assert_array_equal(Value(x).std(**kw).data, np.sqrt(expected))


def test_abs_and_pos_work_on_values_and_integer_division_is_refused_clearly():
    v = Value([-1.0, 2.0])
    abs(v).sum().backward()
    np.testing.assert_array_equal(v.grad, [-1.0, 1.0])
    assert +v is v
    for call in (lambda: v // 2, lambda: 2 // v, lambda: v % 2, lambda: divmod(v, 2), lambda: pow(v, 2, 3)):
        with pytest.raises(TypeError, match="not differentiable"):
            call()
    with pytest.raises(TypeError, match="one-element"):
        round(v)


def test_a_masked_attention_row_through_softmax_gives_finite_gradients():
    scores = Value(np.array([[0.5, -np.inf, -np.inf], [0.2, 0.1, -np.inf], [0.3, 0.4, 0.5]]))
    p = scores.softmax(axis=-1)
    (p * np.arange(9.0).reshape(3, 3)).sum().backward()
    assert np.isfinite(p.data).all() and np.isfinite(scores.grad).all()
    assert (p.data[np.isinf(scores.data)] == 0).all() and (scores.grad[np.isinf(scores.data)] == 0).all()


@pytest.mark.parametrize("x,expected", [([-np.inf, -np.inf], -np.inf), ([np.inf, 0.0], np.inf), ([], -np.inf),
                                        ([1.0, -np.inf], 1.0)])
def test_logsumexp_at_the_infinities_follows_pytorch(x, expected):
    with np.errstate(divide="ignore"):
        assert Value(x).logsumexp().item() == expected


def test_softmax_log_softmax_and_logsumexp_over_an_empty_axis_give_shapes():
    x = Value(np.ones((2, 0)))
    assert x.softmax(-1).shape == (2, 0) and x.log_softmax(-1).shape == (2, 0)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(x.logsumexp(axis=-1).data, [-np.inf, -np.inf])


@pytest.mark.parametrize("call,match", [
    (lambda x: x.transpose(1, 2), r"swapaxes\(1, 2\)"),
    (lambda x: x.sum(dim=1), "axis="),
    (lambda x: x.sum(axis=1, keepdim=True), "keepdims="),
    (lambda x: x.mean(dim=1), "axis="),
    (lambda x: tl.concatenate([x, x], dim=1), "axis="),
    (lambda x: tl.stack([x, x], dim=1), "axis="),
    (lambda x: x.squeeze(0), r"squeeze: .*\(input shape \(2, 3, 4\), axis=0\)"),
    (lambda x: x.expand_dims(7), "expand_dims"),
])
def test_pytorch_habits_get_the_numpy_name_in_the_message(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call(Value(np.ones((2, 3, 4))))


def test_concatenate_error_names_the_parts_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\), \(2, 4\)"):
        tl.concatenate([Value(np.ones((2, 3))), Value(np.ones((2, 4)))], axis=5)
