"""Fit the 2-3-1 regressor with Newton's method, using the exact Hessian, beside BFGS.

BFGS builds an approximation of the Hessian from gradients; here tl.hessian computes the real one
(9 x 9, by differentiating the gradient: backward with create_graph=True). Far from a minimum the
Hessian of a network is not positive definite, so each step solves (H + mu I) step = g and adapts mu
(Levenberg-Marquardt damping): a step that lowers the cost is kept and mu shrinks, otherwise mu grows.
"""

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import data, optim

X_raw, y_raw = data.sleep_study()
X, y = data.MaxScaler().fit_transform(X_raw), y_raw / 100
rng = np.random.RandomState(0)
start = np.concatenate([rng.standard_normal((2, 3)).ravel(), rng.standard_normal((3, 1)).ravel()])


def predict(theta):
    """yhat for the 9 weights in one vector: W1 (2, 3), then W2 (3, 1)."""
    W1, W2 = theta[:6].reshape(2, 3), theta[6:].reshape(3, 1)
    return ((X @ W1).sigmoid() @ W2).sigmoid()


def cost(theta):
    """J = 0.5 * sum((y - yhat)^2)."""
    return 0.5 * ((y - predict(theta)) ** 2).sum()


def newton(theta, steps=40, mu=1e-2):
    history = [cost(tl.Value(theta)).item()]
    for _ in range(steps):
        g = tl.grad(cost)(theta)
        H = tl.hessian(cost)(theta)
        while True:
            step = np.linalg.solve(H + mu * np.eye(len(theta)), g)
            trial = cost(tl.Value(theta - step)).item()
            if trial < history[-1] or mu > 1e12:
                break
            mu *= 10
        if trial >= history[-1]:
            break  # no step lowers the cost any more
        theta, mu = theta - step, mu / 3
        history.append(trial)
        if np.linalg.norm(g) < 1e-10:
            break
    return theta, history


theta_newton, newton_history = newton(start)
theta = tl.Value(start.copy())
bfgs = optim.minimize([theta], lambda: cost(theta), maxiter=200)

print("Newton (exact Hessian, damped):", len(newton_history) - 1, "steps")
print("  cost:", " ".join(f"{c:.2e}" for c in newton_history))
print("BFGS (approximate Hessian):", bfgs.nit, "iterations")
print("  cost:", " ".join(f"{c:.2e}" for c in bfgs.history))
for name, t in (("Newton", theta_newton), ("BFGS", theta.data)):
    with tl.no_grad():
        scores = 100 * predict(tl.Value(t)).data.ravel()
    print(f"{name}: final cost {cost(tl.Value(t)).item():.2e}, predicted scores {np.round(scores, 3).tolist()}")
