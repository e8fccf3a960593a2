"""The table, part 3: reductions (sum, prod, max) and running totals (cumsum) along axes.

g: the gradient arriving at the output; out: the forward's output.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .core import (
    Op,
    Refused,
    along,
    axes_of,
    cumprod,
    cumsum,
    data,
    entry,
    expand,
    keepdims_shape,
    no_gradient,
    scatter,
    select,
)


def _shifted(m: Any, s: int) -> Any:
    """m moved s places along its last axis, with 1s in the first s places: (1, ..., 1, m[0], ..., m[n-s-1])."""
    n = m.shape[-1]
    head = (np.arange(n) < s).astype(data(m).dtype)
    return scatter(m[..., :max(n - s, 0)], (Ellipsis, slice(s, None)), m.shape) + head


def _products_before(m: Any) -> Any:
    """For each place along the last axis, the product of the numbers before it (1 for the first): a scan in
    log2(n) rounds of products (Hillis and Steele's), so no division (exact at zeros, no overflow or underflow
    that the answer does not have) and O(n log n) memory."""
    out, s = _shifted(m, 1), 1
    while s < m.shape[-1]:
        out, s = out * _shifted(out, s), 2 * s
    return out


def _prod_rule(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    # Each element's derivative is the product of the others in its group: the products before it times the
    # products after it, with the reduced axes moved last and flattened. Only products, so it is exact at zeros
    # and where the whole product under- or overflows, at every order (it works on Values too).
    if x.ndim == 0:
        return g.reshape(())
    reduced = list(range(x.ndim)) if axis is None else sorted(set(axes_of(axis, x.ndim)))
    order = [i for i in range(x.ndim) if i not in reduced] + reduced
    moved = x.transpose(tuple(order))
    kept = moved.shape[:x.ndim - len(reduced)]
    rows = moved.reshape(kept + (math.prod(moved.shape[len(kept):]),))
    after = _products_before(rows[..., ::-1])[..., ::-1]
    others = (_products_before(rows) * after).reshape(moved.shape).transpose(tuple(int(i) for i in np.argsort(order)))
    return g.reshape(keepdims_shape(x.shape, axis)) * others


def _sum_rule(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    if axis is not None and not keepdims:  # put the summed axes back as size 1, then spread g over them
        g = g.reshape(keepdims_shape(x.shape, axis))
    return expand(g, x.shape)


def _laid_out_as(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """a's numbers in like's memory order (like's shape): numpy's elementwise loops are slow when the operands'
    orders differ (a pooling layer's image is channels last after a convolution, its gradient is not)."""
    out = np.empty_like(like)
    out[...] = a
    return out


def _max_rule(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    # Ties split the gradient evenly between the maxima (as PyTorch's amax does); the others get 0 even where g is
    # NaN or inf (as PyTorch's max over a dim and its max-pool, which pick; amax multiplies by its mask).
    keep = keepdims_shape(x.shape, axis)
    winners = data(x) == data(out).reshape(keep)
    if np.isnan(data(out)).any():  # numpy's max is NaN where the group holds one: the NaN wins (PyTorch's max-pool)
        winners |= np.isnan(data(x)) & np.isnan(data(out)).reshape(keep)
    if type(g) is np.ndarray:  # g laid out in memory as out is (as x is): the product below is then 5-8x faster
        g = _laid_out_as(g, out)
    if np.count_nonzero(winners) != data(out).size:  # ties (a relu's zeros): g shared, divided at out's size
        g = g / winners.sum(axis=axis, keepdims=keepdims)
    return select(winners, g.reshape(keep))  # chosen: a NaN in g stays out of the others (PyTorch's max(dim), pools)


def _running(fn: Any, x: np.ndarray, axis: Any) -> np.ndarray:
    """numpy's cumsum or cumprod, but a 0-d x keeps its shape (PyTorch's; numpy makes it 1-D)."""
    out = fn(x, axis=axis)
    return out.reshape(()) if x.ndim == 0 else out


def _cumsum_rule(g: Any, out: Any, x: Any, axis: Any) -> Any:
    # Each x[i] reaches every out[j] with j >= i: its gradient is the sum of g from i to the end, which is the
    # cumulative sum of g reversed, reversed back. With axis None numpy flattened x first: g is 1-D.
    if x.ndim == 0:  # a 0-d value is its own running total
        return g
    ax = 0 if axis is None else operator.index(axis) % x.ndim
    back = g[along(g.ndim, ax, slice(None, None, -1))]
    summed = cumsum(back, ax)
    return summed[along(g.ndim, ax, slice(None, None, -1))].reshape(x.shape)


def _cumprod_rule(g: Any, out: Any, x: Any, axis: Any) -> Any:
    # out[j] = x[0] ... x[j], so x[i] reaches every out[j] with j >= i through the product of the others up to j:
    # (the product of x before i) * (the product of x[i+1 .. j]). With the axis last, between[i, j] is the running
    # product of a row that is 1 up to i and x after it. Only products, so it is exact at zeros (out / x would be
    # NaN there), at every order; n x n numbers per row along the axis.
    shape = x.shape
    if x.ndim == 0:  # a 0-d value is its own running product
        return g
    if axis is None:  # numpy flattened x first: g is 1-D
        x, ax = x.reshape(-1), 0
    else:
        ax = operator.index(axis) % x.ndim
    xm, gm = x.swapaxes(ax, -1), g.swapaxes(ax, -1)
    n = xm.shape[-1]
    ones_then_x = scatter(xm, (Ellipsis, slice(1, None)), xm.shape[:-1] + (n + 1,)) + (np.arange(n + 1) == 0)
    j, i = np.meshgrid(np.arange(n), np.arange(n))
    rows = ones_then_x[..., np.where(j > i, j + 1, 0)]  # (..., i, j): x[j] for j > i, else 1 (picked, not masked)
    between = cumprod(rows, -1)  # (..., i, j): x[i+1] ... x[j] for j > i, else 1
    reached = gm.reshape(gm.shape[:-1] + (1, n)) * between * (j >= i)  # (..., i, j): g[j] for j >= i
    before = _shifted(cumprod(xm, -1), 1)  # x[0] ... x[i-1]
    return (before * reached.sum(axis=-1)).swapaxes(-1, ax).reshape(shape)


def _finite_max(x: np.ndarray, axis: Any, posinf: bool = False) -> np.ndarray:
    """The max over axis (keepdims) to shift by before exp: 0 where it is -inf, NaN or the axis is empty, so that
    the shift never makes -inf - -inf. Where it is +inf: 0 as well for logsumexp (which is then +inf, as PyTorch's),
    or with posinf +inf itself, so that softmax's inf - inf makes the whole row NaN, as PyTorch's."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m) | (posinf & (m == np.inf)), m, 0.0).astype(x.dtype, copy=False)


def _normalised(x: Any, dims: int, eps: float) -> tuple[Any, Any]:
    """(x - mean) / sqrt(var + eps) and 1 / sqrt(var + eps) over x's last `dims` axes (the biased variance), in a
    few passes; arithmetic and .mean only, so the same lines run on arrays and on Values (create_graph)."""
    axes = tuple(range(-dims, 0))
    d = x - x.mean(axis=axes, keepdims=True)
    rstd = ((d * d).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return d * rstd, rstd


def _layer_norm(x: np.ndarray, weight: np.ndarray, dims: int = 1, eps: float = 1e-5) -> np.ndarray:
    if not 0 < dims <= np.ndim(x) or np.shape(weight) != np.shape(x)[np.ndim(x) - dims:]:
        raise ValueError(f"weight of shape {np.shape(weight)} must be the last {dims} axes of the input, "
                         f"shape {np.shape(x)}")
    e = np.asarray(eps) if not isinstance(eps, str) else np.asarray(None)
    if e.ndim or e.dtype.kind not in "fiu" or not e >= 0:  # a number, a numpy scalar or a 0-d array
        raise ValueError(f"eps must be a number >= 0, got {eps!r}")
    xhat, _ = _normalised(x, dims, float(eps))
    return xhat * weight


def _layer_norm_rule(g: Any, out: Any, x: Any, weight: Any, dims: int, eps: float) -> tuple[Any, Any]:
    # xhat = (x - mean) * rstd; with dxhat = g * weight (per example, over its normalised axes):
    # dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)); dweight = g * xhat summed over the examples.
    axes = tuple(range(-dims, 0))
    xhat, rstd = _normalised(x, dims, float(eps))
    dxhat = g * weight
    dx = (dxhat - dxhat.mean(axis=axes, keepdims=True) - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)) * rstd
    return dx, g * xhat  # the engine sums dweight over the leading axes, as for any broadcast input


def _softmax(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    e = x - _finite_max(x, axis, posinf=True)  # a fresh array, made into the probabilities in place
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _softmax_rule(g: Any, out: Any, x: Any, axis: Any) -> Any:
    # dx = y (g - sum(g y)) over the axis, y the output: arithmetic and .sum, so it runs on Values too
    if type(g) is np.ndarray and type(out) is np.ndarray:
        gy = g * out
        gy -= out * gy.sum(axis=axis, keepdims=True)
        return gy
    gy = g * out
    return gy - out * gy.sum(axis=axis, keepdims=True)


def _masked_softmax(x: np.ndarray, mask: Any, axis: Any = -1) -> np.ndarray:
    allowed = np.asarray(mask) != 0  # the mask arrives as the engine passes constants: booleans as 0.0 and 1.0
    try:
        fits = np.broadcast_shapes(allowed.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise Refused(f"masked_softmax: the mask of shape {allowed.shape} does not broadcast to x's shape "
                         f"{x.shape}")
    if np.isfinite(x).all():  # then adding 0 or -inf forbids (one pass, where np.where over x is several times slower)
        e = x + np.where(allowed, 0.0, -np.inf).astype(x.dtype)
    else:  # +inf or NaN where the mask forbids must not count: chosen out
        e = np.where(allowed, x, np.array(-np.inf, x.dtype))
    e -= _finite_max(e, axis, posinf=True)
    np.exp(e, out=e)
    total = e.sum(axis=axis, keepdims=True)
    total[total == 0] = np.inf  # a row with nothing allowed (or only -inf): 0 / inf, so it stays 0
    e /= total
    return e


def _masked_softmax_rule(g: Any, out: Any, x: Any, mask: Any, axis: Any) -> Any:
    # dx = y (g - sum(g y)), 0 where the mask forbids (y is 0 there) and in a row with one place allowed (y is 1
    # there whatever x is: g - g). With g finite that is what the formula gives; a NaN or inf in g where the output
    # does not depend on x (a forbidden place, a row with one place) is chosen out, so it stays out of the others.
    if type(g) is np.ndarray and type(out) is np.ndarray and np.isfinite(g).all():
        gy = g * out
        gy -= out * gy.sum(axis=axis, keepdims=True)
        return gy
    allowed = np.asarray(data(mask)) != 0
    shape, ax = x.shape, operator.index(axis) % x.ndim
    a = allowed.reshape((1,) * (len(shape) - allowed.ndim) + allowed.shape)
    per_row = a.sum(axis=ax, keepdims=True) if a.shape[ax] != 1 else a * shape[ax]  # places allowed in each row
    keep = allowed & (per_row > 1)
    gy = select(keep, g * out)
    return select(keep, gy - out * gy.sum(axis=axis, keepdims=True))


# Not in the table: softmax's shift is a constant of the graph (softmax does not change when every input moves by
# the same amount), run by an op without recording so that it is part of the graph a replay recomputes.
SHIFT = Op("finite_max", _finite_max, ())

ENTRIES = [
    # name     forward                                               (backward rule, its formula)
    entry("sum",     lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims),
                                   (_sum_rule,                                              "every element gets g"),
        doc="Sum: f(x) = sum of x over axis", cases="reduction"),
    entry("cumsum",  lambda x, axis=None: _running(np.cumsum, x, axis),
                                   (_cumsum_rule,                                           "g summed from i on"),
        doc="Cumulative sum: f(x)[i] = x[0] + ... + x[i] along axis (of the flattened x if axis is None; a 0-d x "
            "keeps its shape, as PyTorch's)",
        cases="cumulative"),
    entry("cumprod", lambda x, axis=None: _running(np.cumprod, x, axis),
                                   (_cumprod_rule,                                          "products of the others"),
        doc="Cumulative product: f(x)[i] = x[0] * ... * x[i] along axis (of the flattened x if axis is None; a 0-d "
            "x keeps its shape, as PyTorch's)",
        cases="cumulative"),
    entry("prod",    lambda x, axis=None, keepdims=False: x.prod(axis=axis, keepdims=keepdims),
                                   (_prod_rule,                                             "product of the others"),
        doc="Product: f(x) = product of x over axis (exact at zeros: each gets the product of the others)",
        cases="reduction", special=((0.0, 1.0, 2.0),)),
    entry("layer_norm", _layer_norm,
          joint=(_layer_norm_rule, ("rstd (g w - mean(g w) - xhat mean(g w xhat))", "g xhat, summed")),
          doc="Layer normalisation: f(x, w) = (x - mean) / sqrt(var + eps) * w, the mean and the biased variance over "
              "x's last `dims` axes (w of their shape), as PyTorch's F.layer_norm without its bias",
          arity=2, cases="layer_norm", method=False),
    entry("softmax", _softmax,       (_softmax_rule,                                          "y (g - sum(g y))"),
        doc="Softmax: f(x) = e^x / sum(e^x) over axis (shifted by the max, so large logits do not overflow; a -inf "
            "logit gets probability 0, a row of only -inf, or holding +inf or NaN, is NaN, as PyTorch's)",
        cases="softmax"),
    entry("masked_softmax", _masked_softmax,
                                   (_masked_softmax_rule,                                  "y (g - sum(g y)) allowed"),
                                   (no_gradient,                                            "none (a mask)"),
        doc="Masked softmax: softmax over axis of x where mask (an input, broadcast to x) is true, 0 where it is "
            "false; a row with nothing allowed gives 0 and passes no gradient back, as PyTorch's "
            "scaled_dot_product_attention (softmax alone gives NaN there); a NaN upstream where the output cannot "
            "move passes no gradient either (PyTorch's softmax backward sums it into the row)",
        cases="masked_softmax"),
    entry("max",     lambda x, axis=None, keepdims=False: x.max(axis=axis, keepdims=keepdims),
                                   (_max_rule,                                              "g goes to the maxima"),
        doc="Maximum: f(x) = max of x over axis (ties share the gradient equally)", domain="distinct",
        cases="reduction", special=((0.0, 1.0),)),  # arrays of these two numbers: ties
]
