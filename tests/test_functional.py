"""grad, value_and_grad, jacobian, hessian and vjp, against closed forms and finite differences."""

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Value


def test_hessian_of_a_quadratic_form_by_create_graph():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = Value([1.0, -1.0])
    (x @ A @ x).backward(create_graph=True)  # gradient (A + A^T) x, Hessian A + A^T
    g = x.grad
    rows = []
    for i in range(2):
        x.zero_grad()
        g[i].backward(retain_graph=True)
        rows.append(x.grad)
    np.testing.assert_allclose(np.array(rows), A + A.T)


def test_functional_grad_nests_and_takes_argnums():
    f = lambda x: (x ** 3).sum()
    np.testing.assert_allclose(tl.grad(f)(2.0), 12.0)
    np.testing.assert_allclose(tl.grad(tl.grad(f))(2.0), 12.0)
    np.testing.assert_allclose(tl.grad(tl.grad(tl.grad(f)))(2.0), 6.0)
    g = tl.grad(lambda a, b: (a * b.exp()).sum(), argnums=(0, 1))
    da, db = g(np.array([1.0, 2.0]), np.array([0.0, 1.0]))
    np.testing.assert_allclose(da, np.exp([0.0, 1.0]))
    np.testing.assert_allclose(db, [1.0, 2.0 * np.e])
    value, grad = tl.value_and_grad(lambda x: (x * x).sum())([1.0, 2.0])
    assert value == 5.0
    np.testing.assert_allclose(grad, [2.0, 4.0])


def test_functional_grad_leaves_dot_grad_alone():
    x = Value([1.0, 2.0])
    g = tl.grad(lambda x: (x * x).sum())(x)
    np.testing.assert_allclose(g.data, [2.0, 4.0])
    assert x.grad is None


def test_grad_of_a_function_that_ignores_its_input_is_zero():
    np.testing.assert_array_equal(tl.grad(lambda x: Value(3.0) * 1.0)(np.ones(2)), [0.0, 0.0])


def test_vjp_wants_values():
    with pytest.raises(TypeError, match=r"vjp: output must be a Value.*ndarray"):
        tl.vjp(np.ones(2), [Value([1.0, 2.0])])
    with pytest.raises(TypeError, match=r"vjp: inputs must be Values.*input 0 is ndarray"):
        tl.vjp(Value([1.0]).sum(), [np.ones(2)])


def test_hessian_and_jacobian_against_closed_forms():
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]])
    x = np.array([0.5, -1.0, 2.0])
    H = tl.hessian(lambda v: 0.5 * (v @ A @ v) + (v ** 3).sum())(x)
    np.testing.assert_allclose(H, A + np.diag(6 * x))
    J = tl.jacobian(lambda v: (v * v).tanh())(x)
    np.testing.assert_allclose(J, np.diag(2 * x * (1 - np.tanh(x * x) ** 2)))
    M = np.arange(6.0).reshape(2, 3)
    assert tl.jacobian(lambda v: M @ v)(x).shape == (2, 3)


def test_hessian_against_finite_differences_of_gradients():
    f = lambda v: (v[0] * v[1].exp() + (v * v).sum().sqrt()).tanh()
    x = np.array([0.3, -0.2, 0.7])
    g = tl.grad(f)
    eps = 1e-6
    numeric = np.stack([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(tl.hessian(f)(x), numeric, atol=1e-7)
    np.testing.assert_allclose(tl.hessian(f)(x), tl.hessian(f)(x).T, atol=1e-12)


def test_grad_with_argnums_tuple():
    f = lambda a, b, c: (a * b * c).sum()
    ga, gc = tl.grad(f, argnums=(0, 2))(np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0]))
    np.testing.assert_allclose(ga, [15.0, 24.0])
    np.testing.assert_allclose(gc, [3.0, 8.0])


def test_functional_forms_work_inside_no_grad():
    f = lambda x: (x ** 3).sum()  # noqa: E731
    x = np.array([1.0, 2.0])
    with tl.no_grad():
        np.testing.assert_allclose(tl.grad(f)(x), 3 * x ** 2)
        value, g = tl.value_and_grad(f)(x)
        assert value == 9.0
        np.testing.assert_allclose(g, 3 * x ** 2)
        np.testing.assert_allclose(tl.jacobian(lambda t: t ** 2)(x), np.diag(2 * x))
        np.testing.assert_allclose(tl.hessian(f)(x), np.diag(6 * x))
        assert not tl.is_grad_enabled()


def test_the_jacobian_of_an_empty_output_has_the_right_shape():
    jac = tl.jacobian(lambda t: t[:0])(np.array([1.0, 2.0]))
    assert jac.shape == (0, 2)
