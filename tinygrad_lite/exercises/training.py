"""Exercises on training: Adam's update, checked against tl.optim.Adam on the same parameters and gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import optim
from ..value import Value
from .checking import compare, run
from .exercise import Exercise, solved

ADAM = '''"""Exercise 11: one step of Adam, as PyTorch's (and tl.optim.Adam).

p: the parameter's numbers, g: its gradient, m and v: the running averages of g and g^2 (zeros before the first
step), t: the step's number, 1 for the first. Return the new (p, m, v):
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    p = p - lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - b1^t) and v_hat = v / (1 - b2^t)
Check with `tinygrad-lite exercises check 11`.
"""
import numpy as np


def adam_step(p, g, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Return the new (p, m, v) after one Adam step."""
    raise NotImplementedError  # TODO
'''


def _adam_trial(mod: Any, r: Any, shape: tuple[int, ...]) -> None:
    p0, lr = r.standard_normal(shape), 0.05
    w = Value(p0.copy())
    opt = optim.Adam([w], lr=lr)
    p, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    for t in range(1, 4):
        g = r.standard_normal(shape)
        w.grad = g.copy()
        opt.step()
        m_plain = 0.9 * m + 0.1 * g
        v_plain, v_of_g = 0.999 * v + 0.001 * g * g, 0.999 * v + 0.001 * g
        no_correction = p - lr * m_plain / (np.sqrt(v_plain) + 1e-8)
        p, m, v = mod.adam_step(p, g, m, v, t, lr=lr)
        compare("adam_step", f"m at step {t}", m, m_plain)
        compare("adam_step", f"v at step {t}", v, v_plain, ((v_of_g, "v averages g squared, not g"),))
        compare("adam_step", f"p at step {t}", p, w.data,
                ((no_correction, "the bias correction: divide m by 1 - b1^t and v by 1 - b2^t"),))


def _check_adam(mod: Any) -> None:
    run(mod, _adam_trial, [((3, 2),)] * 3, seed=6, shapes=lambda st, hnp: st.tuples(hnp.array_shapes(max_dims=3)))


STEP = '''"""Exercise 6: one training step of a neuron, by hand, as micrograd's: y_hat = tanh(w . x + b), the loss
(y_hat - y)^2 for one example; compute dloss/dw and dloss/db with the chain rule, then step against them.

w and x are lists (or arrays) of the same length, b, y and lr numbers. Return the new (w, b): w - lr * dloss/dw and
b - lr * dloss/db. Check with `tinygrad-lite exercises check 6`.
"""
import numpy as np


def train_step(w, b, x, y, lr):
    """One gradient-descent step on (tanh(w . x + b) - y)^2: return the new (w, b)."""
    raise NotImplementedError  # TODO
'''


def _step_trial(mod: Any, r: Any, n: int) -> None:
    w0, x, b0 = r.uniform(-1, 1, n), r.uniform(-1, 1, n), float(r.uniform(-0.5, 0.5))
    y, lr = float(r.choice([-1.0, 1.0])), 0.1
    w, b = Value(w0.copy()), Value(b0)
    ((w @ x + b).tanh() - y).square().backward()
    t = np.tanh(w0 @ x + b0)
    plain = 2 * (t - y)  # without tanh's derivative
    got_w, got_b = mod.train_step(w0.copy(), b0, x, y, lr)
    compare("train_step", "the new w", got_w, w0 - lr * w.grad,
            ((w0 - lr * plain * x, "tanh's derivative: dy_hat/dz = 1 - y_hat^2"),
             (w0 + lr * w.grad, "the sign: step against the gradient, w - lr * dloss/dw")))
    compare("train_step", "the new b", got_b, b0 - lr * b.grad,
            ((b0 - lr * plain, "tanh's derivative: dy_hat/dz = 1 - y_hat^2"),
             (b0 + lr * b.grad, "the sign: b - lr * dloss/db")))


def _check_step(mod: Any) -> None:
    run(mod, _step_trial, [(3,)] * 4, seed=6, shapes=lambda st, hnp: st.tuples(st.integers(1, 6)))


EXERCISES = [
    Exercise(6, "train_step", "a neuron's training step by hand", STEP,
             solved(STEP, {"train_step": "    w, x = np.asarray(w, dtype=float), np.asarray(x, dtype=float)\n"
                                            "    y_hat = np.tanh(w @ x + b)\n"
                                            "    dz = 2 * (y_hat - y) * (1 - y_hat ** 2)  # dloss/dz, z = w . x + b\n"
                                            "    return w - lr * dz * x, b - lr * dz"}),
             ("dloss/dy_hat = 2 (y_hat - y); dy_hat/dz = 1 - y_hat^2; dz/dw = x and dz/db = 1.",
              "Multiply along the chain, then w - lr * dloss/dw."), _check_step),
    Exercise(11, "adam_step", "Adam's update", ADAM,
             solved(ADAM, {"adam_step": "    m = b1 * m + (1 - b1) * g\n"
                                           "    v = b2 * v + (1 - b2) * g * g\n"
                                           "    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)\n"
                                           "    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v"}),
             ("Update m and v first, then correct both for their start at zero.",
              "The step is lr * m_hat / (sqrt(v_hat) + eps), subtracted from p."), _check_adam),
]
