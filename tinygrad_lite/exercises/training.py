"""Exercises on training: Adam's update, checked against tl.optim.Adam on the same parameters and gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import optim
from ..value import Value
from .backprop import _solution
from .checking import compare, draws
from .exercise import Exercise

ADAM = '''"""Exercise 6: one step of Adam, as PyTorch's (and tl.optim.Adam).

p: the parameter's numbers, g: its gradient, m and v: the running averages of g and g^2 (zeros before the first
step), t: the step's number, 1 for the first. Return the new (p, m, v):
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    p = p - lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - b1^t) and v_hat = v / (1 - b2^t)
Check with `tinygrad-lite exercises check 6`.
"""
import numpy as np


def adam_step(p, g, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Return the new (p, m, v) after one Adam step."""
    raise NotImplementedError  # TODO
'''


def _check_adam(mod: Any) -> None:
    for r in draws(6, 3):
        p0, lr = r.standard_normal((3, 2)), 0.05
        w = Value(p0.copy())
        opt = optim.Adam([w], lr=lr)
        p, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
        for t in range(1, 4):
            g = r.standard_normal((3, 2))
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


EXERCISES = [
    Exercise(6, "adam_step", "Adam's update", ADAM,
             _solution(ADAM, {"adam_step": "    m = b1 * m + (1 - b1) * g\n"
                                           "    v = b2 * v + (1 - b2) * g * g\n"
                                           "    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)\n"
                                           "    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v"}),
             ("Update m and v first, then correct both for their start at zero.",
              "The step is lr * m_hat / (sqrt(v_hat) + eps), subtracted from p."), _check_adam),
]
