"""The engine at its edges: each test here is a case that once gave a silent wrong number, crashed inside the
library, or lost data. Expected values come from closed forms, plain numpy, or PyTorch's documented conventions."""

import gc
import threading
import tracemalloc
import warnings

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, ops

RNG = np.random.default_rng(7)


# ---- 1. silent wrong gradients ----

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


def test_cross_entropy_soft_target_value_gets_its_gradient():
    logits = Value(RNG.standard_normal((3, 4)))
    target = Value(RNG.dirichlet(np.ones(4), size=3))
    loss = tl.nn.CrossEntropy(reduction="sum")(logits, target)
    loss.backward()
    z = logits.data - logits.data.max(axis=1, keepdims=True)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # plain numpy
    np.testing.assert_allclose(target.grad, -log_softmax, rtol=1e-12)
    np.testing.assert_allclose(logits.grad, np.exp(log_softmax) * target.data.sum(1, keepdims=True) - target.data,
                               rtol=1e-12, atol=1e-15)


def test_cross_entropy_with_class_indices_keeps_float32():
    logits = Value(RNG.standard_normal((5, 3)), dtype=np.float32)
    loss = tl.nn.CrossEntropy()(logits, np.array([0, 2, 1, 1, 0]))
    assert loss.dtype == np.float32
    loss.backward()
    assert logits.grad.dtype == np.float32


@pytest.mark.parametrize("dtype", [int, np.int32, bool, complex, np.complex64, str, "U3", object])
def test_astype_to_a_non_float_dtype_is_refused(dtype):
    with pytest.raises(TypeError, match="astype"):
        Value([1.0, 2.0]).astype(dtype)


def test_astype_without_a_dtype_is_refused():
    with pytest.raises(TypeError, match=r"astype\(\).*dtype"):
        Value([1.0]).astype()
    with pytest.raises(TypeError, match=r"reshape\(\).*shape"):
        Value([1.0]).reshape()


# ---- 2. in-place edits between forward and backward ----

def _edits():
    def data_imul(w, model):
        w.data *= 10

    def data_isub(w, model):
        w.data -= 0.5

    def sgd_step(w, model):
        w.grad = np.ones_like(w.data)
        tl.optim.SGD([w], lr=0.1).step()

    def adam_step(w, model):
        w.grad = np.ones_like(w.data)
        tl.optim.Adam([w], lr=0.1).step()

    def load_state(w, model):
        model.load_state_dict({name: p.data + 1 for name, p in model.named_parameters()})

    def load_file(w, model, tmp_path=None):
        model.save(tmp_path / "m.npz")
        model.load(tmp_path / "m.npz")

    return [data_imul, data_isub, sgd_step, adam_step, load_state, load_file]


@pytest.mark.parametrize("edit", _edits(), ids=lambda f: f.__name__)
def test_an_in_place_edit_after_the_forward_makes_backward_refuse(edit, tmp_path):
    model = tl.nn.Linear(3, 1, rng=0)
    w = model.weight
    x = Value([[1.0, 2.0, 3.0]], name="x")
    loss = (model(x) ** 2).sum()
    before = w._version
    if edit.__name__ == "load_file":
        edit(w, model, tmp_path)
    else:
        edit(w, model)
    assert w._version > before
    named = r"'weight' \(shape \(3, 1\)\).*matmul" if edit.__name__.startswith("data") else \
        r"'(weight|bias)' \(shape \((3, 1|1,)\)\).*(matmul|add)"  # a loaded state changes both
    with pytest.raises(RuntimeError, match=named + r".*call backward\(\) before changing the weights, or "
                                                   r"recompute the forward"):
        loss.backward()
    assert w.grad is None or edit.__name__ in ("sgd_step", "adam_step")  # nothing half-accumulated


def test_an_edited_intermediate_and_an_unnamed_value_are_named_by_shape():
    x = Value(np.ones((2, 2)))
    h = x.exp()
    y = (h * 2).sum()
    h.data += 1
    with pytest.raises(RuntimeError, match=r"a Value of shape \(2, 2\).*mul"):
        y.backward()


def test_the_normal_loop_and_a_step_after_backward_stay_silent():
    model = tl.nn.Sequential(tl.nn.Linear(2, 3, rng=0), tl.nn.Tanh(), tl.nn.Linear(3, 1, rng=1))
    opt = tl.optim.Adam(model.parameters(), lr=0.01)
    x, y = RNG.standard_normal((8, 2)), RNG.standard_normal((8, 1))
    w = model[0].weight
    for _ in range(3):
        loss = tl.nn.MSE()(model(x), y)
        loss.backward()
        w.data -= 0.01 * w.grad
        w.zero_grad()
        loss = tl.nn.MSE()(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    # a graph kept with retain_graph and then stepped is refused the second time
    loss = tl.nn.MSE()(model(x), y)
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_rebinding_data_counts_as_a_change_and_gradcheck_leaves_versions_alone():
    x = Value([1.0, 2.0])
    y = (x * x).sum()
    v = x._version
    tl.testing.gradcheck(lambda t: (t * t).sum(), x)
    assert x._version == v
    y.backward()  # gradcheck put the same numbers back: nothing changed
    x.data = np.array([5.0, 6.0])
    z = (x * x).sum()
    x.data = np.array([1.0, 1.0])
    with pytest.raises(RuntimeError, match="changed in place"):
        z.backward()


# ---- 3. no crash from the library's internals ----

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


@pytest.mark.parametrize("loss, pred, target", [
    (tl.nn.MSE(), np.ones((0, 1)), np.ones((0, 1))),
    (tl.nn.BCE(), np.full((0, 1), 0.5), np.ones((0, 1))),
    (tl.nn.CrossEntropy(), np.ones((0, 3)), np.zeros(0, dtype=int)),
])
def test_losses_on_an_empty_batch_say_so(loss, pred, target):
    with pytest.raises(ValueError, match=rf"{type(loss).__name__}: .*empty"):
        loss(Value(pred), target)


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


def test_the_error_wrapper_never_fails_itself():
    with pytest.raises(TypeError, match=r"clip: .*'a'") as info:
        Value([1.0]).clip("a", 1)
    assert type(info.value) is TypeError


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
    assert any(tb.name == "backward" and "test_edges" in str(tb.path) for tb in info.traceback)


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


def test_no_grad_objects_can_be_entered_again_and_shared_by_threads():
    ng = tl.no_grad()
    x = Value(1.0)
    with ng:
        with ng:
            assert not tl.is_grad_enabled()
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()
    with ng:
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    seen, barrier = [], threading.Barrier(4)

    def work():
        with ng:
            barrier.wait(timeout=10)  # all four threads inside the one object's block at once
            seen.append((x * 2).requires_grad)
        seen.append(not (x * 2).requires_grad)
        for _ in range(49):
            with ng:
                seen.append((x * 2).requires_grad)
            seen.append(not (x * 2).requires_grad)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 400 and not any(seen)
    assert tl.is_grad_enabled()

    @ng
    def f(v):
        return v * 2

    assert not f(x).requires_grad and (x * 2).requires_grad


def test_no_grad_refuses_to_decorate_a_generator_function():
    with pytest.raises(TypeError, match="generator"):
        @tl.no_grad()
        def gen(v):
            yield v * 2


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


def test_vjp_wants_values():
    with pytest.raises(TypeError, match=r"vjp: output must be a Value.*ndarray"):
        tl.vjp(np.ones(2), [Value([1.0, 2.0])])
    with pytest.raises(TypeError, match=r"vjp: inputs must be Values.*input 0 is ndarray"):
        tl.vjp(Value([1.0]).sum(), [np.ones(2)])


# ---- 4. nothing lost ----

def test_load_state_dict_is_all_or_nothing():
    model = tl.nn.Sequential(tl.nn.Linear(2, 3, rng=0), tl.nn.Linear(3, 1, rng=1))
    before = model.state_dict()
    assert list(before)[-2:] == ["layers.1.weight", "layers.1.bias"]  # the last ones checked: all else is fine
    bad_shape = {k: v + 1 for k, v in before.items()}
    bad_shape["layers.1.weight"] = np.ones((2, 2))
    bad_dtype = {k: v + 1 for k, v in before.items()}
    bad_dtype["layers.1.bias"] = np.array(["a"])
    ints = {k: v + 1 for k, v in before.items()}
    ints["layers.1.bias"] = np.array([1])
    for state, pattern in ((bad_shape, r"'layers.1.weight'.*shape"), (bad_dtype, r"'layers.1.bias'.*dtype"),
                           (ints, r"'layers.1.bias'.*dtype")):
        with pytest.raises(ValueError, match=pattern):
            model.load_state_dict(state)
        for name, p in model.named_parameters():
            np.testing.assert_array_equal(p.data, before[name])


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
