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
    "AdamW_groups": lambda p: (optim.AdamW([{"params": p[:1], "weight_decay": 0.1},
                                            {"params": p[1:], "weight_decay": 0.0, "lr": 0.05}],
                                           lr=0.1, betas=(0.9, 0.99), eps=1e-8), None),
    "SGD_groups": lambda p: (optim.SGD([{"params": p[:1]}, {"params": p[1:], "momentum": 0.5}], lr=0.05), None),
    "WarmupCosineLR": lambda p: (o := optim.AdamW(p, lr=0.1, betas=(0.9, 0.99), weight_decay=0.0),
                                 optim.WarmupCosineLR(o, warmup=3, total=12, min_lr=0.01)),
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
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(lr, rel=1e-12)
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


def _resumable_run(steps, resume_at=None, load_optimiser=True, make=None):
    """A small model trained with AdamW groups, a warm-up cosine schedule and clipping; at resume_at everything is
    saved (the model's and the optimiser's and the schedule's state), and a fresh model, optimiser and schedule
    load it and go on."""
    def build():
        model = tl.nn.Sequential(tl.nn.Linear(3, 8, rng=0), tl.nn.Tanh(), tl.nn.Linear(8, 2, rng=1))
        decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
        rest = [p for n, p in model.named_parameters() if n.endswith("bias")]
        opt = (make or (lambda groups: optim.AdamW(groups, lr=0.05)))(
            [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}])
        return model, opt, optim.WarmupCosineLR(opt, warmup=10, total=steps)

    model, opt, schedule = build()
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((16, 3)), rng.integers(0, 2, 16)) for _ in range(steps)]
    for step, (x, y) in enumerate(batches):
        if step == resume_at:
            saved = model.state_dict(), opt.state_dict(), schedule.state_dict()
            model, opt, schedule = build()  # a new process, say: everything from the saved states
            model.load_state_dict(saved[0])
            if load_optimiser:
                opt.load_state_dict(saved[1])
            schedule.load_state_dict(saved[2])
        opt.zero_grad()
        tl.nn.CrossEntropy()(model(x), y).backward()
        optim.clip_grad_norm(model.parameters(), 1.0)
        opt.step()
        schedule.step()
    return model.state_dict()


def test_training_stopped_and_resumed_is_the_same_as_straight_through():
    straight, resumed = _resumable_run(100), _resumable_run(100, resume_at=50)
    for name in straight:
        np.testing.assert_array_equal(straight[name], resumed[name])  # exactly: the same numbers in the same order
    forgetful = _resumable_run(100, resume_at=50, load_optimiser=False)  # Adam's moments lost: a different run
    assert not np.allclose(straight["layers.0.weight"], forgetful["layers.0.weight"], rtol=1e-6, atol=0)


@pytest.mark.parametrize("make", [lambda g: optim.SGD(g, lr=0.05, momentum=0.9), lambda g: optim.RMSprop(g, lr=0.01),
                                  lambda g: optim.Adam([p for group in g for p in group["params"]], lr=0.05)],
                         ids=["SGD", "RMSprop", "Adam"])
def test_every_optimiser_resumes_exactly(make):
    straight, resumed = _resumable_run(30, make=make), _resumable_run(30, resume_at=15, make=make)
    for name in straight:
        np.testing.assert_array_equal(straight[name], resumed[name])
    forgetful = _resumable_run(30, resume_at=15, load_optimiser=False, make=make)
    assert not all(np.array_equal(straight[n], forgetful[n]) for n in straight)


def test_a_state_dict_is_a_copy_and_loading_a_wrong_one_changes_nothing():
    w, b = Value(np.ones(3)), Value(np.zeros(2))
    opt = optim.Adam([w, b], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    saved = opt.state_dict()
    assert saved["param_groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0, 1]}]
    assert set(saved["state"]) == {0} and saved["state"][0]["step"] == 1  # b had no gradient: no state
    saved["state"][0]["exp_avg"][:] = 99.0
    assert not (opt.state[0]["exp_avg"] == 99.0).any()
    wrong_shape = opt.state_dict()
    wrong_shape["state"][0]["exp_avg"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"exp_avg of parameter 0 has shape \(4,\), the parameter \(3,\)"):
        opt.load_state_dict(wrong_shape)
    with pytest.raises(ValueError, match=r"groups of \[1\] parameters, this optimiser \[2\]"):
        opt.load_state_dict(optim.Adam([w]).state_dict())
    with pytest.raises(ValueError, match="takes"):
        opt.load_state_dict(optim.SGD([w, b], lr=0.1).state_dict())
    assert opt.state[0]["step"] == 1 and opt.param_groups[0]["lr"] == 0.1


def test_parameter_groups_are_checked():
    w, b = Value(np.ones(3)), Value(np.zeros(2))
    with pytest.raises(ValueError, match="more than one group"):
        optim.AdamW([{"params": [w]}, {"params": [w, b]}])
    with pytest.raises(TypeError, match=r"group 1 sets \['momentum'\]; AdamW takes"):
        optim.AdamW([{"params": [w]}, {"params": [b], "momentum": 0.9}])
    with pytest.raises(ValueError, match="group 0 has no 'params'"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(ValueError, match="AdamW: weight_decay"):
        optim.AdamW([{"params": [w], "weight_decay": -1.0}])
    with pytest.raises(ValueError, match="total .* must be more than warmup"):
        optim.WarmupCosineLR(optim.SGD([w], lr=0.1), warmup=10, total=10)


def test_optimiser_state_stays_float32():
    w = Value(np.ones(3, np.float32))
    for opt in (optim.AdamW([w], lr=0.1), optim.SGD([w], lr=0.1, momentum=0.9), optim.RMSprop([w])):
        (w * w).sum().backward()
        opt.step()
        w.zero_grad()
        assert w.dtype == np.float32
        assert all(a.dtype == np.float32 for s in opt.state.values() for a in s.values() if isinstance(a, np.ndarray))


@pytest.mark.parametrize("make", [lambda w: optim.SGD([w], lr=0.1, momentum=0.9), lambda w: optim.Adam([w]),
                                  lambda w: optim.AdamW([w]), lambda w: optim.RMSprop([w])])
def test_a_parameter_that_changed_shape_is_one_clear_error_not_numpys(make):
    """State kept for the old shape (momentum, Adam's averages) against a resized parameter: said, not broadcast."""
    w = tl.Value(np.ones((3, 2)))
    opt = make(w)
    (w * 2).sum().backward()
    opt.step()
    w.data, w.grad = np.ones((3, 5)), None
    (w * 2).sum().backward()
    with pytest.raises(ValueError, match=r"step: parameter 0 has shape \(3, 5\), but its \w+ has shape \(3, 2\)"):
        opt.step()
    with pytest.raises(ValueError, match=r"Value.grad: an array of shape \(3, 4\) for a Value of shape \(3, 5\)"):
        w.grad = np.ones((3, 4))  # refused where it is set
    w.data = np.ones((3, 6))  # a .grad left from before the data changed shape: said by step
    with pytest.raises(ValueError, match=r"its .grad has shape \(3, 5\)"):
        opt.step()
