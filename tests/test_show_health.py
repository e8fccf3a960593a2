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


class _ByHand(nn.Module):
    """A learner's own network: Values as attributes, x.tanh() in forward, no layers."""

    def __init__(self, rng):
        self.w1 = tl.Value(rng.standard_normal((10, 16)) * 0.8)
        self.w2 = tl.Value(rng.standard_normal((16, 3)) * 0.3)

    def forward(self, x):
        return (x @ self.w1).tanh() @ self.w2


def _by_hand_steps(model, steps, validate):
    """SGD steps on a mean squared output; with validate, a no_grad forward on other inputs after each."""
    rng = np.random.default_rng(1)
    X, X_val = rng.standard_normal((32, 10)), rng.standard_normal((8, 10)) * 5
    opt = tl.optim.SGD(model.parameters(), lr=0.05)
    health = tl.health(model, every=1)
    for _ in range(steps):
        opt.zero_grad()
        (model(X) ** 2).mean().backward()
        opt.step()
        if validate:
            with tl.no_grad():
                model(X_val)
        health.step()
    return health, X, opt


@pytest.mark.parametrize("validate", [False, True])
def test_a_hand_written_module_is_watched_through_the_activations_its_forward_makes(validate):
    model = _ByHand(np.random.default_rng(0))
    health, X, _ = _by_hand_steps(model, 3, validate)
    assert [h["step"] for h in health.history] == [0, 1, 2]
    stats = health.history[-1]["layers"]["tanh 1"]
    # the last step's tanh and its gradient, recomputed in numpy from the weights before that step's update
    w1 = model.w1.data + 0.05 * model.w1.grad
    w2 = model.w2.data + 0.05 * model.w2.grad
    t = np.tanh(X @ w1)
    dt = (2 * (t @ w2) / (t @ w2).size) @ w2.T  # d mean(y^2) / dt, y = t @ w2
    assert stats["kind"] == "Tanh"
    assert stats["std"] == pytest.approx(t.std(), rel=1e-9)  # the training forward's, not the validation one's
    assert stats["saturated"] == pytest.approx((np.abs(t) > 0.97).mean())
    assert stats["grad_std"] == pytest.approx(dt.std(), rel=1e-9)
    update = health.history[-1]["weights"]["w1"]["update_ratio"]
    assert update == pytest.approx((0.05 * model.w1.grad).std() / w1.std(), rel=1e-9)
    assert "nothing recorded" not in "\n".join(health.verdict())
    health.close()
    assert "forward" not in vars(model)


def test_a_single_layer_is_watched_through_its_output():
    layer = nn.Linear(3, 2, rng=0)
    health = tl.health(layer, every=1)
    X = np.random.default_rng(2).standard_normal((5, 3))
    for _ in range(3):
        layer.zero_grad()
        w_before, b_before = layer.weight.data.copy(), layer.bias.data.copy()
        (layer(X) ** 2).sum().backward()
        layer.weight.data -= 0.01 * layer.weight.grad
        health.step()
    (name, stats), = health.history[-1]["layers"].items()
    out = X @ w_before + b_before
    assert (name, stats["kind"]) == ("output", "Linear")
    assert stats["mean"] == pytest.approx(out.mean(), rel=1e-12)
    assert stats["grad_std"] == pytest.approx((2 * out).std(), rel=1e-12)
    assert list(health.history[-1]["weights"]) == ["weight"]


def test_a_validation_forward_after_the_training_one_leaves_the_layers_statistics():
    model = _mlp(1.0, False, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((64, 10)), rng.integers(0, 3, 64)
    health = tl.health(model, every=1)
    nn.CrossEntropy()(model(X), y).backward()
    with tl.no_grad():
        model(X[:4] * 10)
    health.step()
    stats = health.history[0]["layers"]["layers.1"]
    assert stats["grad_std"] is not None and stats["values"].size == 64 * 40
