"""The engine (tinygrad_lite/backward.py): backward by hand and on random graphs, accumulation, release
and retain_graph, depth, memory, threads and hooks."""

import gc
import math
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Value
from tinygrad_lite.testing import gradcheck, gradgradcheck
from tinygrad_lite.testing import strategies as tst

MEMORY_PROBE = """
import gc, sys, tracemalloc
sys.path.insert(0, sys.argv[1])
from test_backward import _perceptron_steps
tracemalloc.start()
sizes = []
for _ in range(3):
    _perceptron_steps(2000)
    gc.collect()  # also empties Python's free lists, which hold a bounded amount of memory
    sizes.append(tracemalloc.get_traced_memory()[0])
print(sizes[1] - sizes[0], sizes[2] - sizes[1])
"""


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


class _Boom(Exception):
    pass


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


@pytest.mark.slow
def test_hundred_thousand_deep_chain():
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


@pytest.mark.slow
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


def test_float32_stays_float32_through_backward():
    x = Value(np.array([0.5, -1.0], np.float32))
    y = ((x * 2.0).sigmoid() * x.exp()).sum()
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    mixed = Value(np.array([1.0, 2.0], np.float32))
    (mixed * np.array([1.0, 2.0])).sum().backward()
    assert mixed.grad.dtype == np.float32  # a gradient has its input's dtype


def test_second_derivative_through_create_graph():
    x = Value(3.0)  # where 3x^2 and 6x differ, so that neither can stand in for the other
    y = x ** 3
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.item() == 27.0  # 3x^2
    g = x.grad
    x.zero_grad()
    g.backward()
    assert x.grad == 18.0  # 6x


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


def test_a_grad_left_from_before_the_data_changed_shape_is_one_clear_error():
    w = Value(np.ones((3, 2)), name="w")
    (w * 2).sum().backward()
    w.data = np.ones((3, 5))  # a layer resized; its old .grad is still there
    with pytest.raises(ValueError, match=r"backward: 'w' \(shape \(3, 5\)\) holds a .grad of shape \(3, 2\)"):
        (w * 2).sum().backward()
    w.zero_grad()
    (w * 2).sum().backward()
    assert np.array_equal(w.grad, np.full((3, 5), 2.0))


@given(_programs())
def test_random_graphs_have_the_right_first_and_second_derivatives(program):
    inputs, steps = program
    fn = lambda *xs: _run(steps, *xs)
    assert gradcheck(fn, *inputs)
    assert gradgradcheck(fn, *inputs)


def test_a_hook_that_raises_leaves_the_graph_usable_for_a_retry():
    x = Value([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()

    def bad_hook(g):
        raise _Boom("hook failed")

    handle = h.register_hook(bad_hook)
    with pytest.raises(_Boom, match="^hook failed$"):
        y.backward()
    assert x.grad is None  # nothing half-accumulated
    handle.remove()
    y.backward()
    np.testing.assert_array_equal(x.grad, 18 * x.data)


@pytest.mark.parametrize("returned", [2.0, [2.0], np.array(2.0), np.float32(2.0)], ids=repr)
def test_a_hook_may_return_a_float_list_or_0d_array(returned):
    x = Value(1.5)
    x.register_hook(lambda g: returned)
    (x * 4).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad == 2.0 and x.grad.dtype == np.float64
    y = Value([1.0])
    y.register_hook(lambda g: returned)
    (y * 4).sum().backward()
    np.testing.assert_array_equal(y.grad, [2.0])


def test_a_hook_returning_nonsense_is_named():
    x = Value([1.0, 2.0])

    def silly(g):
        return "oops"

    x.register_hook(silly)
    with pytest.raises(TypeError, match=r"hook 'silly' returned str 'oops'"):
        (x * 2).sum().backward()


def test_an_accumulated_0d_grad_is_a_writable_array():
    x = Value(2.0)
    (x * 3).backward()
    (x * 4).backward()
    assert type(x.grad) is np.ndarray and x.grad == 7.0
    x.grad[...] = 0.0
    assert x.grad == 0.0


def test_hook_bookkeeping_lets_go_of_collected_values():
    import tinygrad_lite as tl
    gc.collect()
    start = len(tl.backward.hooked)
    for _ in range(100):
        v = Value(1.0)
        v.register_hook(lambda g: None)
    del v
    gc.collect()
    assert len(tl.backward.hooked) == start


def test_gradient_accumulation_from_threads_loses_nothing():
    leaf = Value(np.zeros(20_000))  # large enough that numpy lets go of the GIL while it adds
    start = threading.Barrier(4)

    def work():
        start.wait(timeout=10)
        for _ in range(200):
            (leaf * 1.0 + 0.0).backward(np.ones(20_000))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(leaf.grad, np.full(20_000, 800.0))


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


@pytest.mark.parametrize("call", [
    lambda w: tl.optim.clip_grad_norm(w, 1.0),
    lambda w: tl.optim.minimize(w, lambda: (w * w).sum()),
    lambda w: tl.optim.SGD(w, lr=0.1),
    lambda w: tl.optim.Adam(w),
])
def test_one_value_where_a_list_of_parameters_is_needed_is_refused(call):
    w = Value(np.ones((3, 2)))
    w.grad = np.full((3, 2), 10.0)
    with pytest.raises(TypeError, match=r"give a list of parameters .*\[w\]"):
        call(w)
