'''The backward passes: micrograd's scalar rules, powers and exponentials, undoing broadcasting, matmul, and
softmax with cross-entropy in one expression (makemore's "backprop ninja"). Each check computes the gradient with
the engine (tl.Value and backward()) on drawn inputs and compares.'''

from __future__ import annotations

from typing import Any

import numpy as np

from .checking import compare, engine_grads, run
from .exercise import Exercise, solved

# ---- 1. micrograd's scalar rules -------------------------------------------------------------------------------

SCALAR = '''"""Exercise 1: the backward of +, * and tanh for single numbers, as in micrograd.

Each function gets g, the gradient flowing into the result (dL/dout), and the inputs; it returns the gradient of
each input, dL/da = g * dout/da. Check with `tinygrad-lite exercises check 1`.
"""
import math


def add_backward(g, a, b):
    """out = a + b: return (dL/da, dL/db)."""
    raise NotImplementedError  # TODO


def mul_backward(g, a, b):
    """out = a * b: return (dL/da, dL/db)."""
    raise NotImplementedError  # TODO


def tanh_backward(g, x):
    """out = tanh(x): return dL/dx."""
    raise NotImplementedError  # TODO
'''


def _scalar_trial(m: Any, r: Any) -> None:
    a, b, g = (float(v) for v in r.uniform(-2, 2, 3))
    da, db = engine_grads(lambda x, y: x + y, a, b, g=g)
    got = m.add_backward(g, a, b)
    compare("add_backward", "dL/da", got[0], da, ((-g, "a sign: d(a+b)/da is +1"),))
    compare("add_backward", "dL/db", got[1], db, ((-g, "a sign: d(a+b)/db is +1, not -1"),))
    da, db = engine_grads(lambda x, y: x * y, a, b, g=g)
    got = m.mul_backward(g, a, b)
    compare("mul_backward", "dL/da", got[0], da, ((g * a, "swapped: d(a*b)/da is b, not a"),
                                                    (b, "the chain rule: multiply by g")))
    compare("mul_backward", "dL/db", got[1], db, ((g * b, "swapped: d(a*b)/db is a, not b"),
                                                    (a, "the chain rule: multiply by g")))
    (dx,) = engine_grads(lambda x: x.tanh(), a, g=g)
    compare("tanh_backward", "dL/dx", m.tanh_backward(g, a), dx,
            ((g * (1 - a * a), "1 - tanh(x)^2, not 1 - x^2: square the output, not the input"),
             (1 - np.tanh(a) ** 2, "the chain rule: multiply by g")))


def _check_scalar(m: Any) -> None:
    run(m, _scalar_trial, [()] * 5, seed=1)


# ---- 2. powers and exponentials ----------------------------------------------------------------------------------

POWER = '''"""Exercise 2: the backward of x ** n (n a fixed number) and of exp(x), for arrays.

g is the gradient flowing into the result, of x's shape; return dL/dx, of x's shape. Use numpy (np.exp, **).
Check with `tinygrad-lite exercises check 2`.
"""
import numpy as np


def pow_backward(g, x, n):
    """out = x ** n: return dL/dx."""
    raise NotImplementedError  # TODO


def exp_backward(g, x):
    """out = exp(x): return dL/dx."""
    raise NotImplementedError  # TODO
'''


def _power_trial(m: Any, r: Any, shape: tuple[int, ...]) -> None:
    x, g, n = r.uniform(0.5, 2, shape), r.standard_normal(shape), float(r.choice([2.0, 3.0, 0.5, -1.0]))
    (dx,) = engine_grads(lambda v: v ** n, x, g=g)
    compare("pow_backward", f"dL/dx for n = {n:g}", m.pow_backward(g, x, n), dx,
            ((g * x ** (n - 1), "the factor n: d(x^n)/dx = n x^(n-1)"),
             (g * n * x ** n, "the exponent: n x^(n-1), one less than n")))
    (dx,) = engine_grads(lambda v: v.exp(), x, g=g)
    compare("exp_backward", "dL/dx", m.exp_backward(g, x), dx,
            ((g * x, "d(e^x)/dx is e^x itself"), (np.exp(x), "the chain rule: multiply by g")))


def _check_power(m: Any) -> None:
    run(m, _power_trial, [((2, 3),)] * 5, seed=2,
        shapes=lambda st, hnp: st.tuples(hnp.array_shapes(min_dims=0, max_dims=3)))


# ---- 3. undoing broadcasting -------------------------------------------------------------------------------------

SUM_TO = '''"""Exercise 3: undo broadcasting. When a + b broadcast b of shape (1, 4) to (3, 4), b's gradient is
the sum of the (3, 4) gradient over the axes numpy stretched: every copy of b[0, j] gets its share.

Return g summed down to `shape` (the input's shape before broadcasting): over the leading axes numpy added, and
over the axes where shape has 1 and g does not, keeping those as size 1. Check with
`tinygrad-lite exercises check 3`.
"""
import numpy as np


def sum_to(g, shape):
    """g (an array) summed to `shape` (a tuple)."""
    raise NotImplementedError  # TODO
'''

SHAPES = [((3, 4), (1, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((2, 3), ()), ((5, 1, 3), (5, 2, 3)),
          ((4, 2), (4, 1))]


def _sum_to_trial(m: Any, r: Any, s1: tuple[int, ...], s2: tuple[int, ...]) -> None:
    a, b = r.standard_normal(s1), r.standard_normal(s2)
    g = r.standard_normal(np.broadcast_shapes(s1, s2))
    _, db = engine_grads(lambda x, y: x + y, a, b, g=g)
    lead = g.ndim - len(s2)
    squeezed = g.sum(axis=tuple(range(lead)))
    mistakes: list[tuple[Any, str]] = [(g, "the sum: g must be summed over the broadcast axes")]
    if squeezed.shape != s2:
        flat = squeezed.sum(axis=tuple(i for i, n in enumerate(s2) if n == 1 and squeezed.shape[i] != 1))
        mistakes.append((flat, "keep the size-1 axes (keepdims=True): the shape must be the input's"))
    compare("sum_to", f"g of shape {g.shape} summed to {s2}", m.sum_to(g, s2), db, tuple(mistakes))


def _check_sum_to(m: Any) -> None:
    run(m, _sum_to_trial, SHAPES, seed=3, shapes=lambda st, hnp: hnp.mutually_broadcastable_shapes(
        num_shapes=2, max_dims=4, max_side=4).map(lambda b: b.input_shapes))


# ---- 4. matmul -------------------------------------------------------------------------------------------------

MATMUL = '''"""Exercise 4: the backward of C = A @ B, A of shape (m, k) and B of shape (k, n).

g = dL/dC has C's shape (m, n). Return (dL/dA, dL/dB), of A's and B's shapes. Shapes tell you the answer: what
(m, n) and (k, n) arrays make an (m, k) one? Check with `tinygrad-lite exercises check 4`.
"""
import numpy as np


def matmul_backward(g, A, B):
    """C = A @ B: return (dL/dA, dL/dB)."""
    raise NotImplementedError  # TODO
'''


def _matmul_trial(m: Any, r: Any, i: int, k: int, j: int) -> None:
    A, B, g = r.standard_normal((i, k)), r.standard_normal((k, j)), r.standard_normal((i, j))
    dA, dB = engine_grads(lambda a, b: a @ b, A, B, g=g)
    got = m.matmul_backward(g, A, B)
    square = i == k == j
    compare("matmul_backward", "dL/dA", got[0], dA,
            ((g @ B if square else -dA, "a missing transpose: dL/dA = g @ B.T"), (-dA, "a sign"),
             (B.T @ g if square else -dA, "the order: g @ B.T, not B.T @ g")))
    compare("matmul_backward", "dL/dB", got[1], dB,
            ((A @ g if square else -dB, "a missing transpose: dL/dB = A.T @ g"), (-dB, "a sign"),
             (g @ A.T if square else -dB, "the order: A.T @ g, not g @ A.T")))


def _check_matmul(m: Any) -> None:
    # square shapes first: there a missing transpose gives numbers (to name), not a shape error
    run(m, _matmul_trial, [(3, 3, 3), (2, 2, 2), (3, 4, 2), (1, 4, 6)], seed=4,
        shapes=lambda st, hnp: st.tuples(*[st.integers(1, 5)] * 3))


# ---- 5. softmax with cross-entropy in one expression -------------------------------------------------------------

SOFTMAX_CE = '''"""Exercise 5: makemore's "backprop ninja": the gradient of the mean cross-entropy of softmax(logits)
with respect to the logits, in one expression, without going through softmax's and log's rules one by one.

logits has shape (N, C), targets holds N class indices. loss = mean over the N rows of -log(softmax(row)[target]).
Return dL/dlogits, of shape (N, C). Check with `tinygrad-lite exercises check 5`.
"""
import numpy as np


def softmax_ce_backward(logits, targets):
    """dL/dlogits for L = mean cross-entropy."""
    raise NotImplementedError  # TODO
'''


def _softmax_ce_trial(m: Any, r: Any, n: int, c: int) -> None:
    from ..nn import CrossEntropy
    logits, targets = r.standard_normal((n, c)) * 2, r.integers(0, c, n)
    (d,) = engine_grads(lambda z: CrossEntropy()(z, targets), logits)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(c)[targets]
    mistakes = ((p - onehot, "the mean: divide by N, the number of rows"),
                ((onehot - p) / n, "a sign: softmax minus the one-hot targets"),
                (p / n, "subtract 1 at each row's target class"))
    got = m.softmax_ce_backward(logits, targets)
    compare("softmax_ce_backward", f"dL/dlogits for {n} rows of {c} classes", got, d,
            mistakes if n > 1 else mistakes[1:])


def _check_softmax_ce(m: Any) -> None:
    run(m, _softmax_ce_trial, [(4, 3), (8, 5), (1, 2), (6, 27)], seed=5,
        shapes=lambda st, hnp: st.tuples(st.integers(1, 8), st.integers(2, 10)))


EXERCISES = [
    Exercise(1, "scalar_backward", "the backward of +, * and tanh (micrograd)", SCALAR,
             solved(SCALAR, {"add_backward": "    return g, g",
                                "mul_backward": "    return g * b, g * a",
                                "tanh_backward": "    t = math.tanh(x)\n    return g * (1 - t * t)"}),
             ("d(a*b)/da is b: each input's gradient is g times the other input.",
              "tanh's derivative is 1 - tanh(x)^2: compute t = math.tanh(x) first."), _check_scalar),
    Exercise(2, "pow_exp", "the backward of x ** n and exp(x)", POWER,
             solved(POWER, {"pow_backward": "    return g * n * x ** (n - 1)",
                               "exp_backward": "    return g * np.exp(x)"}),
             ("d(x^n)/dx = n x^(n-1); multiply by g (the chain rule).", "exp is its own derivative."), _check_power),
    Exercise(3, "sum_to", "undoing broadcasting (sum_to)", SUM_TO,
             solved(SUM_TO, {"sum_to": "    lead = g.ndim - len(shape)\n"
                                          "    g = g.sum(axis=tuple(range(lead)))\n"
                                          "    axes = tuple(i for i, n in enumerate(shape)\n"
                                          "                 if n == 1 and g.shape[i] != 1)\n"
                                          "    return g.sum(axis=axes, keepdims=True)"}),
             ("First sum over the g.ndim - len(shape) leading axes that numpy added.",
              "Then sum over each axis where shape has 1, with keepdims=True."), _check_sum_to),
    Exercise(4, "matmul_backward", "matmul's backward", MATMUL,
             solved(MATMUL, {"matmul_backward": "    return g @ B.T, A.T @ g"}),
             ("dL/dA has A's shape (m, k): g is (m, n) and B is (k, n), so g @ B.T.",
              "dL/dB has B's shape (k, n): A.T is (k, m) and g is (m, n)."), _check_matmul),
    Exercise(5, "softmax_ce_backward", "softmax with cross-entropy's backward in one expression", SOFTMAX_CE,
             solved(SOFTMAX_CE, {"softmax_ce_backward":
                                    "    p = np.exp(logits - logits.max(axis=1, keepdims=True))\n"
                                    "    p /= p.sum(axis=1, keepdims=True)\n"
                                    "    p[np.arange(len(targets)), targets] -= 1\n"
                                    "    return p / len(targets)"}),
             ("The gradient of one row's loss is softmax(row) with 1 subtracted at the target class.",
              "The loss is a mean over N rows: each row's gradient is divided by N."), _check_softmax_ce),
]
