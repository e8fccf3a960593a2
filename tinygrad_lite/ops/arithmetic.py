"""The table, part 1: arithmetic on two inputs (broadcast together), the matrix product, and choosing.

g: the gradient arriving at the output; out: the forward's output. Rules return the output's shape
(the engine sums broadcasting back).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import BROADCAST, data, entry, exp, log, select


def _pow_da(g: Any, out: Any, a: Any, b: Any) -> Any:
    # b a^(b-1), and 0 wherever b = 0, for every a (PyTorch's value; 0 * a^-1 would be NaN at a = 0 and
    # overflow near it): there the exponent becomes 0, so 0 * a^0 = 0. Second derivatives through exactly
    # b = 0 are then a convention too (d2/da db gives 1 there; PyTorch gives 0 or NaN).
    if type(b) is float and b != 0:  # a constant exponent: the same numbers in fewer passes (x ** 2: a^1 is a)
        return g * b * a if b == 2 else g * b * a ** (b - 1)
    return g * b * a ** (b - 1 + (data(b) == 0))


def _pow_db(g: Any, out: Any, a: Any, b: Any) -> Any:
    # a^b log(a), and 0 where a = 0 and b >= 0 (PyTorch's value, where a^b log(a) would be NaN or -inf):
    # there log gets 1 instead of 0.
    return g * out * log(a + ((data(a) == 0) & (data(b) >= 0)))


def _matmul_2d(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any, Any]:
    """View 1-D operands as a row (a) or a column (b), and g to match: the rules are then 2-D/batched."""
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    batch = out.shape[:out.ndim - (a.ndim > 1) - (b.ndim > 1)]
    return g.reshape(batch + (a2.shape[-2], b2.shape[-1])), a2, b2


def _mT(x: Any) -> Any:
    """Swap the last two axes (the matrix transpose of a batch)."""
    return x.T if x.ndim == 2 else x.transpose(tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


def _matmul(a: Any, b: Any) -> Any:
    """np.matmul; a batch of rows times one matrix ((..., m, k) @ (k, n), a Linear layer's case) as one 2-D
    product into the result, which numpy would otherwise make one (m, k) @ (k, n) product at a time."""
    if isinstance(a, np.ndarray) and a.ndim > 2 and np.ndim(b) == 2 and a.shape[-1] == b.shape[0] and \
            a.flags.c_contiguous:
        out = np.empty(a.shape[:-1] + b.shape[1:], np.result_type(a, b))
        np.matmul(a.reshape((-1, b.shape[0])), b, out=out.reshape((-1, b.shape[1])))
        return out
    return np.matmul(a, b)


def _matmul_da(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == b.ndim == 2:
        return g @ b.T  # (m, n) @ (n, k) -> (m, k)
    if b.ndim == 2 and a.ndim > 2:  # (..., m, k) @ (k, n): every row of the batch at once, one matrix product
        return (g.reshape((-1, g.shape[-1])) @ b.T).reshape(a.shape)  # (rows, n) @ (n, k)
    g2, _, b2 = _matmul_2d(g, out, a, b)
    da = g2 @ _mT(b2)  # (..., m, n) @ (..., n, k) -> (..., m, k)
    return da.reshape(da.shape[:-2] + a.shape) if a.ndim == 1 else da


def _matmul_db(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == b.ndim == 2:
        return a.T @ g  # (k, m) @ (m, n) -> (k, n)
    if b.ndim == 2 and a.ndim > 2:  # a weight shared by every row of a batch: its gradient sums over all of them
        return a.reshape((-1, a.shape[-1])).T @ g.reshape((-1, g.shape[-1]))  # (k, rows) @ (rows, n) -> (k, n)
    g2, a2, _ = _matmul_2d(g, out, a, b)
    db = _mT(a2) @ g2  # (..., k, m) @ (..., m, n) -> (..., k, n)
    return db.reshape(db.shape[:-1]) if b.ndim == 1 else db


def _share(g: Any, a: Any, b: Any) -> Any:
    """a's share of maximum's gradient g: all of it where a > b, half where they tie (PyTorch's split), none where
    a < b (chosen out, so that a NaN in g there stays out, as PyTorch's masked_fill). Where either is NaN (the
    result is NaN) both get the whole gradient, as in PyTorch."""
    tie = a == b
    mine = (a > b) | tie | np.isnan(a) | np.isnan(b)
    return select(mine, g * np.where(tie, 0.5, 1.0) if tie.any() else g)


def _atan2_rule(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    # d/da atan2(a, b) = b / (a^2 + b^2), d/db = -a / (a^2 + b^2): one shared factor, so one joint rule
    # (as PyTorch's atan2_backward). At the origin both are 0, as PyTorch's (not 0 / 0), and so are their own
    # derivatives (PyTorch's are NaN there).
    square = a * a + b * b
    origin = data(square) == 0
    shared = g * ~origin / (square + origin)
    return shared * b, -shared * a


def _where(a: np.ndarray, b: np.ndarray, cond: np.ndarray) -> np.ndarray:
    return np.where(cond, a, b)


ENTRIES = [
    # name     forward         (backward rule for each input,                            its formula)
    entry("add", np.add,       (lambda g, out, a, b: g,                                 "d(a+b)/da = 1"),
                               (lambda g, out, a, b: g,                                 "d(a+b)/db = 1"),
          doc="Add: f(a, b) = a + b", error=BROADCAST, cases="broadcast", symbol="+", infix=True),
    entry("sub", np.subtract,  (lambda g, out, a, b: g,                                 "d(a-b)/da = 1"),
                               (lambda g, out, a, b: -g,                                "d(a-b)/db = -1"),
          doc="Subtract: f(a, b) = a - b", error=BROADCAST, cases="broadcast", symbol="-", infix=True),
    entry("mul", np.multiply,  (lambda g, out, a, b: g * b,                             "d(a*b)/da = b"),
                               (lambda g, out, a, b: g * a,                             "d(a*b)/db = a"),
          doc="Multiply: f(a, b) = a * b", error=BROADCAST, cases="broadcast", symbol="*", infix=True),
    entry("div", np.divide,    (lambda g, out, a, b: g / b,                             "d(a/b)/da = 1/b"),
                               (lambda g, out, a, b: -g * out / b,                      "d(a/b)/db = -a/b^2"),
          doc="Divide: f(a, b) = a / b", domain=("real", "nonzero"), error=BROADCAST, cases="broadcast",
          symbol="/", infix=True),
    entry("pow", np.power,     (_pow_da,                                                "d(a^b)/da = b a^(b-1)"),
                               (_pow_db,                                                "d(a^b)/db = a^b log(a)"),
          doc="Power: f(a, b) = a ** b", domain=("positive", "nonzero"), error=BROADCAST, cases="pow",
          special=((0.0, 1.0, 2.0, -1.0, -2.0), (0.0, 1.0, 2.0, 3.0, -1.0, 0.5)), symbol="**", infix=True),
    entry("matmul", _matmul,   (_matmul_da,                                             "dL/dA = g @ B^T"),
                               (_matmul_db,                                             "dL/dB = A^T @ g"),
          doc="Matrix product: f(A, B) = A @ B (numpy semantics: 1-D, 2-D, batched)",
          error="{name}: shapes {0} and {1} do not align", cases="matmul", symbol="@", infix=True),
    entry("neg", np.negative,  (lambda g, out, x: -g,                                   "d(-x)/dx = -1"),
          doc="Negate: f(x) = -x", symbol="-"),
    entry("maximum", np.maximum,
                               (lambda g, out, a, b: _share(g, data(a), data(b)),       "1 if a > b, 1/2 if a = b"),
                               (lambda g, out, a, b: _share(g, data(b), data(a)),       "1 if b > a, 1/2 if a = b"),
          doc="Elementwise maximum: f(a, b) = max(a, b) (a tie shares the gradient equally)",
          domain=("distinct", "between"), error=BROADCAST, cases="broadcast", special=((0.0, 1.0), (0.0, 1.0))),
    entry("logaddexp", np.logaddexp,
                               (lambda g, out, a, b: g / (1 + exp(b - a)),              "e^a / (e^a + e^b)"),
                               (lambda g, out, a, b: g / (1 + exp(a - b)),              "e^b / (e^a + e^b)"),
          doc="Log of a sum of exponentials: f(a, b) = log(e^a + e^b), computed without overflow",
          error=BROADCAST, cases="broadcast"),
    entry("atan2", np.arctan2, joint=(_atan2_rule, ("b / (a^2 + b^2)", "-a / (a^2 + b^2)")), arity=2,
          doc="Angle of the point (b, a): f(a, b) = atan2(a, b), in [-pi, pi]", domain="nonzero", error=BROADCAST,
          cases="broadcast"),
    entry("where", _where,     (lambda g, out, a, b, cond: select(cond, g),             "1 where cond, else 0"),
                               (lambda g, out, a, b, cond: select(~cond, g),            "0 where cond, else 1"),
          doc="Choose: f(a, b) = a where cond is true, else b (cond: booleans, broadcast with a and b)",
          error="{name}: shapes {0} and {1} and the condition's shape {cond.shape} cannot be broadcast together",
          cases="where", hidden=("cond",), method=False),
]
