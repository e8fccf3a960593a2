"""The public testing toolkit: gradcheck must catch wrong gradients, and the strategies must keep their promises."""

import inspect
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Value, ops
from tinygrad_lite.testing import GradcheckError, gradcheck, gradgradcheck
from tinygrad_lite.testing import strategies as tst


def _wrong_square(x):
    """x ** 2 whose gradient is x / 2 instead of 2x: most of it is computed on constants."""
    return x * x.detach() * 0.5 + (x.data ** 2) * 0.5


def test_gradcheck_passes_a_right_gradient():
    assert gradcheck(lambda a, b: (a @ b).tanh().sum(axis=0), Value(np.ones((2, 3)) * 0.1), Value(np.ones((3, 4))))


def test_gradcheck_reports_a_wrong_gradient_readably():
    with pytest.raises(GradcheckError) as info:
        gradcheck(_wrong_square, Value([1.0, 2.0]))
    message = str(info.value)
    assert isinstance(info.value, AssertionError)
    assert "input 0" in message and "element (0,)" in message
    assert "analytic 0.5 " in message and "numeric 2 " in message  # d(x^2)/dx at 1: wrong 0.5, right 2


def test_gradcheck_uses_random_output_directions_for_large_outputs():
    # Forward reverses x, but the gradient passes straight through: right for a .sum() seed (all ones),
    # wrong in any other direction. 40 outputs: checked along random output directions.
    def reverses_without_telling_backward(x):
        return x[::-1].detach() + (x - x.detach())

    x = Value(np.arange(40.0))
    out = reverses_without_telling_backward(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(40))  # a .sum() seed sees nothing wrong
    with pytest.raises(GradcheckError, match="random output direction"):
        gradcheck(reverses_without_telling_backward, Value(np.arange(40.0)))


def test_gradcheck_checks_large_inputs_along_random_directions():
    with pytest.raises(GradcheckError, match="random input direction"):
        gradcheck(_wrong_square, Value(np.linspace(0.5, 2.0, 600)))


def test_gradcheck_rejects_inputs_it_cannot_check():
    with pytest.raises(ValueError, match="nothing to check"):
        gradcheck(lambda a: a * 2, Value([1.0], requires_grad=False))
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda a: a.data, Value([1.0]))


def test_gradcheck_passes_constants_through():
    scale = np.array([1.0, -2.0])
    assert gradcheck(lambda a, c: (a * c).exp(), Value([0.1, 0.2]), scale)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    def cube_with_wrong_second_derivative(x):
        # first derivative right (3x^2) but computed partly on constants, so the second is wrong
        return x * x.detach() * x.detach()

    assert gradcheck(lambda x: x ** 3, Value([0.5, 1.5]))
    assert gradgradcheck(lambda x: x ** 3, Value([0.5, 1.5]))
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda x: x * x.detach() * x, Value([0.5, 1.5]))
    with pytest.raises(GradcheckError):
        gradcheck(cube_with_wrong_second_derivative, Value([0.5, 1.5]))


def test_gradcheck_on_float32_inputs_checks_in_float64():
    assert gradcheck(lambda a: a.sigmoid(), Value(np.array([0.3, -0.7], np.float32)))


@given(st.sampled_from(sorted(tst.DOMAINS)).flatmap(lambda d: st.tuples(st.just(d), tst.arrays(domain=d))))
def test_strategies_respect_their_domains(case):
    domain, a = case
    assert a.dtype == np.float64 and np.isfinite(a).all() and (np.abs(a) <= 3).all()
    if domain == "positive":
        assert (a >= 0.2).all()
    if domain == "nonzero":
        assert (np.abs(a) >= 0.2).all()
    if domain == "off_pm1":
        assert (np.abs(np.abs(a) - 1) >= 0.1 - 1e-12).all()
    if domain == "distinct":
        assert len(np.unique(a)) == a.size


@given(tst.broadcastable_values(domains=("real", "positive", "nonzero")))
def test_broadcastable_values_broadcast(values):
    assert len(values) == 3 and all(isinstance(v, Value) for v in values)
    np.broadcast_shapes(*(v.shape for v in values))


@given(tst.matmul_values())
def test_matmul_values_multiply(pair):
    a, b = pair
    assert (a @ b).shape == np.matmul(a.data, b.data).shape


def test_unknown_domain_is_an_error():
    with pytest.raises(ValueError, match="unknown domain"):
        tst.elements("complex")


def test_hypothesis_is_imported_only_with_the_strategies():
    code = "import sys, tinygrad_lite; print('hypothesis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_every_table_entry_is_a_documented_value_method_written_in_value_py():
    source = inspect.getsource(tl.value)
    for name, op in ops.TABLE.items():
        assert len(ops.about(op).domain) == max(ops.about(op).arity, 1), name
        if ops.about(op).variadic:  # the joining ops are module functions: tl.concatenate, tl.stack
            assert getattr(tl, name).__doc__ and not hasattr(Value, name), name
            continue
        if name == "where":  # numpy's order, where(cond, a, b): a module function; PyTorch's x.where(cond, y) beside it
            assert tl.where.__doc__
            x = Value([1.0, 2.0])
            assert np.array_equal(x.where(np.array([True, False]), 5.0).data, [1.0, 5.0])
            continue
        if not ops.about(op).method:  # a module function: tl.embedding(ids, weight), tl.layer_norm(x, weight)
            assert getattr(tl, name).__doc__ and not hasattr(Value, name) and f"apply({name.upper()}, " in source
            continue
        method = Value.__getitem__ if name == "getitem" else getattr(Value, name)
        assert method.__qualname__ == f"Value.{method.__name__}", name  # defined in the class, not attached later
        assert f"apply({name.upper()}, self" in source, f"{name}: its method calls apply({name.upper()}, self, ...)"
        if name != "getitem":
            first = ops.about(op).doc.split(":")[0].rstrip(".")
            assert method.__doc__ and method.__doc__.split(":")[0].rstrip(".") == first, name


def test_every_public_value_method_is_defined_in_value_py():
    for name, member in vars(Value).items():
        if callable(member) and not name.startswith("__"):
            assert inspect.getmodule(member) is tl.value, name
    assert "setattr(Value" not in "".join(inspect.getsource(m) for m in (tl, tl.nn, tl.show))


def test_methods_take_numpy_style_arguments():
    v = Value(np.arange(6.0))
    assert v.reshape(2, 3).shape == v.reshape((2, 3)).shape == (2, 3)
    assert v.reshape(2, 3).transpose(1, 0).shape == (3, 2)
    assert v.reshape(2, 3).sum(1, True).shape == (2, 1)
    assert v.clip(hi=2.0).data.max() == 2.0
    with pytest.raises(TypeError, match="unexpected keyword"):
        v.sum(axes=0)
    with pytest.raises(TypeError, match="sum"):
        v.sum(0, True, 3)


def test_grad_of_user_function_matches_gradcheck():
    f = lambda x: (x.tanh() * x).sum()
    x = np.array([0.2, -0.4])
    np.testing.assert_allclose(tl.grad(f)(x), np.tanh(x) + x * (1 - np.tanh(x) ** 2))


def test_gradcheck_checks_values_reached_another_way():
    # A module uses its own parameter objects: gradcheck must perturb those very Values (and put them back).
    class WrongWeightGradient(tl.nn.Module):
        def __init__(self):
            self.w = Value(np.ones((3, 2)))

        def forward(self, x):
            return x @ self.w.detach() + (self.w - self.w.detach()).sum() * 0

    m = WrongWeightGradient()
    before = m.w.data
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda x, w: m(x), Value(np.ones((4, 3))), m.w)
    assert m.w.data is before  # the original array is back


def test_gradcheck_with_one_value_passed_twice():
    x = Value(np.array([1.0, 2.0], np.float32))
    assert gradcheck(lambda a, b: a * b.exp(), x, x)
    assert x.dtype == np.float32
