"""Modules, losses and optimisers: discovery, saving, errors, gradients, and updates checked by hand."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, nn, optim
from tinygrad_lite.testing import gradcheck, gradgradcheck


class Custom(nn.Module):
    def __init__(self):
        self.encoder = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh())
        self.heads = {"a": nn.Linear(3, 1, rng=1), "b": nn.Linear(3, 1, bias=False, rng=2)}
        self.scale = Value(1.0)
        self.constant = Value(5.0, requires_grad=False)  # not a parameter
        self.again = self.scale  # the same Value twice: listed once

    def forward(self, x):
        h = self.encoder(x)
        return (self.heads["a"](h) + self.heads["b"](h)) * self.scale


def test_parameters_are_found_in_order_with_dotted_names():
    names = [n for n, _ in Custom().named_parameters()]
    assert names == ["encoder.layers.0.weight", "encoder.layers.0.bias", "heads.a.weight", "heads.a.bias",
                     "heads.b.weight", "scale"]
    seq = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    assert [n for n, _ in seq.named_parameters()] == ["layers.0.weight", "layers.0.bias", "layers.2.weight",
                                                      "layers.2.bias"]
    assert len(seq.parameters()) == 4


def test_zero_grad_train_eval_and_repr():
    m = Custom()
    m(np.ones((4, 2))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    assert m.eval() is m and not m.encoder.layers[0].training
    m.train()
    assert m.heads["b"].training
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.Sigmoid()))
    assert "(layers.0): Linear(in_features=2, out_features=3, bias=True)" in text and "(layers.1): Sigmoid()" in text


def test_no_getattr_hides_typos():
    with pytest.raises(AttributeError):
        nn.Linear(2, 3).wieght  # noqa: B018


def test_state_dict_round_trip_and_errors(tmp_path):
    a, b = Custom(), Custom()
    b.heads["a"].weight.data += 1
    b.load_state_dict(a.state_dict())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and np.array_equal(pa.data, pb.data)
    state = a.state_dict()
    state["heads.a.weight"] = np.ones((4, 1))
    with pytest.raises(ValueError, match=r"'heads.a.weight' has shape \(3, 1\).*\(4, 1\)"):
        b.load_state_dict(state)
    with pytest.raises(ValueError, match="missing parameters.*scale"):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if k != "scale"})
    with pytest.raises(ValueError, match="unexpected parameters.*extra"):
        b.load_state_dict({**a.state_dict(), "extra": np.ones(1)})
    path = tmp_path / "model.npz"
    a.save(path)
    c = Custom()
    c.load(path)
    assert np.array_equal(c.heads["b"].weight.data, a.heads["b"].weight.data)


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"scale": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="pickled"):
        Custom().load(path)


def test_linear_initialisations():
    np.random.seed(1)
    expected = 2 * np.random.random((3, 1)) - 1
    assert np.array_equal(nn.Linear(3, 1, bias=False, rng=1).weight.data, expected)  # the perceptron's draw
    np.random.seed(1)
    assert np.array_equal(nn.Linear(3, 1, bias=False).weight.data, expected)  # rng=None: np.random.seed rules
    np.random.seed(0)
    w1, w2 = np.random.randn(2, 3), np.random.randn(3, 1)
    rng = np.random.RandomState(0)
    assert np.array_equal(nn.Linear(2, 3, bias=False, init="normal", rng=rng).weight.data, w1)
    assert np.array_equal(nn.Linear(3, 1, bias=False, init="normal", rng=rng).weight.data, w2)
    x = nn.Linear(100, 50, init="xavier", rng=np.random.default_rng(0)).weight.data
    assert np.abs(x).max() <= np.sqrt(6 / 150)
    h = nn.Linear(400, 300, init="he", rng=0).weight.data
    assert h.std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    assert nn.Linear(2, 3).bias.data.tolist() == [0, 0, 0] and nn.Linear(2, 3, bias=False).bias is None
    with pytest.raises(ValueError, match="init"):
        nn.Linear(2, 3, init="zeros")
    with pytest.raises(TypeError, match="rng"):
        nn.Linear(2, 3, rng="seed")


def test_linear_forward_is_x_at_w_plus_b():
    layer = nn.Linear(3, 2, rng=0)
    layer.bias.data[:] = [1.0, -1.0]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data + [1.0, -1.0])


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


# ---- optimisers ----

def _quadratic_grad(w):
    w.zero_grad()
    (0.5 * (w * w).sum()).backward()  # dL/dw = w


def test_sgd_with_momentum_matches_a_hand_calculation():
    # L = 0.5 |w|^2, so g = w. lr 0.1, momentum 0.9:
    # step 1: v = w0,                    w1 = w0 - 0.1 w0 = 0.9 w0
    # step 2: v = 0.9 w0 + 0.9 w0 = 1.8 w0, w2 = 0.9 w0 - 0.18 w0 = 0.72 w0
    # step 3: v = 1.62 w0 + 0.72 w0 = 2.34 w0, w3 = 0.72 w0 - 0.234 w0 = 0.486 w0
    w0 = np.array([1.0, -2.0])
    w = Value(w0)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    for expected in (0.9, 0.72, 0.486):
        _quadratic_grad(w)
        opt.step()
        np.testing.assert_allclose(w.data, expected * w0)


def test_sgd_weight_decay_and_plain_step():
    w = Value([2.0])
    opt = optim.SGD([w], lr=0.5, weight_decay=0.1)
    _quadratic_grad(w)  # g = 2, plus decay 0.1 * 2 = 0.2: w = 2 - 0.5 * 2.2 = 0.9
    opt.step()
    assert w.data[0] == pytest.approx(0.9)
    untouched = Value([3.0])
    optim.SGD([untouched], lr=1.0).step()  # no gradient yet: left alone
    assert untouched.data[0] == 3.0


def test_adam_first_step_is_lr_times_sign_and_it_converges():
    w = Value([3.0, -1.0])
    opt = optim.Adam([w], lr=0.1)
    _quadratic_grad(w)
    opt.step()  # bias-corrected first step: m_hat / sqrt(v_hat) = g / |g|
    np.testing.assert_allclose(w.data, [2.9, -0.9], rtol=1e-6)
    target = np.array([1.5, -0.5, 2.0])
    v = Value(np.zeros(3))
    opt = optim.Adam([v], lr=0.05)
    for _ in range(2000):
        loss = ((v - target) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(v.data, target, atol=1e-3)


def test_optimiser_errors():
    with pytest.raises(ValueError, match="no parameters"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([Value(1.0)], lr=0.0)
    with pytest.raises(TypeError, match="Values"):
        optim.Adam([np.ones(2)])


def test_minimize_agrees_with_scipy_on_rosenbrock():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    x0 = np.array([-1.2, 1.0, 0.8])
    ref = scipy_optimize.minimize(scipy_optimize.rosen, x0, jac=scipy_optimize.rosen_der, method="BFGS")
    x = Value(x0)
    seen = []
    res = optim.minimize([x], lambda: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(),
                         callback=lambda i, cost: seen.append((i, cost)))
    np.testing.assert_allclose(x.data, ref.x, atol=1e-6)
    np.testing.assert_allclose(x.data, [1.0, 1.0, 1.0], atol=1e-4)
    assert res.success and res.nit == ref.nit
    assert res.history[0] == pytest.approx(scipy_optimize.rosen(x0)) and len(res.history) == res.nit + 1
    assert [i for i, _ in seen] == list(range(1, res.nit + 1))


def test_minimize_without_scipy_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(ImportError, match=r"tinygrad-lite\[optim\]"):
        optim.minimize([Value(1.0)], lambda: Value(1.0))


def test_top_level_names():
    assert tl.nn is nn and tl.optim is optim and hasattr(tl.data, "MaxScaler")


# ---- more layers ----

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


# ---- more optimisers, schedules and clipping, against PyTorch's trajectories ----

TORCH = json.loads((Path(__file__).parent / "data" / "pytorch_optimisers.json").read_text())
MINE = {
    "SGD": lambda p: (optim.SGD(p, lr=0.05), None),
    "SGD_momentum_weight_decay": lambda p: (optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.1), None),
    "Adam": lambda p: (optim.Adam(p, lr=0.1, betas=(0.9, 0.99), eps=1e-8), None),
    "RMSprop": lambda p: (optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8), None),
    "RMSprop_weight_decay": lambda p: (optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1), None),
    "AdamW": lambda p: (optim.AdamW(p, lr=0.1, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.05), None),
    "StepLR": lambda p: (o := optim.SGD(p, lr=0.1), optim.StepLR(o, step_size=2, gamma=0.5)),
    "CosineLR": lambda p: (o := optim.SGD(p, lr=0.1), optim.CosineLR(o, T_max=4, eta_min=0.01)),
}


@pytest.mark.parametrize("name", sorted(TORCH["trajectories"]))
def test_optimisers_and_schedules_follow_pytorch(name):
    """20 steps against PyTorch's recorded trajectory: u's gradient is None on some steps (each parameter counts
    its own steps), z's gradient is NaN on one step (z turns NaN, the others go on)."""
    problem = TORCH["problem"]
    w, u, z = Value(problem["w0"]), Value(problem["u0"]), Value(problem["z0"])
    c = np.array(problem["c"])
    opt, schedule = MINE[name]([w, u, z])
    expected = TORCH["trajectories"][name]
    assert len(expected["weights"]) == 20
    for step, (weights, lr) in enumerate(zip(expected["weights"], expected["lr_used"])):
        opt.zero_grad()
        loss = (c * w * w + w).sum() + (z * z).sum()
        if step not in problem["skip"]:
            loss = loss + (u * u).sum() * w[0]
        if step == problem["nan_step"]:
            loss = loss + (z * np.nan).sum()
        loss.backward()
        assert (u.grad is None) == (step in problem["skip"])
        opt.step()
        assert opt.lr == pytest.approx(lr, rel=1e-12)
        if schedule is not None:
            schedule.step()
        for mine, theirs in zip((w, u, z), weights):
            np.testing.assert_allclose(mine.data, theirs, rtol=1e-12, atol=1e-14)
    assert np.isnan(z.data).all() and np.isfinite(w.data).all()


def test_clip_grad_norm_follows_pytorch():
    w, v = Value(TORCH["problem"]["w0"]), Value([[0.5, -0.5]])
    ((np.array(TORCH["problem"]["c"]) * w * w).sum() + (v * 3).sum()).backward()
    expected = TORCH["clip_grad_norm"]
    assert optim.clip_grad_norm([w, v], max_norm=2.0) == pytest.approx(expected["total_norm"], rel=1e-14)
    np.testing.assert_allclose(w.grad, expected["w_grad"], rtol=1e-13)
    np.testing.assert_allclose(v.grad, expected["v_grad"], rtol=1e-13)
    assert optim.clip_grad_norm([w, v], max_norm=100.0) == pytest.approx(2.0, rel=1e-6)  # under: unchanged
    np.testing.assert_allclose(w.grad, expected["w_grad"], rtol=1e-13)


def test_schedules_check_their_whole_number_arguments():
    opt = optim.SGD([Value([1.0])], lr=0.1)
    for make, pattern in ((lambda: optim.StepLR(opt, step_size=0), "StepLR: step_size must be at least 1"),
                          (lambda: optim.CosineLR(opt, T_max=2.5), "CosineLR: T_max must be a whole number")):
        with pytest.raises((ValueError, TypeError), match=pattern):
            make()
