"""The derivative table: every primitive operation, its forward and its backward rules, side by side.

Scope: numpy only. Nothing here knows about the graph; `value.py` records it and runs the rules.

How to read an entry
    Op(name, forward, rules, doc, ...)
    - `forward(*inputs, **params)` is a numpy call on arrays.
    - `rules` has one backward rule per input, with its formula beside it: `rule(g, out, *inputs, **params)`
      returns the gradient for that input, given `g`, the gradient flowing into the output, and `out`,
      the forward's output. (An op with any number of inputs has one rule, `rule(g, out, part=i, **params)`.)
      A rule may return its gradient in the output's (broadcast) shape: the engine sums it back to the
      input's shape in one place (`sum_to` below).
    - The same rule runs on numpy arrays (plain `backward()`, fast, nothing recorded) and on Values
      (`backward(create_graph=True)`, so that gradients can be differentiated again). That is why rules
      use operators and the few two-way helpers below (`exp`, `log`, ...) instead of numpy calls.
    - `domain` names the inputs on which the op is smooth, one per input; the gradient tests draw from it.
    - `draw` names how the tests draw the op's inputs *and parameters* (axes, permutations, indices, bounds):
      a family in `tinygrad_lite.testing.strategies.OP_CASES`, so an op with an `axis` is tested with None,
      negative, tuple and numpy-integer axes without new test code.
    - `special` lists, per input, the points where a convention decides the gradient (0 for relu and abs,
      0 and integers for pow, bounds for clip, ties for max); the tests draw them and compare with PyTorch's
      choice.

Adding a primitive means adding one entry to TABLE: the Value method, the docs and the tests follow.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Rule = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Op:
    name: str
    forward: Callable[..., Any]
    rules: tuple[Rule, ...]
    doc: str
    domain: tuple[str, ...] = ()  # per input: "real", "positive", "nonzero" (away from a kink), "distinct"
    error: str = ""  # message for a shape error, formatted with the input shapes {0}, {1} and the params
    params: dict[str, Any] = field(default_factory=dict)  # keyword parameters and their defaults
    formulas: Any = ()  # each rule's derivative, for people (tl.explain shows them)
    draw: str = "unary"  # how the tests draw inputs and parameters: a family in testing.strategies.OP_CASES
    special: tuple[tuple[float, ...], ...] = ()  # per input: points where a convention decides the gradient
    variadic: bool = False  # any number of inputs (concatenate, stack): rule i is told part=i, not the inputs
    user: bool = False  # a user's Function: exceptions from its forward are the user's own and pass unchanged

    @property
    def arity(self) -> int:
        return len(self.rules)


class _EachPart:
    """The rules (or formulas) of a variadic op: the i-th is the one rule, told part=i. Iterating never ends;
    the engine zips it with the node's inputs."""

    def __init__(self, item: Any, call: bool):
        self.item, self.call = item, call

    def __iter__(self) -> Iterator[Any]:
        if not self.call:
            return itertools.repeat(self.item)
        return (functools.partial(self.item, part=i) for i in itertools.count())


def _op(name: str, forward: Callable[..., Any], *rules: tuple[Rule, str], doc: str,
        domain: str | tuple[str, ...] = "real", error: str = "", draw: str = "unary",
        special: tuple[tuple[float, ...], ...] = (), variadic: bool = False) -> Op:
    n = len(rules)
    signature = [] if isinstance(forward, np.ufunc) else list(inspect.signature(forward).parameters.values())
    params = {p.name: p.default for p in signature if p.kind is p.KEYWORD_ONLY} if variadic else \
        {p.name: p.default for p in signature[n:]}
    doms = (domain,) * n if isinstance(domain, str) else domain
    if variadic:
        (rule, formula), = rules
        return Op(name, forward, _EachPart(rule, True), doc, doms, error, params,  # type: ignore[arg-type]
                  _EachPart(formula, False), draw, special, variadic=True)
    return Op(name, forward, tuple(r for r, _ in rules), doc, doms, error, params, tuple(f for _, f in rules),
              draw, special)


# ---- two-way helpers: numpy on arrays, a recorded primitive on Values ------------------------------

def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic, float, int))


def _two_way(name: str) -> Callable[..., Any]:
    def helper(x: Any, *args: Any, **kwargs: Any) -> Any:
        if _is_array(x):
            return TABLE[name].forward(x, *args, **kwargs)
        return getattr(x, name)(*args, **kwargs)  # a Value: records the op
    helper.__name__ = name
    return helper


exp, log, sigmoid, sin, cos, cumsum, scatter, im2col, col2im = (
    _two_way(n) for n in ("exp", "log", "sigmoid", "sin", "cos", "cumsum", "scatter", "im2col", "col2im"))


def expand(g: Any, shape: tuple[int, ...]) -> Any:
    """g broadcast up to `shape`: a fresh array for arrays, the recorded broadcast_to op for Values."""
    if _is_array(g):
        out = np.empty(shape, g.dtype)
        out[...] = g
        return out
    return g.broadcast_to(shape)


def data(x: Any) -> Any:
    """The numbers behind x, for the parts of a rule that are constant (masks, signs)."""
    return x if _is_array(x) else x.data


def sum_to(g: Any, shape: tuple[int, ...], op_name: str) -> Any:
    """Undo broadcasting: sum g over the axes that numpy broadcast to reach g's shape from `shape`.

    Every op's gradient passes through here once, so no rule has to think about broadcasting. A gradient
    that is not `shape` broadcast (a rule's mistake) is refused at once: it is never reshaped blindly.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)  # axes numpy prepended
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, g.shape[lead:])):
        raise RuntimeError(f"{op_name}: internal error: its backward rule gave a gradient of shape {g.shape}, "
                           f"which cannot be summed to its input's shape {shape}")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def _axes(axis: Any, ndim: int) -> list[int]:
    """`axis` (an int, a numpy integer, or a sequence of them; negative counts from the end) as axes >= 0."""
    return [operator.index(a) % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]


def _keepdims_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """The shape a reduction over `axis` has with keepdims=True."""
    if axis is None or not shape:  # numpy lets a 0-d array be reduced over axis 0
        return (1,) * len(shape)
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# ---- forwards that are more than one numpy call ---------------------------------------------------

def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-x) = e^-log(1 + e^-x); logaddexp(0, -x) = log(1 + e^-x) never overflows.
    return np.exp(-np.logaddexp(0.0, -x))


def _leaky_relu(x: np.ndarray, slope: float = 0.01) -> np.ndarray:
    return np.where(x > 0, x, x * slope)


def _wins(a: Any, b: Any) -> Any:
    """1 where a > b, 1/2 where they tie (PyTorch's split), else 0: which input maximum's gradient goes to. Where
    either is NaN (the result is NaN) both get the whole gradient, as in PyTorch."""
    return (a > b) + 0.5 * (a == b) + (np.isnan(a) | np.isnan(b))


def _sign(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1; 0 at NaN too (PyTorch's sgn), so abs passes no NaN back from a NaN input."""
    return np.sign(np.where(np.isnan(x), 0, x))


def _astype(x: np.ndarray, dtype: Any) -> np.ndarray:
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"a gradient needs a float dtype, got {np.dtype(dtype)}")
    return x.astype(dtype)


def _concatenate(*xs: np.ndarray, axis: int = 0, bounds: tuple[int, ...] = ()) -> np.ndarray:
    return np.concatenate(xs, axis=axis)  # bounds: where each part starts and ends along axis, for backward


def _slab(ndim: int, axis: int, index: Any) -> tuple[Any, ...]:
    """The index that picks `index` (an int or a slice) along `axis` and everything along the other axes."""
    return (slice(None),) * (operator.index(axis) % ndim) + (index,)


def _scatter(x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.result_type(x))
    np.add.at(out, index, x)  # repeated indices accumulate
    return out


_erf_elements = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; Python's is exact to float64


def _erf(x: np.ndarray) -> np.ndarray:
    return np.asarray(_erf_elements(x), dtype=np.result_type(x, np.float32))


def _where(a: np.ndarray, b: np.ndarray, cond: np.ndarray) -> np.ndarray:
    return np.where(cond, a, b)


def _pair(what: str, v: Any, least: int) -> tuple[int, int]:
    """A size given as one whole number or two (rows, columns), checked: (v, v) or the pair."""
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) != 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= least
                                 for n in pair):
        raise ValueError(f"{what} must be a whole number >= {least} or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


def _windows(shape: tuple[int, ...], kernel: Any, stride: Any, padding: Any) -> Any:
    """The kernel, stride and padding as pairs, and the output's height and width, for an (N, C, H, W) shape."""
    if len(shape) != 4:
        raise ValueError(f"needs a 4-d input (batch, channels, height, width), got shape {shape}")
    k, s, p = _pair("kernel", kernel, 1), _pair("stride", stride, 1), _pair("padding", padding, 0)
    size = tuple(shape[2 + i] + 2 * p[i] for i in (0, 1))
    if k[0] > size[0] or k[1] > size[1]:
        raise ValueError(f"the kernel {k} is larger than the padded image {size}")
    return k, s, p, tuple((size[i] - k[i]) // s[i] + 1 for i in (0, 1))


def _im2col(x: np.ndarray, kernel: Any, stride: Any = 1, padding: Any = 0) -> np.ndarray:
    # Every window of the (padded) image as one row: out[n, i, j] is the (kh, kw, C) patch whose top-left
    # corner is at (i * stride, j * stride). Channels last (as TensorFlow's extract_patches orders a patch):
    # each copy then moves C numbers side by side, 4-6 times faster than (C, kh, kw) order.
    (kh, kw), (sh, sw), (ph, pw), _ = _windows(x.shape, kernel, stride, padding)
    n, c, h, w = x.shape
    image = x.transpose(0, 2, 3, 1)  # (N, H, W, C), a view
    if ph or pw:
        image = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
        image[:, ph:ph + h, pw:pw + w] = x.transpose(0, 2, 3, 1)
    win = np.lib.stride_tricks.sliding_window_view(image, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3))  # (N, OH, OW, kh, kw, C)


def _col2im(cols: np.ndarray, shape: tuple[int, ...], kernel: Any, stride: Any = 1, padding: Any = 0) -> np.ndarray:
    # The adjoint of im2col: each window's numbers added back where they came from (windows overlap, so
    # an image pixel gets the sum). One slice per kernel offset (kh * kw of them), never a loop over pixels.
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = _windows(tuple(shape), kernel, stride, padding)
    n, c, h, w = shape
    if cols.shape != (n, oh, ow, kh, kw, c):
        raise ValueError(f"needs windows of shape {(n, oh, ow, kh, kw, c)} for an image of shape {tuple(shape)}, "
                         f"got {cols.shape}")
    out = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=cols.dtype)  # channels last, as in cols
    for i in range(kh):
        for j in range(kw):
            out[:, i:i + sh * oh:sh, j:j + sw * ow:sw] += cols[:, :, :, i, j]
    return out[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)  # (N, C, H, W)


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
    reduced = list(range(x.ndim)) if axis is None else sorted(set(_axes(axis, x.ndim)))
    order = [i for i in range(x.ndim) if i not in reduced] + reduced
    moved = x.transpose(tuple(order))
    kept = moved.shape[:x.ndim - len(reduced)]
    rows = moved.reshape(kept + (math.prod(moved.shape[len(kept):]),))
    after = _products_before(rows[..., ::-1])[..., ::-1]
    others = (_products_before(rows) * after).reshape(moved.shape).transpose(tuple(int(i) for i in np.argsort(order)))
    return g.reshape(_keepdims_shape(x.shape, axis)) * others


def _matmul_2d(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any, Any]:
    """View 1-D operands as a row (a) or a column (b), and g to match: the rules are then 2-D/batched."""
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    batch = out.shape[:out.ndim - (a.ndim > 1) - (b.ndim > 1)]
    return g.reshape(batch + (a2.shape[-2], b2.shape[-1])), a2, b2


def _mT(x: Any) -> Any:
    """Swap the last two axes (the matrix transpose of a batch)."""
    return x.T if x.ndim == 2 else x.transpose(tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


def _matmul_da(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == b.ndim == 2:
        return g @ b.T  # (m, n) @ (n, k) -> (m, k)
    g2, _, b2 = _matmul_2d(g, out, a, b)
    da = g2 @ _mT(b2)  # (..., m, n) @ (..., n, k) -> (..., m, k)
    return da.reshape(da.shape[:-2] + a.shape) if a.ndim == 1 else da


def _matmul_db(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == b.ndim == 2:
        return a.T @ g  # (k, m) @ (m, n) -> (k, n)
    g2, a2, _ = _matmul_2d(g, out, a, b)
    db = _mT(a2) @ g2  # (..., k, m) @ (..., m, n) -> (..., k, n)
    return db.reshape(db.shape[:-1]) if b.ndim == 1 else db


def _sum_rule(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    if axis is not None and not keepdims:  # put the summed axes back as size 1, then spread g over them
        g = g.reshape(_keepdims_shape(x.shape, axis))
    return expand(g, x.shape)


def _laid_out_as(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """a's numbers in like's memory order (like's shape): numpy's elementwise loops are slow when the operands'
    orders differ (a pooling layer's image is channels last after a convolution, its gradient is not)."""
    out = np.empty_like(like)
    out[...] = a
    return out


def _max_rule(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    # Ties split the gradient evenly between the maxima (as PyTorch's amax does).
    keep = _keepdims_shape(x.shape, axis)
    winners = data(x) == data(out).reshape(keep)
    if np.isnan(data(out)).any():  # numpy's max is NaN where the group holds one: the NaN wins (PyTorch's max-pool)
        winners |= np.isnan(data(x)) & np.isnan(data(out)).reshape(keep)
    if type(g) is np.ndarray:  # g laid out in memory as out is (as x is): the product below is then 5-8x faster
        g = _laid_out_as(g, out)
    if np.count_nonzero(winners) != data(out).size:  # ties (a relu's zeros): g shared, divided at out's size
        g = g / winners.sum(axis=axis, keepdims=keepdims)
    return g.reshape(keep) * winners


def _clip_rule(g: Any, out: Any, x: Any, lo: Any, hi: Any) -> Any:
    inside = (data(x) >= (-np.inf if lo is None else lo)) & (data(x) <= (np.inf if hi is None else hi))
    return g * inside


def _transpose_rule(g: Any, out: Any, x: Any, axes: Any) -> Any:
    # The inverse permutation; axes are made non-negative first (argsort of (-1, 0) would be (0, 1), wrong).
    return g.transpose(None if axes is None else tuple(int(i) for i in np.argsort(_axes(axes, x.ndim))))


def _cumsum_rule(g: Any, out: Any, x: Any, axis: Any) -> Any:
    # Each x[i] reaches every out[j] with j >= i: its gradient is the sum of g from i to the end, which is the
    # cumulative sum of g reversed, reversed back. With axis None numpy flattened x first: g is 1-D.
    ax = 0 if axis is None else operator.index(axis) % x.ndim
    back = g[_slab(g.ndim, ax, slice(None, None, -1))]
    summed = cumsum(back, ax)
    return summed[_slab(g.ndim, ax, slice(None, None, -1))].reshape(x.shape)


def _pow_da(g: Any, out: Any, a: Any, b: Any) -> Any:
    # b a^(b-1), and 0 wherever b = 0, for every a (PyTorch's value; 0 * a^-1 would be NaN at a = 0 and
    # overflow near it): there the exponent becomes 0, so 0 * a^0 = 0. Second derivatives through exactly
    # b = 0 are then a convention too (d2/da db gives 1 there; PyTorch gives 0 or NaN).
    return g * b * a ** (b - 1 + (data(b) == 0))


def _pow_db(g: Any, out: Any, a: Any, b: Any) -> Any:
    # a^b log(a), and 0 where a = 0 and b >= 0 (PyTorch's value, where a^b log(a) would be NaN or -inf):
    # there log gets 1 instead of 0.
    return g * out * log(a + ((data(a) == 0) & (data(b) >= 0)))


# ---- the table --------------------------------------------------------------------------------------
# g: the gradient arriving at the output; out: the forward's output. Rules return the output's shape.

BROADCAST = "{name}: shapes {0} and {1} cannot be broadcast together"

_ENTRIES = [
    #   name       forward         (backward rule for each input,                            its formula)
    _op("add",     np.add,         (lambda g, out, a, b: g,                                 "d(a+b)/da = 1"),
                                   (lambda g, out, a, b: g,                                 "d(a+b)/db = 1"),
        doc="Add: f(a, b) = a + b", error=BROADCAST, draw="broadcast"),
    _op("sub",     np.subtract,    (lambda g, out, a, b: g,                                 "d(a-b)/da = 1"),
                                   (lambda g, out, a, b: -g,                                "d(a-b)/db = -1"),
        doc="Subtract: f(a, b) = a - b", error=BROADCAST, draw="broadcast"),
    _op("mul",     np.multiply,    (lambda g, out, a, b: g * b,                             "d(a*b)/da = b"),
                                   (lambda g, out, a, b: g * a,                             "d(a*b)/db = a"),
        doc="Multiply: f(a, b) = a * b", error=BROADCAST, draw="broadcast"),
    _op("div",     np.divide,      (lambda g, out, a, b: g / b,                             "d(a/b)/da = 1/b"),
                                   (lambda g, out, a, b: -g * out / b,                      "d(a/b)/db = -a/b^2"),
        doc="Divide: f(a, b) = a / b", domain=("real", "nonzero"), error=BROADCAST, draw="broadcast"),
    _op("pow",     np.power,       (_pow_da,                                                "d(a^b)/da = b a^(b-1)"),
                                   (_pow_db,                                                "d(a^b)/db = a^b log(a)"),
        doc="Power: f(a, b) = a ** b", domain=("positive", "nonzero"), error=BROADCAST, draw="pow",
        special=((0.0, 1.0, 2.0, -1.0, -2.0), (0.0, 1.0, 2.0, 3.0, -1.0, 0.5))),
    _op("matmul",  np.matmul,      (_matmul_da,                                             "dL/dA = g @ B^T"),
                                   (_matmul_db,                                             "dL/dB = A^T @ g"),
        doc="Matrix product: f(A, B) = A @ B (numpy semantics: 1-D, 2-D, batched)",
        error="{name}: shapes {0} and {1} do not align", draw="matmul"),
    _op("neg",     np.negative,    (lambda g, out, x: -g,                                   "d(-x)/dx = -1"),
        doc="Negate: f(x) = -x"),
    _op("exp",     np.exp,         (lambda g, out, x: g * out,                              "d(e^x)/dx = e^x"),
        doc="Exponential: f(x) = e^x"),
    _op("log",     np.log,         (lambda g, out, x: g / x,                                "d(log x)/dx = 1/x"),
        doc="Natural logarithm: f(x) = log(x)", domain="positive"),
    _op("tanh",    np.tanh,        (lambda g, out, x: g * (1 - out * out),                  "dtanh(x)/dx = 1 - tanh^2"),
        doc="Hyperbolic tangent: f(x) = tanh(x)"),
    _op("sigmoid", _sigmoid,       (lambda g, out, x: g * out * (1 - out),                  "ds/dx = s (1 - s)"),
        doc="Sigmoid: f(x) = 1 / (1 + e^-x), computed without overflow"),
    _op("sin",     np.sin,         (lambda g, out, x: g * cos(x),                           "d sin(x)/dx = cos(x)"),
        doc="Sine: f(x) = sin(x)"),
    _op("cos",     np.cos,         (lambda g, out, x: -g * sin(x),                          "d cos(x)/dx = -sin(x)"),
        doc="Cosine: f(x) = cos(x)"),
    _op("log1p",   np.log1p,       (lambda g, out, x: g / (1 + x),                          "d/dx = 1 / (1 + x)"),
        doc="Log of one plus: f(x) = log(1 + x), exact for small x", domain="positive"),
    _op("expm1",   np.expm1,       (lambda g, out, x: g * (out + 1),                        "d/dx = e^x"),
        doc="Exponential minus one: f(x) = e^x - 1, exact for small x"),
    _op("softplus", lambda x: np.logaddexp(0.0, x),
                                   (lambda g, out, x: g * sigmoid(x),                       "d/dx = sigmoid(x)"),
        doc="Softplus: f(x) = log(1 + e^x), computed without overflow"),
    _op("erf",     _erf,           (lambda g, out, x: g * (2 / math.sqrt(math.pi)) * exp(-x * x),
                                                                                            "2/sqrt(pi) e^(-x^2)"),
        doc="Error function: f(x) = 2/sqrt(pi) * integral of e^(-t^2) from 0 to x"),
    _op("relu",    lambda x: np.maximum(x, 0),
                                   (lambda g, out, x: g * ~(data(x) <= 0),                  "1 where x > 0, else 0"),
        doc="Rectified linear unit: f(x) = max(x, 0)", domain="nonzero", special=((0.0,),)),
    _op("leaky_relu", _leaky_relu,  (lambda g, out, x, slope: g * np.where(data(x) > 0, 1.0, slope),
                                                                                            "1 if x > 0, else slope"),
        doc="Leaky ReLU: f(x) = x where x > 0, else slope * x", domain="nonzero", draw="leaky_relu",
        special=((0.0,),)),
    _op("maximum", np.maximum,     (lambda g, out, a, b: g * _wins(data(a), data(b)),       "1 if a > b, 1/2 if a = b"),
                                   (lambda g, out, a, b: g * _wins(data(b), data(a)),       "1 if b > a, 1/2 if a = b"),
        doc="Elementwise maximum: f(a, b) = max(a, b) (a tie shares the gradient equally)",
        domain=("distinct", "between"), error=BROADCAST, draw="broadcast", special=((0.0, 1.0), (0.0, 1.0))),
    _op("where",   _where,         (lambda g, out, a, b, cond: g * cond.astype(g.dtype),    "1 where cond, else 0"),
                                   (lambda g, out, a, b, cond: g * (~cond).astype(g.dtype), "0 where cond, else 1"),
        doc="Choose: f(a, b) = a where cond is true, else b (cond: booleans, broadcast with a and b)",
        error="{name}: shapes {0} and {1} and the condition's shape {cond.shape} cannot be broadcast together",
        draw="where"),
    _op("abs",     np.abs,         (lambda g, out, x: g * _sign(data(x)),                   "d|x|/dx = sign(x)"),
        doc="Absolute value: f(x) = |x|", domain="nonzero", special=((0.0,),)),
    _op("clip",    lambda x, lo=None, hi=None: np.clip(x, lo, hi),
                                   (_clip_rule,                                             "1 in [lo, hi], else 0"),
        doc="Clip: f(x) = min(max(x, lo), hi)", domain="off_grid", draw="clip",
        special=((-1.0, -0.5, 0.0, 0.5, 1.0),)),
    _op("sum",     lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims),
                                   (_sum_rule,                                              "every element gets g"),
        doc="Sum: f(x) = sum of x over axis", draw="reduction"),
    _op("cumsum",  lambda x, axis=None: np.cumsum(x, axis=axis),
                                   (_cumsum_rule,                                           "g summed from i on"),
        doc="Cumulative sum: f(x)[i] = x[0] + ... + x[i] along axis (of the flattened x if axis is None)",
        draw="cumulative"),
    _op("prod",    lambda x, axis=None, keepdims=False: x.prod(axis=axis, keepdims=keepdims),
                                   (_prod_rule,                                             "product of the others"),
        doc="Product: f(x) = product of x over axis (exact at zeros: each gets the product of the others)",
        draw="reduction", special=((0.0, 1.0, 2.0),)),
    _op("max",     lambda x, axis=None, keepdims=False: x.max(axis=axis, keepdims=keepdims),
                                   (_max_rule,                                              "g goes to the maxima"),
        doc="Maximum: f(x) = max of x over axis (ties share the gradient equally)", domain="distinct",
        draw="reduction", special=((0.0, 1.0),)),  # arrays of these two numbers: ties
    _op("reshape", lambda x, shape: x.reshape(shape),
                                   (lambda g, out, x, shape: g.reshape(x.shape),            "g, in x's shape"),
        doc="Reshape: same numbers, new shape", error="{name}: cannot reshape shape {0} into {shape}",
        draw="reshape"),
    _op("transpose", lambda x, axes=None: x.transpose(axes),
                                   (_transpose_rule,                                        "g, axes put back"),
        doc="Transpose: permute the axes (reverse them by default)", draw="transpose",
        error="{name}: axes={axes} is not a permutation of all the axes of shape {0}: transpose takes every axis in "
              "its new order (numpy's convention); to swap two axes, as PyTorch's transpose(1, 2), use swapaxes(1, 2)"),
    _op("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                                   (lambda g, out, x, shape: g,                             "g, summed back to x"),
        doc="Broadcast: repeat x along new or size-1 axes to `shape`",
        error="{name}: cannot broadcast shape {0} to {shape}", draw="broadcast_to"),
    _op("getitem", lambda x, index: x[index],
                                   (lambda g, out, x, index: scatter(g, index, x.shape),    "g back to x[index]"),
        doc="Index: f(x) = x[index] (slices, ints, integer arrays, boolean masks)", draw="getitem"),
    _op("scatter", _scatter,       (lambda g, out, x, index, shape: g[index],               "g[index]"),
        doc="Scatter-add: f(x) = zeros(shape) with x added at index (repeats accumulate)", draw="scatter"),
    _op("astype",  _astype,        (lambda g, out, x, dtype: g.astype(x.dtype),             "g, in x's dtype"),
        doc="Cast: f(x) = x as another float dtype", draw="astype"),
    _op("im2col",  _im2col,        (lambda g, out, x, kernel, stride, padding:
                                    col2im(g, x.shape, kernel, stride, padding),
                                                                                            "g added back (col2im)"),
        doc="Windows: every kernel-sized patch of an (N, C, H, W) image as a row, shape (N, OH, OW, kh, kw, C)",
        draw="im2col"),
    _op("col2im",  _col2im,        (lambda g, out, x, shape, kernel, stride, padding:
                                    im2col(g, kernel, stride, padding),
                                                                                            "g's windows (im2col)"),
        doc="Fold: windows of shape (N, OH, OW, kh, kw, C) added back into an image of `shape` (im2col's adjoint)",
        draw="col2im"),
    _op("concatenate", _concatenate,
                                   (lambda g, out, axis, bounds, part:
                                    g[_slab(out.ndim, axis, slice(bounds[part], bounds[part + 1]))],
                                                                                            "g, the part's slice"),
        doc="Concatenate: join the inputs along an existing axis", draw="concatenate", variadic=True),
    _op("stack",   lambda *xs, axis=0: np.stack(xs, axis=axis),
                                   (lambda g, out, axis, part: g[_slab(out.ndim, axis, part)],
                                                                                            "g, the part's slice"),
        doc="Stack: join same-shape inputs along a new axis", draw="stack", variadic=True),
]

TABLE: dict[str, Op] = {op.name: op for op in _ENTRIES}


def markdown_table() -> str:
    """The primitives as a Markdown table (docs/ops.md is this, regenerated by docs/make_ops_table.py)."""
    rows = ["| primitive | what it computes | parameters | inputs' safe domain in the tests | points where "
            "PyTorch's convention decides |", "|---|---|---|---|---|"]
    for op in TABLE.values():
        params = ", ".join(f"{k}={v!r}" if v is not inspect.Parameter.empty else k for k, v in op.params.items()
                           if k != "bounds")
        special = "; ".join(", ".join(f"{p:g}" for p in points) for points in op.special) or "-"
        rows.append(f"| `{op.name}` | {op.doc} | {params or '-'} | {', '.join(op.domain)} | {special} |")
    return "\n".join(rows)
