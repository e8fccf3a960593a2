"""tl.health: the statistics it takes (against plain numpy on the same arrays), the verdicts on a saturated and a
normalised network, the plot, and that closing it leaves the model as it was."""

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import nn


def _mlp(gain, batchnorm, rng):
    layers, d = [], 10
    for _ in range(3):
        lin = nn.Linear(d, 40, init="normal", rng=rng)
        lin.weight.data *= gain / np.sqrt(d)
        layers += [lin, nn.BatchNorm1d(40)] if batchnorm else [lin]
        layers.append(nn.Tanh())
        d = 40
    return nn.Sequential(*layers, nn.Linear(d, 3, rng=rng))


def _train(model, steps=21, every=10, lr=0.1):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((128, 10)), rng.integers(0, 3, 128)
    opt = tl.optim.SGD(model.parameters(), lr=lr)
    health = tl.health(model, every=every)
    for _ in range(steps):
        opt.zero_grad()
        nn.CrossEntropy()(model(X), y).backward()
        opt.step()
        health.step()
    return health, X


def test_statistics_are_those_of_the_layers_outputs_and_the_weights_updates():
    model = _mlp(1.0, False, np.random.default_rng(0))
    health, X = _train(model, steps=1)
    (record,) = health.history
    assert record["step"] == 0 and list(record["layers"]) == ["layers.1", "layers.3", "layers.5"]
    # the first tanh's output, recomputed by hand from the weights before the step
    lin = model[0]
    tanh_stats = record["layers"]["layers.1"]
    lr, w_after = 0.1, lin.weight.data
    w_before = w_after + lr * lin.weight.grad  # SGD: w_after = w_before - lr * grad
    out = np.tanh(X @ w_before + (lin.bias.data + lr * lin.bias.grad))
    assert tanh_stats["std"] == pytest.approx(out.std(), rel=1e-12)
    assert tanh_stats["saturated"] == pytest.approx((np.abs(out) > 0.97).mean())
    ratio = record["weights"]["layers.0.weight"]["update_ratio"]
    assert ratio == pytest.approx((lr * lin.weight.grad).std() / w_before.std(), rel=1e-9)


def test_a_saturated_network_is_told_so_and_a_normalised_one_is_not():
    saturated, _ = _train(_mlp(6.0, False, np.random.default_rng(0)))
    normalised, _ = _train(_mlp(6.0, True, np.random.default_rng(0)))
    assert [h["step"] for h in saturated.history] == [0, 10, 20]
    said = "\n".join(saturated.verdict())
    assert "of tanh units saturated" in said and "layer 1 (layers.1, Tanh)" in said
    assert "saturated" not in "\n".join(normalised.verdict())
    assert "verdict:" in repr(saturated) and "update/data" in repr(saturated)


def test_updates_far_from_one_thousandth_are_told_with_the_fix():
    slow, _ = _train(_mlp(1.0, False, np.random.default_rng(0)), lr=1e-4)
    assert any("raise the learning rate" in v for v in slow.verdict())


def test_the_plot_is_written_whole(tmp_path):
    health, _ = _train(_mlp(1.0, False, np.random.default_rng(0)))
    path = health.plot(tmp_path / "health.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and [p.name for p in tmp_path.iterdir()] == ["health.png"]
    with pytest.raises(ValueError, match="nothing recorded yet"):
        tl.health(nn.Sequential(nn.Tanh())).plot(tmp_path / "x.png")


def test_closing_leaves_the_model_as_it_was_and_off_costs_nothing():
    model = _mlp(1.0, False, np.random.default_rng(0))
    with tl.health(model, every=1) as health:
        assert all("forward" in vars(layer) for _, layer in health.layers)
    assert not any("forward" in vars(m) for _, m in model.named_modules())
    x = np.ones((2, 10))
    np.testing.assert_array_equal(model(x).data, model(x).data)
    with pytest.raises(TypeError, match="health: give the model"):
        tl.health("model")
