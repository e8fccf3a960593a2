"""Silent wrong answers and raw errors found at the library's newer edges, each pinned: the right number (from
PyTorch's recorded answers, a closed form or plain numpy) or one clear error naming the function."""

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value

ROOT = Path(__file__).resolve().parents[1]


# ---- versions shared by aliases ------------------------------------------------------------------------

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


@pytest.mark.parametrize("view", [lambda w: w[0:2], lambda w: w.reshape(2, 1), lambda w: w.T, lambda w: w[None]])
def test_an_in_place_edit_seen_through_a_view_made_under_no_grad_is_refused(view):
    w, c = Value([1.0, 2.0]), Value([3.0, 4.0])
    with tl.no_grad():
        v = view(w)
    y = (v.reshape(2) * c).sum()
    w.data -= 1
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


def test_a_list_of_values_is_refused_with_a_pointer_to_stack():
    a = Value(2.0)
    with pytest.raises(TypeError, match=r"tl\.stack"):
        Value([a * 3, a * 4])
    with pytest.raises(TypeError, match=r"tl\.stack"):
        Value([[1.0, a]])
    s = tl.stack([a * 3, a * 4])
    s.sum().backward()
    assert a.grad == 7.0


# ---- functional forms inside no_grad ------------------------------------------------------------------

def test_functional_forms_work_inside_no_grad():
    f = lambda x: (x ** 3).sum()  # noqa: E731
    x = np.array([1.0, 2.0])
    with tl.no_grad():
        np.testing.assert_allclose(tl.grad(f)(x), 3 * x ** 2)
        value, g = tl.value_and_grad(f)(x)
        assert value == 9.0
        np.testing.assert_allclose(g, 3 * x ** 2)
        np.testing.assert_allclose(tl.jacobian(lambda t: t ** 2)(x), np.diag(2 * x))
        np.testing.assert_allclose(tl.hessian(f)(x), np.diag(6 * x))
        assert not tl.is_grad_enabled()


def test_the_jacobian_of_an_empty_output_has_the_right_shape():
    jac = tl.jacobian(lambda t: t[:0])(np.array([1.0, 2.0]))
    assert jac.shape == (0, 2)


# ---- optimisers and their helpers ---------------------------------------------------------------------

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


def test_clip_grad_norm_of_a_nan_gradient_makes_it_nan_as_pytorch():
    w = Value([1.0, 2.0])
    w.grad = np.array([np.nan, 1.0])
    assert np.isnan(tl.optim.clip_grad_norm([w], 1.0))
    assert np.isnan(w.grad).all()


@pytest.mark.parametrize("call,match", [
    (lambda: tl.optim.Adam([Value(1.0)], betas=None), r"Adam: betas must be two numbers"),
    (lambda: tl.optim.AdamW([Value(1.0)], betas=(0.9, "a")), r"AdamW: betas must be two numbers"),
    (lambda: tl.optim.clip_grad_norm([Value(1.0)], None), r"clip_grad_norm: max_norm"),
])
def test_optimiser_arguments_are_checked_by_name(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# ---- composites at their edges -------------------------------------------------------------------------

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


def test_prod_of_thirty_thousand_numbers_is_linear_in_memory_and_exact_at_zeros():
    import tracemalloc
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


# ---- infinities a training loop meets ------------------------------------------------------------------

def test_cross_entropy_with_a_masked_logit_is_finite_as_pytorch():
    z = Value([[1.0, -np.inf, 0.0]])
    loss = tl.nn.CrossEntropy()(z, np.array([0]))
    loss.backward()
    assert loss.item() == pytest.approx(np.log1p(np.exp(-1.0)), rel=1e-15)  # log(e + 1) - 1
    e = np.exp([1.0, 0.0])
    np.testing.assert_allclose(z.grad, [[e[0] / e.sum() - 1, 0.0, e[1] / e.sum()]], rtol=1e-15)


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


def test_dropout_gives_zero_for_a_dropped_infinity():
    layer = tl.nn.Dropout(0.5, rng=0)
    out = layer(Value(np.full(64, np.inf)))
    assert not np.isnan(out.data).any()
    assert set(np.unique(out.data)) == {0.0, np.inf}
    assert not np.isnan(tl.nn.Dropout(1.0, rng=0)(Value(np.full(4, np.inf))).data).any()


def test_bce_in_float32_at_a_saturated_sigmoid_is_finite():
    z = np.float32([20.0])
    loss = tl.nn.BCE()(Value(z).sigmoid(), np.float32([1.0]))
    assert loss.dtype == np.float32 and loss.item() == 0.0
    assert tl.nn.BCE()(Value(np.float32([1.0])), np.float32([0.0])).item() == 100.0  # PyTorch: 100


# ---- data helpers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,error,match", [
    (lambda: tl.data.confusion_matrix(np.array([0, 1]), np.array([-1, 1]), 2), ValueError, "class indices"),
    (lambda: tl.data.confusion_matrix(np.array([0, 1]), np.array([0, 3]), 2), ValueError, "classes=4"),
    (lambda: tl.data.accuracy(np.array(["a", "b"]), np.array([0, 1])), TypeError, "scores must be numbers"),
    (lambda: tl.data.accuracy(np.array([0.1, 0.9]), np.array(["a", "b"])), TypeError, "labels must be class"),
    (lambda: tl.data.accuracy(np.ones((2, 3, 4)), np.array([0, 1])), ValueError, r"\(n, classes\)"),
    (lambda: tl.data.train_test_split(np.ones((6, 2)), stratify=np.zeros((6, 2))), ValueError, "stratify"),
    (lambda: tl.data.moons(seed=-1), ValueError, "moons: seed"),
    (lambda: tl.data.moons(seed="a"), TypeError, "moons: seed"),
    (lambda: tl.data.DataLoader(np.ones(3), seed=1.5), TypeError, "DataLoader: seed"),
    (lambda: tl.data.StandardScaler().fit(["a", "b"]), TypeError, "StandardScaler.fit"),
    (lambda: tl.data.MaxScaler().fit(np.ones((3, 2))).transform(np.ones((3, 3))), ValueError,
     r"MaxScaler.transform: rows of shape \(3,\)"),
])
def test_data_helpers_refuse_what_is_not_a_class_index_or_a_number(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---- saving and loading --------------------------------------------------------------------------------

def _saved(tmp_path):
    model = tl.nn.Linear(2, 1, rng=0)
    path = tmp_path / "m.npz"
    model.save(path)
    return model, path


def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere")):
        tl.nn.Linear(2, 1).save(tmp_path / "nowhere" / "m.npz")
    assert not list(tmp_path.iterdir())


def test_load_of_a_damaged_archive_is_one_value_error_naming_the_file(tmp_path):
    model, path = _saved(tmp_path)
    raw = path.read_bytes()
    cases = {}
    method = bytearray(raw)  # an unknown compression method in the first entry of the central directory
    at = raw.find(b"PK\x01\x02")
    method[at + 10:at + 12] = (99).to_bytes(2, "little")
    cases["method"] = bytes(method)
    offset = bytearray(raw)  # the central directory's offset past the end
    end = raw.rfind(b"PK\x05\x06")
    offset[end + 16:end + 20] = (len(raw) + 1000).to_bytes(4, "little")
    cases["offset"] = bytes(offset)
    encrypted = bytearray(raw)  # the encryption bit in every header
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = raw.find(sig)
        while i != -1:
            encrypted[i + at] |= 1
            i = raw.find(sig, i + 1)
    cases["encrypted"] = bytes(encrypted)
    for name, data in cases.items():
        bad = tmp_path / f"{name}.npz"
        bad.write_bytes(data)
        with pytest.raises(ValueError, match=f"load: {bad}"):
            model.load(bad)


# ---- learners' habits from PyTorch and micrograd -------------------------------------------------------

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


def test_swapaxes_is_pytorchs_transpose_of_two_axes():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Value(x).swapaxes(1, 2).data, np.swapaxes(x, 1, 2))
    np.testing.assert_array_equal(Value(x).swapaxes(-1, 0).data, np.swapaxes(x, -1, 0))


def test_concatenate_error_names_the_parts_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\), \(2, 4\)"):
        tl.concatenate([Value(np.ones((2, 3))), Value(np.ones((2, 4)))], axis=5)


def test_explain_and_draw_a_graph_with_an_array_condition():
    x = Value([1.0, -2.0, 3.0], name="x")
    loss = tl.where(x.data > 0, x, x * 0.1).sum()
    text = str(tl.explain(loss))
    assert "where(x" in text
    assert "<svg" in tl.draw(loss).svg()
    loss.backward()
    assert "where(x" in str(tl.explain(loss))


def test_the_command_line_without_scipy_says_so_in_one_line_with_exit_code_2(tmp_path):
    blocker = tmp_path / "scipy"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('No module named scipy')\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    run = subprocess.run([sys.executable, "-m", "tinygrad_lite", "demo", "regressor", "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "scipy" in lines[0] and "pip install" in lines[0], run.stderr


def test_an_archive_in_memory_is_a_zip_of_npy_files(tmp_path):
    _, path = _saved(tmp_path)
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as z:
        assert sorted(z.namelist()) == ["bias.npy", "weight.npy"]


# ---- explaining, drawing and paging every op of the table, with its parameters drawn ------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tinygrad_lite import ops  # noqa: E402
from tinygrad_lite.testing import strategies as tst  # noqa: E402


@pytest.mark.parametrize("name", sorted(ops.TABLE))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_op_with_drawn_parameters_is_explained_drawn_and_paged(name, data, tmp_path_factory):
    op = ops.TABLE[name]
    inputs, params = data.draw(tst.op_cases(op))
    out = tst.apply_op(op, inputs, params)
    loss = (out * np.random.default_rng(0).standard_normal(out.shape)).sum()
    text = str(tl.explain(loss))
    assert "Backward" in text
    assert "digraph" in tl.draw(loss).source
    page = tl.explain(loss).save_html(tmp_path_factory.mktemp("page") / "p.html")
    assert "<svg" in page.read_text()
    loss.backward()  # and after backward, with the graph released
    assert "Backward" in str(tl.explain(loss)) and "digraph" in tl.draw(loss).source


def test_rebinding_a_parameter_is_explained_when_its_grad_is_read():
    w = Value([1.0, 2.0])
    (w * w).sum().backward()
    w = w - 0.1 * w.grad  # the micrograd habit: w is now computed, no longer the parameter
    (w * w).sum().backward()
    with pytest.warns(UserWarning, match=r"w = w - lr \* w.grad.*w.data -= lr \* w.grad"):
        assert w.grad is None


def test_an_in_place_operator_on_a_parameter_is_refused_with_the_fix():
    w = Value([1.0, 2.0])
    with pytest.raises(TypeError, match=r"w.data -= \.\.\."):
        w -= 0.1
    c = Value([1.0], requires_grad=False)
    c += 1  # a constant: a new Value, as Python's fallback gives
    assert c.item() == 2.0


def test_conv2d_and_pooling_on_an_empty_batch_give_shapes():
    conv = tl.nn.Conv2d(2, 3, 3, padding=1, rng=0)
    out = conv(np.zeros((0, 2, 5, 5)))
    assert out.shape == (0, 3, 5, 5)
    out.sum().backward()
    np.testing.assert_array_equal(conv.weight.grad, np.zeros((3, 2, 3, 3)))
    assert tl.nn.MaxPool2d(2)(np.zeros((0, 2, 4, 4))).shape == (0, 2, 2, 2)
