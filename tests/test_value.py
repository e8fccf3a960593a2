"""Value: construction, conversions, dtypes, versions and in-place edits, and the errors a user meets."""

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value


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


RNG = np.random.default_rng(7)


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


def test_dtype_rules():
    assert Value(1).dtype == np.float64
    assert Value(True).dtype == np.float64
    assert Value([1, 2]).dtype == np.float64
    assert Value(np.ones(2, np.float32)).dtype == np.float32
    assert Value([1, 2], dtype=np.float32).dtype == np.float32
    assert (Value(np.ones(2, np.float32)) * Value(np.ones(2))).dtype == np.float64  # numpy's promotion
    assert (Value(np.ones(2, np.float32)) * 2.5).dtype == np.float32  # Python numbers are weak
    x = Value(np.ones(2, np.float32))
    for zero_d in (np.float64(2.0), np.sqrt(4.0), np.array(2.0), np.int64(2), np.array(2)):  # as PyTorch's 0-d
        for out in (x / zero_d, zero_d * x, x + zero_d, x - zero_d, x ** zero_d, tl.maximum(x, zero_d)):
            assert out.dtype == np.float32, (type(zero_d), out)
    assert (x * np.array([2.0])).dtype == np.float64  # an array with an axis: numpy's promotion
    out = x / np.sqrt(np.float64(3.0))
    out.sum().backward()
    assert x.grad.dtype == np.float32 and out.data[0] == np.float32(1) / np.float32(np.sqrt(3.0))
    with pytest.raises(TypeError, match="float"):
        Value([1, 2], dtype=np.int32)


def test_data_is_copied_from_user_arrays():
    a = np.array([1.0, 2.0])
    v = Value(a)
    v.data += 1
    assert a[0] == 1.0


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


def test_the_error_wrapper_never_fails_itself():
    with pytest.raises(TypeError, match=r"clip: .*'a'") as info:
        Value([1.0]).clip("a", 1)
    assert type(info.value) is TypeError


@pytest.mark.parametrize("v", [Value(2.71828), Value([2.71828]), Value([[2.71828]])], ids=["0-d", "(1,)", "(1, 1)"])
def test_one_element_values_convert_like_numbers(v):
    assert float(v) == 2.71828 and type(float(v)) is float
    assert int(v) == 2 and type(int(v)) is int
    assert format(v, ".3f") == "2.718" and f"{v:.2e}" == "2.72e+00"
    assert round(v, 2) == 2.72 and round(v) == 3 and type(round(v)) is int
    assert v.tolist() == np.asarray(v.data).tolist()


def test_many_element_values_refuse_scalar_conversions():
    v = Value([1.0, 2.0])
    for convert in (float, int, round, lambda x: format(x, ".2f")):
        with pytest.raises(TypeError, match="one-element"):
            convert(v)
    assert f"{v}" == str(v)  # an empty format spec shows the Value, as numpy shows the array
    assert v.tolist() == [1.0, 2.0]


def test_an_in_place_edit_seen_through_a_detached_alias_is_refused():
    w, c = Value([1.0, 2.0]), Value([3.0, 4.0])
    y = (w.detach() * c).sum()
    w.data -= 1
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()
    assert c.grad is None


def test_an_in_place_edit_through_the_alias_is_seen_by_the_original():
    w, c = Value([1.0, 2.0]), Value([3.0, 4.0])
    d = w.detach()
    y = (w * c).sum()
    d.data *= 2
    with pytest.raises(RuntimeError, match="changed in place"):
        y.backward()


def test_a_copy_is_not_an_alias():
    w, c = Value([1.0, 2.0]), Value([3.0, 4.0])
    with tl.no_grad():
        v = w * 1.0  # a new array
    y = (v * c).sum()
    w.data -= 1
    y.backward()
    np.testing.assert_array_equal(c.grad, [1.0, 2.0])


def test_assigning_integers_to_data_converts_them_as_the_constructor_does():
    v = Value([1.0, 2.0])
    v.data = np.array([1, 2])
    assert v.dtype == np.float64
    (v * 1.5).sum().backward()
    np.testing.assert_array_equal(v.grad, [1.5, 1.5])
    tl.optim.SGD([v], lr=0.1).step()
    np.testing.assert_allclose(v.data, [0.85, 1.85])
    with pytest.raises(TypeError, match="Value: expected real numbers"):
        v.data = np.array(["a", "b"])


def test_an_in_place_operator_on_a_parameter_is_refused_with_the_fix():
    w = Value([1.0, 2.0])
    with pytest.raises(TypeError, match=r"w.data -= \.\.\."):
        w -= 0.1
    c = Value([1.0], requires_grad=False)
    c += 1  # a constant: a new Value, as Python's fallback gives
    assert c.item() == 2.0
