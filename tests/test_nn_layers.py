"""Conv2d, MaxPool2d, AvgPool2d and BatchNorm1d against PyTorch (numbers recorded by tools/pytorch_layers.py),
their gradients against finite differences, buffers saved and loaded, and their errors.

The ops they are built on (im2col, col2im, max, mean, matmul) are checked first and second order in test_ops.py.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import (
    Value,
    nn,  # noqa: E402
    )
from tinygrad_lite.testing import gradcheck, gradgradcheck

TORCH = json.loads((Path(__file__).parent / "data" / "pytorch_layers.json").read_text())


def _args(a):
    return tuple(a) if isinstance(a, list) else a


def _gradients_match(recorded, x, layer, rtol):
    """The input's, the weight's and the bias's gradients against PyTorch's recorded dx, dweight and dbias."""
    for got, want in ((x.grad, "dx"), (layer.weight.grad, "dweight"), (layer.bias.grad, "dbias")):
        np.testing.assert_allclose(got, recorded[want], rtol=rtol, atol=1e-12, err_msg=want)


@pytest.mark.parametrize("case", TORCH["conv"], ids=lambda c: str(c["args"]))
def test_conv2d_matches_pytorch(case):
    cin, cout, k, s, p = map(_args, case["args"])
    conv = nn.Conv2d(cin, cout, k, stride=s, padding=p)
    conv.weight.data, conv.bias.data = np.array(case["weight"]), np.array(case["bias"])
    x = Value(case["x"])
    out = conv(x)
    np.testing.assert_allclose(out.data, case["out"], rtol=1e-12, atol=1e-12)
    out.backward(np.array(case["g"]))
    _gradients_match(case, x, conv, rtol=1e-12)


@pytest.mark.parametrize("case", TORCH["pool"], ids=lambda c: f"{c['layer']}{c['args']}")
def test_pooling_matches_pytorch(case):
    k, s = map(_args, case["args"])
    x = Value(case["x"])
    out = getattr(nn, case["layer"])(k, s)(x)
    np.testing.assert_allclose(out.data, case["out"], rtol=1e-14)
    out.backward(np.array(case["g"]))
    np.testing.assert_allclose(x.grad, case["dx"], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("case", TORCH["batchnorm"], ids=lambda c: str(c["shape"]))
def test_batchnorm1d_matches_pytorch_in_training_and_in_eval(case):
    bn = nn.BatchNorm1d(3, momentum=case["momentum"])
    bn.weight.data, bn.bias.data = np.array(case["weight"]), np.array(case["bias"])
    for step in case["steps"]:
        bn.zero_grad()
        x = Value(step["x"])
        out = bn(x)
        np.testing.assert_allclose(out.data, step["out"], rtol=1e-12, atol=1e-12)
        out.backward(np.array(step["g"]))
        _gradients_match(step, x, bn, rtol=1e-10)
    np.testing.assert_allclose(bn.running_mean.data, case["running_mean"], rtol=1e-14)
    np.testing.assert_allclose(bn.running_var.data, case["running_var"], rtol=1e-14)
    bn.eval()
    np.testing.assert_allclose(bn(case["eval_x"]).data, case["eval_out"], rtol=1e-12, atol=1e-12)


@st.composite
def _conv_case(draw):
    cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    k = (draw(st.integers(1, h)), draw(st.integers(1, w)))
    conv = nn.Conv2d(cin, cout, k, stride=draw(st.sampled_from([1, 2, (1, 2)])), padding=draw(st.sampled_from(
        [0, 1, (0, 1)])), bias=draw(st.booleans()), rng=draw(st.integers(0, 100)))
    x = Value(np.random.default_rng(draw(st.integers(0, 100))).standard_normal((draw(st.integers(1, 2)), cin, h, w)))
    return conv, x


@pytest.mark.slow
@given(_conv_case())
def test_conv2d_gradients_first_and_second_order(case):
    conv, x = case
    params = conv.parameters()
    np.testing.assert_array_equal(_conv_with(conv, x, *params).data, conv(x).data)  # the same computation
    assert gradcheck(lambda x, *ps: _conv_with(conv, x, *ps), x, *params)
    assert gradgradcheck(lambda x, *ps: _conv_with(conv, x, *ps), x, *params)


def _conv_with(conv, x, weight, bias=None):
    """Conv2d's forward with the weights passed in (so that the checkers can perturb them)."""
    cols = x.im2col(conv.kernel_size, conv.stride, conv.padding)
    n, oh, ow = cols.shape[:3]
    out = cols.reshape(n * oh * ow, -1) @ weight.transpose(0, 2, 3, 1).reshape(conv.out_channels, -1).T
    out = out + bias if bias is not None else out
    return out.reshape(n, oh, ow, conv.out_channels).transpose(0, 3, 1, 2)


@given(st.sampled_from([nn.MaxPool2d, nn.AvgPool2d]), st.sampled_from([2, (2, 1), 3]),
       st.sampled_from([None, 1, (1, 2)]), st.integers(0, 100))
@pytest.mark.slow
def test_pooling_gradients_first_and_second_order(layer, k, s, seed):
    x = Value(np.random.default_rng(seed).permutation(2 * 2 * 4 * 5).reshape(2, 2, 4, 5) / 10.0)  # no ties
    pool = layer(k, s)
    assert gradcheck(pool, x)
    assert gradgradcheck(pool, x)


def _away_from_kinks(pre: np.ndarray, max_pool: bool, margin: float = 1e-4) -> bool:
    """Whether relu's inputs are all farther than margin from 0 and, for max-pooling of relu(pre) over 2x2
    windows, each window's winner leads the runner-up by more than margin (windows of zeros tie, and stay tied)."""
    if (np.abs(pre) <= margin).any():
        return False
    if not max_pool:
        return True
    n, c, h, w = pre.shape
    windows = np.maximum(pre[:, :, :h // 2 * 2, :w // 2 * 2], 0).reshape(n, c, h // 2, 2, w // 2, 2)
    ranked = np.sort(windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4), axis=-1)
    top, second = ranked[..., -1], ranked[..., -2]
    return bool(((top == 0) | (top - second > margin)).all())


@pytest.mark.slow
@given(st.integers(0, 10_000), st.sampled_from([nn.MaxPool2d, nn.AvgPool2d]))
def test_layers_chained_as_in_a_cnn_match_finite_differences(seed, pool):
    """conv -> relu -> pool -> conv -> relu -> pool. The tests above give each layer a C-ordered input without
    ties; in a network a layer gets what the previous one left: a convolution's output is channels last in
    memory, gradients arrive in other orders, and a relu's zeros tie in max-pooling's windows."""
    c1, c2 = nn.Conv2d(2, 3, 3, padding=1, rng=seed), nn.Conv2d(3, 4, 2, rng=seed + 1)
    x = Value(np.random.default_rng(seed).standard_normal((2, 2, 6, 6)))
    with tl.no_grad():  # central differences step 1e-6: every kink must be farther away than that
        pre1 = c1(x).data
        pre2 = c2(pool(2)(np.maximum(pre1, 0))).data
    assume(_away_from_kinks(pre1, pool is nn.MaxPool2d) and _away_from_kinks(pre2, pool is nn.MaxPool2d))

    def net(x, w1, b1, w2, b2):
        h = pool(2)(_conv_with(c1, x, w1, b1).relu())  # (2, 3, 3, 3)
        return pool(2)(_conv_with(c2, h, w2, b2).relu())  # (2, 4, 1, 1)
    assert gradcheck(net, x, *c1.parameters(), *c2.parameters())


def test_batchnorm1d_gradients_first_and_second_order():
    bn = nn.BatchNorm1d(3)
    x = Value(np.random.default_rng(4).standard_normal((5, 3)))
    assert gradcheck(bn, x, atol=1e-5)
    assert gradgradcheck(bn, x)


def test_conv2d_by_hand_on_a_tiny_image():
    # one 3x3 image, one 2x2 kernel: each output is the sum of the window times the kernel (worked by hand)
    conv = nn.Conv2d(1, 1, 2, bias=False)
    conv.weight.data = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    out = conv(np.arange(9.0).reshape(1, 1, 3, 3))
    np.testing.assert_array_equal(out.data, [[[[0 - 4, 1 - 5], [3 - 7, 4 - 8]]]])


def test_buffers_are_saved_loaded_and_never_trained(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4))
    assert [n for n, _ in model.named_buffers()] == ["layers.1.running_mean", "layers.1.running_var"]
    assert all(p.requires_grad for p in model.parameters()) and len(model.parameters()) == 4
    model(np.random.default_rng(0).standard_normal((8, 3)))
    saved = model.state_dict()
    assert set(saved) == {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                          "layers.1.running_mean", "layers.1.running_var"}
    model.save(tmp_path / "m.npz")
    fresh = nn.Sequential(nn.Linear(3, 4, rng=1), nn.BatchNorm1d(4))
    fresh.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(fresh[1].running_var.data, saved["layers.1.running_var"])
    with pytest.raises(ValueError, match="missing parameters.*running_mean"):
        fresh.load_state_dict({k: v for k, v in saved.items() if k != "layers.1.running_mean"})


def test_train_and_eval_modes_differ_as_documented():
    x = np.random.default_rng(1).standard_normal((16, 3)) * 3 + 2
    bn = nn.BatchNorm1d(3)
    out = bn(x).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)  # the batch's own statistics
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.mean(axis=0), rtol=1e-14)
    bn.eval()
    one = bn(x[:1]).data  # one example alone works in eval, from the running statistics
    expected = (x[:1] - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5)
    np.testing.assert_allclose(one, expected, rtol=1e-14)
    bn.train()
    with pytest.raises(ValueError, match=r"BatchNorm1d: training needs more than one number per feature .*eval"):
        bn(x[:1])


@pytest.mark.parametrize("make, x, message", [
    (lambda: nn.Conv2d(3, 2, 3), np.zeros((2, 1, 5, 5)), r"Conv2d: expected input of shape \(batch, 3, height, width\)"
                                                         r", got shape \(2, 1, 5, 5\)"),
    (lambda: nn.Conv2d(1, 2, 3), np.zeros((2, 5, 5)), r"add the channel axis: images\[:, None\]"),
    (lambda: nn.Conv2d(1, 2, 6), np.zeros((2, 1, 5, 5)), r"im2col: the kernel \(6, 6\) is larger than the padded "
                                                         r"image \(5, 5\)"),
    (lambda: nn.MaxPool2d(2), np.zeros((4, 4)), r"MaxPool2d: expected input of shape \(batch, channels, height"),
    (lambda: nn.BatchNorm1d(3), np.zeros((4, 2)), r"BatchNorm1d: expected input of shape \(batch, 3\)"),
])
def test_layers_name_the_shape_they_expect(make, x, message):
    with pytest.raises(ValueError, match=message):
        make()(x)


def test_layer_arguments_are_checked():
    for bad in (lambda: nn.Conv2d(0, 2, 3), lambda: nn.Conv2d(1, 2, 2.5), lambda: nn.Conv2d(1, 2, 3, stride=0),
                lambda: nn.Conv2d(1, 2, 3, padding=-1), lambda: nn.MaxPool2d(0), lambda: nn.AvgPool2d(2, (1, 0)),
                lambda: nn.BatchNorm1d(3, momentum=2), lambda: nn.BatchNorm1d(0)):
        with pytest.raises((ValueError, TypeError), match=r"^(Conv2d|MaxPool2d|AvgPool2d|BatchNorm1d)"):
            bad()


def test_a_small_cnn_learns_and_stays_float32():
    x = np.random.default_rng(0).standard_normal((8, 1, 6, 6)).astype(np.float32)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, rng=0), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(18, 2, rng=0))
    for p in model.parameters():
        p.data = p.data.astype(np.float32)
    out = model(x)
    assert out.dtype == np.float32
    labels = (x.mean(axis=(1, 2, 3)) > 0).astype(int)
    opt = tl.optim.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(30):
        loss = nn.CrossEntropy()(model(x), labels)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_dropout_gives_zero_for_a_dropped_infinity():
    layer = tl.nn.Dropout(0.5, rng=0)
    out = layer(Value(np.full(64, np.inf)))
    assert not np.isnan(out.data).any()
    assert set(np.unique(out.data)) == {0.0, np.inf}
    assert not np.isnan(tl.nn.Dropout(1.0, rng=0)(Value(np.full(4, np.inf))).data).any()


def test_conv2d_and_pooling_on_an_empty_batch_give_shapes():
    conv = tl.nn.Conv2d(2, 3, 3, padding=1, rng=0)
    out = conv(np.zeros((0, 2, 5, 5)))
    assert out.shape == (0, 3, 5, 5)
    out.sum().backward()
    np.testing.assert_array_equal(conv.weight.grad, np.zeros((3, 2, 3, 3)))
    assert tl.nn.MaxPool2d(2)(np.zeros((0, 2, 4, 4))).shape == (0, 2, 2, 2)


def test_linear_initialisations():
    np.random.seed(1)
    expected = 2 * np.random.random((3, 1)) - 1
    assert np.array_equal(nn.Linear(3, 1, bias=False, init="uniform", rng=1).weight.data, expected)  # perceptron's
    np.random.seed(1)
    assert np.array_equal(nn.Linear(3, 1, bias=False, init="uniform").weight.data, expected)  # np.random.seed rules
    # the default, PyTorch's: weight and bias uniform within 1/sqrt(in_features)
    default = nn.Linear(400, 300, rng=0)
    bound = 1 / np.sqrt(400)
    assert np.abs(default.weight.data).max() <= bound and np.abs(default.bias.data).max() <= bound
    assert default.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)  # a uniform's spread
    assert default.bias.data.std() > 0
    np.random.seed(0)
    w1, w2 = np.random.randn(2, 3), np.random.randn(3, 1)
    rng = np.random.RandomState(0)
    assert np.array_equal(nn.Linear(2, 3, bias=False, init="normal", rng=rng).weight.data, w1)
    assert np.array_equal(nn.Linear(3, 1, bias=False, init="normal", rng=rng).weight.data, w2)
    x = nn.Linear(100, 50, init="xavier", rng=np.random.default_rng(0)).weight.data
    assert np.abs(x).max() <= np.sqrt(6 / 150)
    h = nn.Linear(400, 300, init="he", rng=0).weight.data
    assert h.std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    assert nn.Linear(2, 3, init="he").bias.data.tolist() == [0, 0, 0] and nn.Linear(2, 3, bias=False).bias is None
    with pytest.raises(ValueError, match="init"):
        nn.Linear(2, 3, init="zeros")
    with pytest.raises(TypeError, match="rng"):
        nn.Linear(2, 3, rng="seed")


def test_linear_forward_is_x_at_w_plus_b():
    layer = nn.Linear(3, 2, rng=0)
    layer.bias.data[:] = [1.0, -1.0]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data + [1.0, -1.0])


def test_flatten_leaky_relu_and_softmax_layers():
    x = Value(np.arange(24.0).reshape(2, 3, 4) - 10)
    assert nn.Flatten()(x).shape == (2, 12)
    np.testing.assert_array_equal(nn.LeakyReLU(0.1)(x).data, np.where(x.data > 0, x.data, 0.1 * x.data))
    p = nn.Softmax(axis=1)(x)
    np.testing.assert_allclose(p.data.sum(axis=1), np.ones((2, 4)))


def test_dropout_zeros_and_rescales_in_training_and_passes_through_in_eval():
    layer = nn.Dropout(p=0.25, rng=0)
    x = Value(np.ones((200, 50)))
    y = layer(x)
    kept = y.data != 0
    assert 0.72 < kept.mean() < 0.78  # 10,000 draws of keep-probability 0.75
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.75)  # the gradient goes through the kept numbers only
    assert not np.array_equal(layer(x).data, y.data)  # a new mask each call
    net = nn.Sequential(nn.Linear(50, 2, rng=0), nn.Dropout(0.5, rng=1))
    net.eval()
    assert net[1](x) is x
    net.train()
    assert net[1].training
    assert (nn.Dropout(1.0)(x).data == 0).all()
    with pytest.raises(ValueError, match="Dropout: p"):
        nn.Dropout(1.5)
