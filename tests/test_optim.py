"""The optimisers at their edges: arguments checked by name, clip_grad_norm, state loading all or nothing."""

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
