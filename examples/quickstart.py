"""A short tour of tinygrad_lite: gradients of a scalar expression, of a tensor expression with
broadcasting, and a second derivative. Run it with `python examples/quickstart.py` (or `make demo`).
"""

import numpy as np

import tinygrad_lite as tl


def scalar_expression() -> None:
    print("1. A scalar expression: L = (a*b + c) * f")
    a, b, c, f = tl.Value(2.0, name="a"), tl.Value(-3.0, name="b"), tl.Value(10.0, name="c"), tl.Value(-2.0, name="f")
    L = (a * b + c) * f
    L.backward()
    print(f"   L = {L.item():g}")
    for v in (a, b, c, f):
        print(f"   dL/d{v.name} = {v.grad.item():g}")
    print("   (by hand: dL/da = b*f = 6, dL/db = a*f = -4, dL/dc = f = -2, dL/df = a*b + c = 4)\n")


def tensor_expression() -> None:
    print("2. A tensor expression with broadcasting: one sigmoid neuron on 4 examples")
    X = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])  # (4, 3), a constant
    y = np.array([[0.0], [1.0], [1.0], [0.0]])  # (4, 1)
    w = tl.Value(np.array([[0.5], [-0.5], [0.1]]), name="w")  # (3, 1)
    b = tl.Value(0.2, name="b")  # a scalar, broadcast over the 4 rows
    out = (X @ w + b).sigmoid()  # (4, 1)
    loss = 0.5 * ((out - y) ** 2).sum()
    loss.backward()
    print(f"   loss = {loss.item():.6f}")
    print(f"   dloss/dw = {w.grad.ravel().round(6)}  (shape {w.grad.shape}, like w)")
    print(f"   dloss/db = {b.grad.item():.6f}  (the 4 rows' gradients, summed back to b's shape)\n")


def second_derivative() -> None:
    print("3. A second derivative: f(x) = x^3 at x = 3")
    f = lambda x: x ** 3
    print(f"   f'(3)  = {tl.grad(f)(3.0).item():g}   (3x^2 = 27)")
    print(f"   f''(3) = {tl.grad(tl.grad(f))(3.0).item():g}   (6x = 18)")
    x = tl.Value(3.0)
    (x ** 3).backward(create_graph=True)  # x.grad is now a Value, itself differentiable
    dfdx = x.grad
    x.zero_grad()
    dfdx.backward()
    print(f"   the same through backward(create_graph=True): {x.grad.item():g}\n")


def check_a_gradient() -> None:
    print("4. Checking gradients against finite differences")
    ok = tl.testing.gradcheck(lambda a, b: (a @ b).tanh(), tl.Value(np.random.default_rng(0).normal(size=(2, 3))),
                              tl.Value(np.random.default_rng(1).normal(size=(3, 4))))
    print(f"   gradcheck of tanh(A @ B): {ok}")


if __name__ == "__main__":
    scalar_expression()
    tensor_expression()
    second_derivative()
    check_a_gradient()
