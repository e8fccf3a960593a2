"""The engine: graph recording, backward, release, no_grad, dtypes, and the errors a user meets."""

import gc
import math
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Value
from tinygrad_lite.testing import gradcheck, gradgradcheck
from tinygrad_lite.testing import strategies as tst

# ---- values derived by hand ----


def test_node_used_twice_accumulates():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0


def test_known_expression_by_hand():
    # L = (a*b + c) * f with a=2, b=-3, c=10, f=-2: dL/da = b*f = 6, dL/db = a*f = -4, dL/dc = f = -2,
    # dL/df = a*b + c = 4.
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    L = (a * b + c) * f
    L.backward()
    assert L.item() == -8.0
    assert (a.grad, b.grad, c.grad, f.grad) == (6.0, -4.0, -2.0, 4.0)


def test_tanh_neuron_by_hand():
    # o = tanh(x1*w1 + x2*w2 + b) with n = 0.8813735870195432 (so that tanh(n) = 1/sqrt(2)): do/dn = 1 - o^2 = 0.5
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.item() == pytest.approx(1 / math.sqrt(2), abs=1e-12)
    assert x1.grad == pytest.approx(-1.5) and w1.grad == pytest.approx(1.0)
    assert x2.grad == pytest.approx(0.5) and w2.grad == pytest.approx(0.0)


def test_broadcast_gradient_sums_back():
    x = Value(np.ones((2, 3)))
    b = Value(np.array([1.0, 2.0, 3.0]))
    (x * b).sum().backward()
    np.testing.assert_array_equal(b.grad, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(x.grad, [[1, 2, 3], [1, 2, 3]])


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


def test_gradient_accumulates_until_zero_grad():
    w = Value([1.0, 2.0])
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])
    w.zero_grad()
    assert w.grad is None
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])


def test_grad_is_owned_and_writable():
    a, b = Value([1.0]), Value([2.0])
    (a + b).sum().backward()
    a.grad *= 10  # must not change b.grad, although the add rule hands both the same array
    assert b.grad[0] == 1.0 and a.grad[0] == 10.0


def test_backward_with_explicit_gradient():
    x = Value([1.0, 2.0, 3.0])
    (x * x).backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -6.0])


# ---- depth, release, memory ----

def test_hundred_thousand_deep_chain():
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_million_deep_chain():
    x = Value(0.5)
    y = x
    for _ in range(500_000):  # two ops a round: 1,000,000 nodes, about 600 MB
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_graph_is_released_and_second_backward_says_retain_graph():
    x = Value([1.0, 2.0])
    loss = (x.exp() * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward_and_retain_grad_keeps_a_computed_grad():
    x = Value([1.0, 2.0])
    h, k = x * 3, x * 2
    h.retain_grad()  # as PyTorch: keeping the graph and keeping a computed value's .grad are two things
    loss = h.sum() + k.sum()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(h.grad, [1.0, 1.0])
    with pytest.warns(UserWarning, match="retain_grad"):
        assert k.grad is None
    loss.backward()
    np.testing.assert_array_equal(x.grad, [10.0, 10.0])
    np.testing.assert_array_equal(h.grad, [2.0, 2.0])


def test_intermediate_grads_not_kept_without_retain_graph():
    x = Value([1.0, 2.0])
    h = x * 3
    h.sum().backward()
    assert h.grad is None and x.grad is not None


def _perceptron_steps(n):
    rng = np.random.default_rng(0)
    X, y = rng.random((4, 3)), rng.random((4, 1))
    w = Value(rng.random((3, 1)))
    for _ in range(n):
        loss = 0.5 * (((X @ w).sigmoid() - y) ** 2).sum()
        w.zero_grad()
        loss.backward()
        w.data -= 0.5 * w.grad
    return w


MEMORY_PROBE = """
import gc, sys, tracemalloc
sys.path.insert(0, sys.argv[1])
from test_engine import _perceptron_steps
tracemalloc.start()
sizes = []
for _ in range(3):
    _perceptron_steps(2000)
    gc.collect()  # also empties Python's free lists, which hold a bounded amount of memory
    sizes.append(tracemalloc.get_traced_memory()[0])
print(sizes[1] - sizes[0], sizes[2] - sizes[1])
"""


def test_training_memory_stays_flat():
    # Three stretches of 2,000 steps in a fresh interpreter: the first may fill caches once; a leak would
    # grow every stretch alike (one leaked 56-byte object per step: 112,000 bytes).
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(Path(__file__).parent)],
                          capture_output=True, text=True, check=True)
    second, third = map(int, done.stdout.split())
    assert second < 8_000 and third < 8_000, f"memory grew by {second}, then {third} bytes per 2,000 steps"


def test_graph_has_no_reference_cycles():
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _perceptron_steps(20)
        x = Value(np.ones(3))
        (x.exp().sigmoid() * x).sum().backward(retain_graph=True)
        del x
        assert gc.collect() == 0, "the graph made reference cycles: it would wait for the cycle collector"
    finally:
        if was_enabled:
            gc.enable()


# ---- no_grad and requires_grad ----

def test_no_grad_records_nothing():
    x = Value([1.0, 2.0])
    with tl.no_grad():
        y = x * 2
    assert not y.requires_grad and y._node is None
    z = x * 2
    assert z.requires_grad


def test_no_grad_as_decorator():
    @tl.no_grad()
    def f(x):
        return x * 2

    assert not f(Value(1.0)).requires_grad


def test_constants_record_nothing():
    c = Value([1.0, 2.0], requires_grad=False)
    y = (c * 2).exp()
    assert not y.requires_grad and y._node is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_detach_cuts_the_graph():
    x = Value(2.0)
    y = x * x.detach()
    y.backward()
    assert x.grad == 2.0


def test_no_grad_is_per_thread():
    inside, other = threading.Event(), {}

    def worker():
        inside.wait()
        other["recorded"] = (Value(1.0) * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    with tl.no_grad():
        inside.set()
        t.join()
        assert not tl.is_grad_enabled()
    assert other["recorded"] is True


# ---- dtypes ----

def test_dtype_rules():
    assert Value(1).dtype == np.float64
    assert Value(True).dtype == np.float64
    assert Value([1, 2]).dtype == np.float64
    assert Value(np.ones(2, np.float32)).dtype == np.float32
    assert Value([1, 2], dtype=np.float32).dtype == np.float32
    assert (Value(np.ones(2, np.float32)) * Value(np.ones(2))).dtype == np.float64  # numpy's promotion
    assert (Value(np.ones(2, np.float32)) * 2.5).dtype == np.float32  # Python numbers are weak
    with pytest.raises(TypeError, match="float"):
        Value([1, 2], dtype=np.int32)


def test_float32_stays_float32_through_backward():
    x = Value(np.array([0.5, -1.0], np.float32))
    y = ((x * 2.0).sigmoid() * x.exp()).sum()
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    mixed = Value(np.array([1.0, 2.0], np.float32))
    (mixed * np.array([1.0, 2.0])).sum().backward()
    assert mixed.grad.dtype == np.float32  # a gradient has its input's dtype


def test_data_is_copied_from_user_arrays():
    a = np.array([1.0, 2.0])
    v = Value(a)
    v.data += 1
    assert a[0] == 1.0


# ---- the Value interface ----

def test_attributes_and_methods():
    v = Value([[1.0, 2.0, 3.0]], name="v")
    assert v.shape == (1, 3) and v.ndim == 2 and v.size == 3 and len(v) == 1 and v.name == "v"
    assert isinstance(v.numpy(), np.ndarray) and v.T.shape == (3, 1)
    assert Value(2.5).item() == 2.5
    assert repr(Value(2.0)) == "Value(data=2., grad=None)"
    assert repr(Value(np.arange(100.0))).startswith("Value(data=[ 0.,  1., ..., 98., 99.], grad=None")
    with pytest.raises(TypeError):
        len(Value(1.0))
    with pytest.raises(TypeError, match="0-d"):
        list(Value(1.0))  # not an empty list
    rows = list(Value([[1.0, 2.0], [3.0, 4.0]]))
    assert len(rows) == 2 and rows[1].data.tolist() == [3.0, 4.0]


def test_numpy_operands_on_either_side_are_constants():
    v = Value([1.0, 2.0])
    for result in (np.float64(2) * v, np.array([1.0, 1.0]) - v, 1 - v, np.ones((2, 2)) @ v, 2 ** v, 1 / v):
        assert isinstance(result, Value)
    np.testing.assert_array_equal((1 - v).data, [0.0, -1.0])


def test_comparisons_are_plain_boolean_arrays():
    v = Value([1.0, 2.0, 3.0])
    for r in (v < 2, v <= 2, v > 2, v >= 2, v == 2, v != 2, v > Value([0.0, 5.0, 0.0])):
        assert type(r) is np.ndarray and r.dtype == bool
    np.testing.assert_array_equal(v > 1.5, [False, True, True])


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


# ---- higher order ----

def test_second_derivative_through_create_graph():
    x = Value(2.0)
    y = x ** 3
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.item() == 12.0  # 3x^2
    g = x.grad
    x.zero_grad()
    g.backward()
    assert x.grad == 12.0  # 6x


def test_hessian_of_a_quadratic_form_by_create_graph():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = Value([1.0, -1.0])
    (x @ A @ x).backward(create_graph=True)  # gradient (A + A^T) x, Hessian A + A^T
    g = x.grad
    rows = []
    for i in range(2):
        x.zero_grad()
        g[i].backward(retain_graph=True)
        rows.append(x.grad)
    np.testing.assert_allclose(np.array(rows), A + A.T)


def test_functional_grad_nests_and_takes_argnums():
    f = lambda x: (x ** 3).sum()
    np.testing.assert_allclose(tl.grad(f)(2.0), 12.0)
    np.testing.assert_allclose(tl.grad(tl.grad(f))(2.0), 12.0)
    np.testing.assert_allclose(tl.grad(tl.grad(tl.grad(f)))(2.0), 6.0)
    g = tl.grad(lambda a, b: (a * b.exp()).sum(), argnums=(0, 1))
    da, db = g(np.array([1.0, 2.0]), np.array([0.0, 1.0]))
    np.testing.assert_allclose(da, np.exp([0.0, 1.0]))
    np.testing.assert_allclose(db, [1.0, 2.0 * np.e])
    value, grad = tl.value_and_grad(lambda x: (x * x).sum())([1.0, 2.0])
    assert value == 5.0
    np.testing.assert_allclose(grad, [2.0, 4.0])


def test_functional_grad_leaves_dot_grad_alone():
    x = Value([1.0, 2.0])
    g = tl.grad(lambda x: (x * x).sum())(x)
    np.testing.assert_allclose(g.data, [2.0, 4.0])
    assert x.grad is None


def test_grad_of_a_function_that_ignores_its_input_is_zero():
    np.testing.assert_array_equal(tl.grad(lambda x: Value(3.0) * 1.0)(np.ones(2)), [0.0, 0.0])


# ---- clear errors ----

@pytest.mark.parametrize("make, error, pattern", [
    (lambda: Value([[1.0, 2.0]]) @ Value(np.ones((3, 4))), ValueError,
     r"matmul: shapes \(1, 2\) and \(3, 4\) do not align"),
    (lambda: Value([1.0, 2.0]) + Value([1.0, 2.0, 3.0]), ValueError,
     r"add: shapes \(2,\) and \(3,\) cannot be broadcast"),
    (lambda: Value(np.ones((2, 3))) * np.ones((4, 3)), ValueError, r"mul: shapes \(2, 3\) and \(4, 3\)"),
    (lambda: Value(np.ones(6)).reshape(4, 2), ValueError, r"reshape: cannot reshape shape \(6,\) into \(4, 2\)"),
    (lambda: Value(np.ones((2, 3))).sum(axis=2), ValueError, r"sum: axis 2 .*\(2, 3\)"),
    (lambda: Value(np.ones((2, 3))).max(axis=-3), ValueError, r"max: axis -3 .*\(2, 3\)"),
    (lambda: Value(np.ones(3))[5], IndexError, r"getitem: .*\(3,\)"),
    (lambda: Value(np.ones(3)).sum(axis="x"), TypeError, r"sum: .*\(input shape \(3,\), axis='x'"),
    (lambda: Value("abc"), TypeError, "str"),
    (lambda: Value(None), TypeError, "NoneType"),
    (lambda: Value(np.array([object()])), TypeError, "object"),
    (lambda: Value([1 + 2j]), TypeError, "complex"),
    (lambda: Value([[1.0], [1.0, 2.0]]), TypeError, "numeric"),
    (lambda: Value(1.0) + "x", TypeError, "str"),
    (lambda: (Value([1.0, 2.0]) * 2).backward(), RuntimeError, r"scalar.*shape \(2,\)"),
    (lambda: (Value([1.0, 2.0]) * 2).backward(np.ones(3)), ValueError, r"\(3,\).*\(2,\)"),
])
def test_clear_errors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


# ---- random graphs: topological order and accumulation, against finite differences ----

_STEPS = {  # bounded, smooth steps; each takes one or two earlier values
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "mul": lambda a, b: a * b,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "square": lambda a, b: a * a,
    "softsign": lambda a, b: a / (1 + a * a),
    "mean": lambda a, b: a - a.mean(axis=-1, keepdims=True),
}


@st.composite
def _programs(draw):
    """A random computation: each step applies an op to earlier values, chosen at random, so values are
    reused (shared subexpressions) and the graph is a DAG, not a chain."""
    n_inputs = draw(st.integers(1, 3))
    shape = draw(tst.shapes(min_dims=1, max_dims=2, max_side=3))
    inputs = tuple(draw(tst.values(shape)) for _ in range(n_inputs))
    steps = draw(st.lists(st.tuples(st.sampled_from(sorted(_STEPS)), st.integers(0, 10**6), st.integers(0, 10**6)),
                          min_size=1, max_size=12))
    return inputs, steps


def _run(steps, *inputs):
    values = list(inputs)
    for name, i, j in steps:
        values.append(_STEPS[name](values[i % len(values)], values[j % len(values)]))
    return values[-1] + 0.5 * values[len(values) // 2]  # the output uses an earlier value again


@given(_programs())
def test_random_graphs_have_the_right_first_and_second_derivatives(program):
    inputs, steps = program
    fn = lambda *xs: _run(steps, *xs)
    assert gradcheck(fn, *inputs)
    assert gradgradcheck(fn, *inputs)
