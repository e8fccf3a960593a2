"""The losses at their edges: class labels, soft targets, saturated and masked inputs, empty batches."""

import math

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, nn
from tinygrad_lite.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)


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


@pytest.mark.parametrize("loss, pred, target", [
    (tl.nn.MSE(), np.ones((0, 1)), np.ones((0, 1))),
    (tl.nn.BCE(), np.full((0, 1), 0.5), np.ones((0, 1))),
    (tl.nn.CrossEntropy(), np.ones((0, 3)), np.zeros(0, dtype=int)),
])
def test_losses_on_an_empty_batch_say_so(loss, pred, target):
    with pytest.raises(ValueError, match=rf"{type(loss).__name__}: .*empty"):
        loss(Value(pred), target)


def test_cross_entropy_takes_class_labels_stored_as_floats():
    logits = Value(np.random.default_rng(0).standard_normal((3, 4)))
    as_ints = nn.CrossEntropy()(logits, np.array([0, 3, 1])).item()
    assert nn.CrossEntropy()(logits, np.array([0.0, 3.0, 1.0])).item() == as_ints
    with pytest.raises(ValueError, match=r"CrossEntropy: .*float64.*whole numbers"):
        nn.CrossEntropy()(logits, np.array([0.5, 3.0, 1.0]))


def test_bce_refuses_values_outside_0_1_and_suggests_the_fix():
    with pytest.raises(ValueError, match=r"BCE: .*\[0, 1\].*-0.5 to 2.*sigmoid.*BCEWithLogits"):
        nn.BCE()(Value([[-0.5], [2.0]]), np.array([[0.0], [1.0]]))


def test_bce_with_logits_equals_bce_of_the_sigmoid_and_stays_finite():
    z = np.array([[-3.0], [0.0], [0.5], [4.0]])
    t = np.array([[0.0], [1.0], [0.3], [1.0]])
    s = 1 / (1 + np.exp(-z))
    expected = np.mean(-(t * np.log(s) + (1 - t) * np.log(1 - s)))  # plain numpy
    logits = Value(z)
    loss = nn.BCEWithLogits()(logits, t)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(logits.grad, (s - t) / 4, rtol=1e-12)  # d/dz = (sigmoid(z) - t) / n
    big = Value([[800.0], [-800.0]])
    far = nn.BCEWithLogits(reduction="sum")(big, np.array([[0.0], [1.0]]))
    assert far.item() == pytest.approx(1600.0) and math.isfinite(far.item())
    far.backward()
    np.testing.assert_allclose(big.grad, [[1.0], [-1.0]])


def test_cross_entropy_with_a_masked_logit_is_finite_as_pytorch():
    z = Value([[1.0, -np.inf, 0.0]])
    loss = tl.nn.CrossEntropy()(z, np.array([0]))
    loss.backward()
    assert loss.item() == pytest.approx(np.log1p(np.exp(-1.0)), rel=1e-15)  # log(e + 1) - 1
    e = np.exp([1.0, 0.0])
    np.testing.assert_allclose(z.grad, [[e[0] / e.sum() - 1, 0.0, e[1] / e.sum()]], rtol=1e-15)


def test_bce_in_float32_at_a_saturated_sigmoid_is_finite():
    z = np.float32([20.0])
    loss = tl.nn.BCE()(Value(z).sigmoid(), np.float32([1.0]))
    assert loss.dtype == np.float32 and loss.item() == 0.0
    assert tl.nn.BCE()(Value(np.float32([1.0])), np.float32([0.0])).item() == 100.0  # PyTorch: 100


def test_losses_against_numpy():
    pred, target = Value([[0.2], [0.9]]), np.array([[0.0], [1.0]])
    assert nn.MSE()(pred, target).item() == pytest.approx((0.04 + 0.01) / 2)
    assert nn.MSE(reduction="sum")(pred, target).item() == pytest.approx(0.05)
    assert nn.BCE()(pred, target).item() == pytest.approx(-(np.log(0.8) + np.log(0.9)) / 2)
    logits = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]])
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    assert nn.CrossEntropy()(Value(logits), np.array([1, 2])).item() == pytest.approx(-(logp[0, 1] + logp[1, 2]) / 2)
    probs = np.array([[0.2, 0.8, 0.0], [0.0, 0.0, 1.0]])
    assert nn.CrossEntropy(reduction="sum")(Value(logits), probs).item() == pytest.approx(-(probs * logp).sum())
    big = nn.CrossEntropy()(Value([[1000.0, 0.0]]), np.array([1]))
    assert big.item() == pytest.approx(1000.0)  # stable: no overflow for large logits


@pytest.mark.parametrize("make, args", [
    (lambda: nn.MSE(), (Value([1.0, 2.0]), np.ones(3))),
    (lambda: nn.BCE(), (Value([[0.5]]), np.ones((2, 1)))),
    (lambda: nn.CrossEntropy(), (Value(np.ones((2, 3))), np.ones((2, 4)))),
])
def test_loss_shape_mismatch_is_a_value_error(make, args):
    with pytest.raises(ValueError, match="prediction shape"):
        make()(*args)


def test_loss_errors():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSE(reduction="max")
    with pytest.raises(ValueError, match="class indices"):
        nn.CrossEntropy()(Value(np.ones((2, 3))), np.array([0, 3]))


def test_gradients_of_every_module_and_loss():
    rng = np.random.default_rng(0)
    x = Value(rng.normal(size=(4, 3)))
    for module in (nn.Linear(3, 2, rng=0), nn.Linear(3, 2, bias=False, init="he", rng=0), nn.Sigmoid(),
                   nn.Tanh(), nn.ReLU(), nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh(), nn.Linear(2, 1, rng=1))):
        assert gradcheck(lambda x, *ps: module(x), x, *module.parameters()), module
        assert gradgradcheck(lambda x, *ps: module(x), x, *module.parameters()), module
    pred, target = Value(rng.uniform(0.1, 0.9, size=(4, 1))), rng.uniform(0, 1, size=(4, 1))
    for loss in (nn.MSE(), nn.MSE(reduction="sum"), nn.BCE(), nn.BCE(reduction="sum")):
        assert gradcheck(lambda p: loss(p, target), pred), loss
        assert gradgradcheck(lambda p: loss(p, target), pred), loss
    logits = Value(rng.normal(size=(4, 3)))
    assert gradcheck(lambda z: nn.CrossEntropy()(z, np.array([0, 2, 1, 2])), logits)
    assert gradgradcheck(lambda z: nn.CrossEntropy()(z, np.array([0, 2, 1, 2])), logits)
