"""The optimisers: updates checked by hand, trajectories and schedules against PyTorch, minimize against scipy,
arguments checked by name, clip_grad_norm, state loading all or nothing."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value, optim


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


def test_an_optimiser_given_one_value_says_so():
    w = Value(np.ones((3, 2)))
    for make in (lambda: optim.SGD(w, lr=0.1), lambda: optim.Adam(w)):
        with pytest.raises(TypeError, match=r"(SGD|Adam): .*a list of parameters.*\[w\]"):
            make()


@pytest.mark.parametrize("make, pattern", [
    (lambda p: optim.SGD(p, lr=float("nan")), r"SGD: lr"),
    (lambda p: optim.SGD(p, lr=float("inf")), r"SGD: lr"),
    (lambda p: optim.SGD(p, lr=0.0), r"SGD: lr"),
    (lambda p: optim.SGD(p, lr=-1.0), r"SGD: lr"),
    (lambda p: optim.Adam(p, lr=float("nan")), r"Adam: lr"),
    (lambda p: optim.Adam(p, eps=-1e-8), r"Adam: eps"),
    (lambda p: optim.Adam(p, betas=(0.9,)), r"Adam: betas"),
    (lambda p: optim.Adam(p, betas=(0.9, 0.99, 0.5)), r"Adam: betas"),
    (lambda p: optim.Adam(p, betas=(0.9, float("nan"))), r"Adam: betas"),
])
def test_optimiser_hyperparameters_are_checked(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make([Value([1.0])])


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


def _quadratic_grad(w):
    w.zero_grad()
    (0.5 * (w * w).sum()).backward()  # dL/dw = w


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
