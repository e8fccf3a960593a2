"""The edges of a language model against PyTorch (numbers recorded by tools/pytorch_masks.py): causal attention
with more or fewer keys than queries, masks of every dtype, a query that may attend to nothing, the ops that pick
or clip given an upstream gradient holding NaN and inf (they choose, they do not multiply by a 0/1 mask),
cross-entropy with every target ignored, softmax of rows holding inf and NaN, and two shape conventions.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, nn

TORCH = json.loads((Path(__file__).parent / "data" / "pytorch_masks.json").read_text())
ATTENTION = TORCH["attention"]
UP = TORCH["upstream_nan"]


def _check(rec, fn, rtol=1e-10, atol=1e-12, finite=(0, 1, 2)):
    """fn(*inputs) against the record: the output, each input's gradient for the recorded direction g (those in
    `finite` finite), and, where recorded, the second order <d(g . out)/d input0, h>."""
    inputs = [Value(np.array(x)) for x in rec["inputs"]]
    out = fn(*inputs)
    np.testing.assert_allclose(out.data, rec["out"], rtol=rtol, atol=atol, err_msg="output")
    second = "second" in rec
    grads = tl.vjp(out, inputs, grad=np.array(rec["g"]), create_graph=second)
    for i, (got, want) in enumerate(zip(grads, rec["grads"])):
        got = getattr(got, "data", got)
        assert i not in finite or np.isfinite(got).all(), f"input {i}: a gradient that is not finite"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"input {i}")
    if second:
        (gg,) = tl.vjp((grads[0] * np.array(rec["h"])).sum(), [inputs[0]])
        np.testing.assert_allclose(gg, rec["second"], rtol=1e-8, atol=1e-10, err_msg="second order")


@pytest.mark.parametrize("case", [k for k in ATTENTION if k.startswith("causal_T")])
def test_causal_attention_is_aligned_top_left_as_pytorchs_is_causal(case):
    _check(ATTENTION[case], lambda q, k, v: nn.attention(q, k, v, causal=True))


@pytest.mark.parametrize("case", [k for k in ATTENTION if k.startswith("lower_right_")])
def test_causal_lower_right_matches_pytorchs_causal_lower_right(case):
    _check(ATTENTION[case], lambda q, k, v: nn.attention(q, k, v, causal="lower_right"))


def test_causal_lower_right_is_the_top_left_mask_shifted_to_the_last_key():
    r = np.random.default_rng(1)
    q, k, v = r.standard_normal((1, 2, 3)), r.standard_normal((1, 5, 3)), r.standard_normal((1, 5, 2))
    shifted = np.tril(np.ones((2, 5), dtype=bool), 3)  # query t sees keys up to t + S - T
    lower_right = nn.attention(q, k, v, causal="lower_right").data
    np.testing.assert_allclose(lower_right, nn.attention(q, k, v, mask=shifted).data)
    # the last query sees every key, the first all but the last
    full = nn.attention(q[:, 1:], k, v).data
    np.testing.assert_allclose(nn.attention(q, k, v, causal="lower_right").data[:, 1:], full)
    with pytest.raises(ValueError, match="causal must be True, False or 'lower_right'"):
        nn.attention(q, k, v, causal="upper")


@pytest.mark.parametrize("kind", ["bool_mask_empty_row", "float_mask_empty_row"])
def test_a_query_that_may_attend_to_nothing_gives_0_as_scaled_dot_product_attention(kind):
    rec = ATTENTION[kind]
    mask = np.array(rec["mask"], dtype=bool if kind.startswith("bool") else np.float64)
    _check(rec, lambda q, k, v: nn.attention(q, k, v, mask=mask))
    out = nn.attention(*(np.array(x) for x in rec["inputs"]), mask=mask)
    assert np.array_equal(out.data[:, 1], np.zeros((2, 2)))  # query 1 may attend to nothing


def test_a_causal_and_a_boolean_mask_together_are_joined():
    rec = ATTENTION["causal_and_bool_mask"]
    _check(rec, lambda q, k, v: nn.attention(q, k, v, causal=True, mask=np.array(rec["mask"])))


def test_an_integer_mask_is_refused_as_pytorch_refuses_it():
    assert ATTENTION["int_mask_refused"]
    q = np.ones((1, 2, 1))
    with pytest.raises(TypeError, match=r"mask holds integers \(int64\).*mask.astype\(bool\)"):
        nn.attention(q, q, q, mask=np.array([[1, 0], [1, 1]]))


def test_a_fully_masked_row_left_out_of_the_loss_gives_finite_gradients_as_masked_fill():
    rec = ATTENTION["masked_fill_row_left_out"]
    mask, kept = np.array(rec["mask"]), rec["rows_kept"]

    def by_hand(q, k, v):  # the learner's own attention: tl.where(mask, scores, -inf), then softmax
        scores = q @ k.swapaxes(-1, -2) / np.sqrt(3)
        return (tl.where(mask, scores, -np.inf).softmax(axis=-1) @ v)[:, kept]
    # the queries' and keys' gradients are finite; the values' are NaN in PyTorch too (NaN weights times a 0 gradient)
    _check(rec, by_hand, finite=(0, 1))


def _up(name, fn, n=1):
    x, y, g = np.array(UP["x"]), np.array(UP["y"]), np.array(UP["g"])
    xs = [Value(x), Value(y)][:n]
    out = fn(*xs)
    out.backward(g)
    for i, (v, want) in enumerate(zip(xs, UP[name])):
        np.testing.assert_array_equal(v.grad, np.array(want), err_msg=f"{name}: input {i}")
    # and with create_graph, where the rules run on Values
    for v in xs:
        v.zero_grad()
    fn(*xs).backward(g, create_graph=True)
    for i, (v, want) in enumerate(zip(xs, UP[name])):
        np.testing.assert_array_equal(v.grad.data, np.array(want), err_msg=f"{name} (create_graph): input {i}")


@pytest.mark.parametrize("name, fn, n", [
    ("where", lambda a, b: tl.where(np.array(UP["cond"]), a, b), 2),
    ("relu", lambda a: a.relu(), 1),
    ("leaky_relu", lambda a: a.leaky_relu(0.2), 1),
    ("clip", lambda a: a.clip(-1.0, 1.0), 1),
    ("maximum", tl.maximum, 2),
    ("minimum", tl.minimum, 2),
    ("abs", lambda a: a.abs(), 1),
    ("floor", lambda a: a.floor(), 1),
    ("ceil", lambda a: a.ceil(), 1),
    ("round", lambda a: a.round(), 1),
    ("sign", lambda a: a.sign(), 1),
])
def test_an_upstream_nan_or_inf_reaches_an_input_exactly_where_pytorchs_does(name, fn, n):
    _up(name, fn, n)


@pytest.mark.parametrize("name, fn", [
    ("max_axis", lambda a: a.max(axis=1)),
    ("max_pool", lambda a: nn.MaxPool2d(2)(a)),
    ("avg_pool", lambda a: nn.AvgPool2d(2)(a)),
])
def test_max_and_the_pools_given_a_nan_upstream_match_pytorch(name, fn):
    rec = UP[name]
    x = Value(np.array(rec["x"]))
    fn(x).backward(np.array(rec["g"]))
    np.testing.assert_array_equal(x.grad, np.array(rec["grad"]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_every_target_ignored_matches_pytorch(reduction):
    rec = TORCH["cross_entropy_all_ignored"]
    logits = Value(np.array(rec["logits"]))
    loss = nn.CrossEntropy(reduction=reduction)(logits, np.array(rec["targets"]))
    np.testing.assert_array_equal(loss.data, np.array(rec[reduction]["loss"]))
    loss.sum().backward()
    np.testing.assert_array_equal(logits.grad, np.array(rec[reduction]["grad"]))  # 0, not NaN


def test_one_all_padding_batch_leaves_the_parameters_finite():
    emb = nn.Embedding(5, 3, rng=0)
    opt = tl.optim.AdamW(emb.parameters(), lr=0.1)
    loss = nn.CrossEntropy()(emb(np.array([[1, 2]])), np.array([[-100, -100]]))
    loss.backward()
    opt.step()
    assert np.isnan(loss.item()) and np.isfinite(emb.weight.data).all()


@pytest.mark.parametrize("i", range(len(TORCH["softmax_rows"])))
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_of_rows_holding_inf_and_nan_matches_pytorch(i, name, dtype):
    rec = TORCH["softmax_rows"][i]
    x = Value(np.array(rec["x"], dtype=dtype))
    out = getattr(x, name)(axis=0)
    np.testing.assert_allclose(out.data, rec[name], rtol=1e-6)
    out.backward(np.array([0.5, -1.0, 2.0], dtype=dtype))
    np.testing.assert_allclose(x.grad, rec[name + "_grad"], rtol=1e-6, atol=1e-7)


def test_logsumexp_of_a_row_holding_inf_is_inf_as_pytorchs():
    assert Value([np.inf, 0.0, 1.0]).logsumexp().item() == np.inf


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative_ops_of_a_0d_value_keep_its_shape_as_pytorch(name):
    x = Value(2.0)
    out = getattr(x, name)()
    assert out.shape == tuple(TORCH["cumulative_0d_shape"][name]) == ()
    out.backward()
    assert x.grad.shape == () and x.grad == 1.0
    assert getattr(Value([1.0, 2.0]), name)().shape == (2,)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rmsnorms_default_eps_is_pytorchs_the_dtypes_machine_epsilon(dtype):
    rec = TORCH["rmsnorm_default_eps"]
    norm = nn.RMSNorm(4).to(np.dtype(dtype).type)
    out = norm(Value(np.array(rec["x"], dtype=dtype)))
    np.testing.assert_allclose(out.data, rec[dtype], rtol=1e-5 if dtype == "float32" else 1e-12)
