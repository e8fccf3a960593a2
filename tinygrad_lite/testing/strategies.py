"""Hypothesis strategies for property-testing code built on Value::

    from hypothesis import given
    from tinygrad_lite.testing import gradcheck, strategies as tst

    @given(tst.values(domain="positive"))
    def test_my_log(x):
        assert gradcheck(lambda x: my_log(x), x)

Domains keep inputs where an op is smooth, so that finite differences are meaningful::

    real      [-3, 3]
    small     [-1.2, 1.2]                     (tan, away from its poles at +-pi/2)
    positive  [0.2, 3]                       (log, the base of a power, sqrt)
    nonzero   [-3, -0.2] or [0.2, 3]          (a divisor; abs and relu away from their kink at 0)
    off_grid  [-3, 3] but at least 0.05 from every multiple of 0.5   (clip away from its drawn bounds)
    distinct  multiples of 0.1 in [-3, 3], all different   (max away from ties)
    between   odd multiples of 0.05 in [-3, 3]: never equal to a `distinct` number   (maximum's b)

`op_cases(op)` draws the inputs *and the parameters* of any op in the table (`tl.ops.TABLE`), by the
family its entry names (`ops.about(op).cases`, a key of OP_CASES): axes as None, ints, negative ints, tuples and
numpy integers; transpose permutations with negative entries; reshape targets with -1; indices with
negative steps, repeats and masks; clip bounds with None. `apply_op(op, inputs, params)` calls the op
the way a user would (`x.sum(axis=...)`, `tl.concatenate([...], axis=...)`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .. import ops
from ..value import Value

__all__ = ["DOMAINS", "OP_CASES", "CLIP_BOUNDS", "elements", "shapes", "arrays", "values", "broadcastable_values",
           "matmul_values", "axes", "index", "op_cases", "apply_op"]


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _off_grid(x: float) -> bool:
    return abs(x * 2 - round(x * 2)) >= 0.1  # at least 0.05 from every multiple of 0.5


DOMAINS: dict[str, st.SearchStrategy[float]] = {
    "real": _floats(-3, 3),
    "small": _floats(-1.2, 1.2),
    "positive": _floats(0.2, 3),
    "nonzero": _floats(-3, -0.2) | _floats(0.2, 3),
    "off_grid": _floats(-3, 3).filter(_off_grid),
    "distinct": st.integers(-30, 30).map(lambda k: k / 10),
    "between": st.integers(-30, 29).map(lambda k: (k + 0.5) / 10),
}
CLIP_BOUNDS = (None, *ops.about(ops.TABLE["clip"]).special[0])  # clip's drawn bounds: its special points, or no bound
LEAKY_SLOPES = (0.01, 0.2, 0.0)  # leaky_relu's drawn slopes (PyTorch's gradients at 0 are recorded for these)


def elements(domain: str = "real", special: tuple[float, ...] = ()) -> st.SearchStrategy[float]:
    """Floats from one of the DOMAINS; with `special` points, those too, about one element in four."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}")
    if not special:
        return DOMAINS[domain]
    return st.one_of(DOMAINS[domain], DOMAINS[domain], DOMAINS[domain], st.sampled_from(special))


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[Any]:
    """Array shapes, 0-d (a scalar) included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape: Any = None, domain: str = "real", dtype: Any = np.float64,
           special: tuple[float, ...] = ()) -> st.SearchStrategy[np.ndarray]:
    """ndarrays of a given shape (or a drawn one) with elements from `domain` (and `special` points)."""
    return hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements(domain, special),
                      unique=domain == "distinct" and not special)


def values(shape: Any = None, domain: str = "real", dtype: Any = np.float64,
           requires_grad: bool = True, special: tuple[float, ...] = ()) -> st.SearchStrategy[Value]:
    """Values of a given or drawn shape, elements from `domain` (and `special` points)."""
    return arrays(shape, domain, dtype, special).map(lambda a: Value(a, requires_grad=requires_grad))


@st.composite
def broadcastable_values(draw: Any, domains: tuple[str, ...] = ("real", "real"), dtype: Any = np.float64,
                         max_dims: int = 3) -> tuple[Value, ...]:
    """Values whose shapes broadcast together (numpy's rules), one per domain."""
    bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=len(domains), min_dims=0, max_dims=max_dims, max_side=4))
    return tuple(draw(values(s, d, dtype)) for s, d in zip(bs.input_shapes, domains))


@st.composite
def matmul_values(draw: Any, dtype: Any = np.float64) -> tuple[Value, Value]:
    """Pairs for `a @ b` with numpy's matmul semantics: 1-D operands and broadcast batch axes included."""
    bs = draw(hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4, max_side=4))
    a, b = bs.input_shapes
    return draw(values(a, dtype=dtype)), draw(values(b, dtype=dtype))


# ---- parameters, as a user may pass them ---------------------------------------------------------

_INT_TYPES = st.sampled_from([int, int, np.int64, np.int32])  # Python ints mostly, numpy integers too


def _an_axis(draw: Any, ndim: int, extra: int = 0) -> Any:
    """One axis of ndim (+ extra for a new axis), maybe negative, maybe a numpy integer."""
    a = draw(st.integers(0, ndim + extra - 1))
    return draw(_INT_TYPES)(a - (ndim + extra) if draw(st.booleans()) else a)


@st.composite
def axes(draw: Any, ndim: int) -> Any:
    """A reduction's axis: None, one axis (maybe negative, maybe a numpy integer), or a tuple of distinct
    axes (maybe empty, some negative)."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    kind = draw(st.sampled_from(["none", "one", "tuple"]))
    if kind == "none":
        return None
    if kind == "one":
        return _an_axis(draw, ndim)
    chosen = draw(st.lists(st.integers(0, ndim - 1), max_size=ndim, unique=True))
    return tuple(draw(_INT_TYPES)(a - ndim if draw(st.booleans()) else a) for a in chosen)


def _unary(op: ops.Op) -> st.SearchStrategy[Any]:
    return values(domain=ops.about(op).domain[0]).map(lambda x: ((x,), {}))


def _broadcast(op: ops.Op) -> st.SearchStrategy[Any]:
    return broadcastable_values(domains=ops.about(op).domain).map(lambda xs: (xs, {}))


@st.composite
def _leaky_relu(draw: Any, op: ops.Op) -> Any:
    return (draw(values(domain=ops.about(op).domain[0])),), {"slope": draw(st.sampled_from(LEAKY_SLOPES))}


@st.composite
def _pow(draw: Any, op: ops.Op) -> Any:
    """Both inputs Values in their domains, or a base anywhere (0 and negative integers included) raised to a
    constant exact integer (x ** 0 at x = 0 among them): smooth in the base either way."""
    if draw(st.booleans()):
        return draw(_broadcast(op))
    base = draw(values(domain="real", special=(0.0, 1.0, -1.0, 2.0, -2.0)))
    exponent = Value(float(draw(st.integers(0, 3))), requires_grad=False)
    return (base, exponent), {}


def _matmul(op: ops.Op) -> st.SearchStrategy[Any]:
    return matmul_values().map(lambda xs: (xs, {}))


@st.composite
def _reduction(draw: Any, op: ops.Op) -> Any:
    x = draw(values(domain=ops.about(op).domain[0]))
    return (x,), {"axis": draw(axes(x.ndim)), "keepdims": draw(st.booleans())}


@st.composite
def _cumulative(draw: Any, op: ops.Op) -> Any:
    """One axis (maybe negative, maybe a numpy integer) or None (numpy then works on the flattened array)."""
    x = draw(values(domain=ops.about(op).domain[0]))
    return (x,), {"axis": None if x.ndim == 0 or draw(st.booleans()) else _an_axis(draw, x.ndim)}


@st.composite
def _reshape(draw: Any, op: ops.Op) -> Any:
    x = draw(values())
    targets = [(x.size,), (-1,), x.shape[::-1], (1,) + x.shape, (x.size, 1), (-1, 1)]
    if x.ndim:
        i = draw(st.integers(0, x.ndim - 1))
        targets.append(x.shape[:i] + (-1,) + x.shape[i + 1:])
    return (x,), {"shape": tuple(draw(_INT_TYPES)(n) for n in draw(st.sampled_from(targets)))}


@st.composite
def _transpose(draw: Any, op: ops.Op) -> Any:
    x = draw(values())
    if draw(st.integers(0, 4)) == 0:
        return (x,), {"axes": None}
    perm = draw(st.permutations(range(x.ndim)))
    return (x,), {"axes": tuple(draw(_INT_TYPES)(a - x.ndim if draw(st.booleans()) else a) for a in perm)}


@st.composite
def _broadcast_to(draw: Any, op: ops.Op) -> Any:
    target = draw(shapes(max_dims=3))
    kept = target[draw(st.integers(0, len(target))):]  # x has the trailing axes, some of them size 1
    shape = tuple(1 if draw(st.booleans()) else n for n in kept)
    return (draw(values(shape)),), {"shape": target}


def _slices(n: int) -> st.SearchStrategy[slice]:
    bound = st.none() | st.integers(-n - 1, n + 1)
    return st.builds(slice, bound, bound, st.none() | st.sampled_from([1, 2, -1, -2]))


@st.composite
def index(draw: Any, shape: tuple[int, ...]) -> Any:
    """An index into an array of `shape`: an int (maybe numpy), a slice (negative steps too), an integer
    array with repeats (1-d, or 2-d as an embedding's (batch, time) lookup), a boolean mask, or a tuple of such
    with an Ellipsis."""
    n = shape[0]
    kind = draw(st.sampled_from(["int", "slice", "array", "lookup", "mask", "tuple"]))
    if kind == "int":
        return draw(_INT_TYPES)(draw(st.integers(-n, n - 1)))
    if kind == "slice":
        return draw(_slices(n))
    if kind == "array":  # repeats accumulate in the gradient
        return np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6)))
    if kind == "lookup":
        return draw(hnp.arrays(np.int64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=4),
                               elements=st.integers(-n, n - 1)))
    if kind == "mask":
        return draw(hnp.arrays(bool, shape[:draw(st.integers(1, len(shape)))]))
    first = draw(st.one_of(_slices(n), st.lists(st.integers(0, n - 1), min_size=1, max_size=4).map(np.array)))
    if len(shape) > 1 and draw(st.booleans()):
        return (first, draw(_slices(shape[1])))
    return (first, Ellipsis)


@st.composite
def _getitem(draw: Any, op: ops.Op) -> Any:
    x = draw(values(shapes(min_dims=1)))
    return (x,), {"index": draw(index(x.shape))}


@st.composite
def _scatter(draw: Any, op: ops.Op) -> Any:
    shape = draw(shapes(min_dims=1))
    i = draw(index(shape))
    return (draw(values(np.empty(shape)[i].shape)),), {"index": i, "shape": shape}


@st.composite
def _clip(draw: Any, op: ops.Op) -> Any:
    lo, hi = sorted(draw(st.lists(st.sampled_from(CLIP_BOUNDS[1:]), min_size=2, max_size=2)))
    lo, hi = draw(st.sampled_from([(lo, hi), (None, hi), (lo, None)]))
    return (draw(values(domain=ops.about(op).domain[0])),), {"lo": lo, "hi": hi}


def _astype(op: ops.Op) -> st.SearchStrategy[Any]:
    dtypes = st.sampled_from([np.float64, "float64", np.dtype(np.float64), float, "f8"])
    return st.tuples(values(), dtypes).map(lambda c: ((c[0],), {"dtype": c[1]}))


def _part(draw: Any, shape: tuple[int, ...]) -> Any:
    """A Value to be joined, or now and then a plain array (a constant part)."""
    a = draw(arrays(shape))
    return a if draw(st.integers(0, 4)) == 0 else Value(a)


@st.composite
def _concatenate(draw: Any, op: ops.Op) -> Any:
    shape = list(draw(shapes(min_dims=1)))
    ax = draw(st.integers(0, len(shape) - 1))
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        shape[ax] = draw(st.integers(0, 3))  # a part may be empty along the axis
        parts.append(_part(draw, tuple(shape)))
    if not any(isinstance(p, Value) for p in parts):
        parts[0] = Value(parts[0])
    return tuple(parts), {"axis": draw(_INT_TYPES)(ax - len(shape) if draw(st.booleans()) else ax)}


@st.composite
def _stack(draw: Any, op: ops.Op) -> Any:
    shape = draw(shapes(max_dims=2))
    parts = [_part(draw, shape) for _ in range(draw(st.integers(1, 4)))]
    if not any(isinstance(p, Value) for p in parts):
        parts[0] = Value(parts[0])
    return tuple(parts), {"axis": _an_axis(draw, len(shape), extra=1)}


@st.composite
def _where(draw: Any, op: ops.Op) -> Any:
    """Two Values and a boolean condition whose three shapes broadcast together."""
    bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4))
    a, b, cond = bs.input_shapes
    return (draw(values(a)), draw(values(b))), {"cond": draw(hnp.arrays(bool, cond))}


@st.composite
def _window_params(draw: Any) -> Any:
    """An (N, C, H, W) shape and im2col's kernel, stride and padding: each one number or a (rows, columns)
    pair, maybe numpy integers; the kernel never larger than the padded image."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    kernel = (draw(st.integers(1, shape[2] + 2 * pad[0])), draw(st.integers(1, shape[3] + 2 * pad[1])))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))

    def given(pair: tuple[int, int]) -> Any:
        t = draw(_INT_TYPES)
        return t(pair[0]) if pair[0] == pair[1] and draw(st.booleans()) else (t(pair[0]), t(pair[1]))
    return shape, {"kernel": given(kernel), "stride": given(stride), "padding": given(pad)}


@st.composite
def _im2col(draw: Any, op: ops.Op) -> Any:
    shape, params = draw(_window_params())
    return (draw(values(shape)),), params


@st.composite
def _col2im(draw: Any, op: ops.Op) -> Any:
    shape, params = draw(_window_params())
    (kh, kw), _, _, (oh, ow) = ops._windows(shape, params["kernel"], params["stride"], params["padding"])
    return (draw(values((shape[0], oh, ow, kh, kw, shape[1]))),), {"shape": shape, **params}


@st.composite
def _embedding(draw: Any, op: ops.Op) -> Any:
    """Whole-number ids of any shape (repeats among them: their gradients add up), as ints or as whole floats, and
    a (num_embeddings, dim) weight."""
    n, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    ids = draw(hnp.arrays(draw(st.sampled_from([np.int64, np.int32, np.float64])), shapes(max_dims=2),
                          elements=st.integers(0, n - 1)))
    return (ids, draw(values((n, dim)))), {}


@st.composite
def _cross_entropy(draw: Any, op: ops.Op) -> Any:
    """Logits (..., classes) and class indices (...), some of them ignore_index now and then; the reduction, and
    label smoothing from 0 to 1."""
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=2))  # one class: a loss of 0 whatever the logit
    k, ignore = shape[-1], draw(st.sampled_from([-100, 0, 1]))
    target = draw(hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, k - 1) | st.just(ignore)))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    if reduction == "mean" and np.all(target == ignore):  # a mean over no target is NaN (its own test says so)
        reduction = "sum"
    return (draw(values(shape)), target), {"ignore_index": ignore, "reduction": reduction,
                                           "label_smoothing": draw(st.sampled_from([0.0, 0.1, 1.0]))}


@st.composite
def _layer_norm(draw: Any, op: ops.Op) -> Any:
    """An input of 1 to 3 axes, normalised over its last 1 or 2 (each at least 2 numbers, else the variance is 0
    and the output a constant), the weight of their shape, and eps from PyTorch's default to 1."""
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=2))
    dims = draw(st.integers(1, min(2, len(shape))))
    return (draw(values(shape)), draw(values(shape[len(shape) - dims:]))), \
        {"dims": draw(_INT_TYPES)(dims), "eps": draw(st.sampled_from([1e-5, 0.1, 1.0]))}


@st.composite
def _softmax(draw: Any, op: ops.Op) -> Any:
    """An input of 1 to 3 axes and one of them (maybe negative, maybe a numpy integer). Each axis at least 2 long:
    over one number softmax is 1 whatever it is, and PyTorch's rule passes an upstream NaN through (NaN - NaN)."""
    x = draw(values(shapes(min_dims=1, min_side=2)))
    return (x,), {"axis": _an_axis(draw, x.ndim)}


@st.composite
def _masked_softmax(draw: Any, op: ops.Op) -> Any:
    """An input of 1 to 3 axes (each at least 2 long), a boolean mask that broadcasts to it (rows with nothing
    allowed among them), and one axis."""
    x = draw(values(shapes(min_dims=1, min_side=2)))
    mask_shape = draw(hnp.broadcastable_shapes(x.shape, min_dims=0, max_dims=x.ndim))
    return (x, draw(hnp.arrays(bool, mask_shape))), {"axis": _an_axis(draw, x.ndim)}


# How to draw each family's inputs and parameters: (inputs, params) for `apply_op`. A table entry names
# its family in `draw`; a new op of a known family needs no new test code, a new family one entry here.
OP_CASES: dict[str, Callable[[ops.Op], st.SearchStrategy[Any]]] = {
    "unary": _unary, "broadcast": _broadcast, "pow": _pow, "leaky_relu": _leaky_relu, "matmul": _matmul,
    "reduction": _reduction, "cumulative": _cumulative, "reshape": _reshape, "transpose": _transpose,
    "broadcast_to": _broadcast_to, "getitem": _getitem, "scatter": _scatter, "clip": _clip, "astype": _astype,
    "concatenate": _concatenate, "stack": _stack, "where": _where, "im2col": _im2col, "col2im": _col2im,
    "embedding": _embedding, "cross_entropy": _cross_entropy, "layer_norm": _layer_norm, "softmax": _softmax,
    "masked_softmax": _masked_softmax,
}


def op_cases(op: ops.Op) -> st.SearchStrategy[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(inputs, params) for an op of the table, drawn by its family (`ops.about(op).cases`)."""
    if ops.about(op).cases not in OP_CASES:
        raise ValueError(f"{op.name}: no strategy family {ops.about(op).cases!r} in OP_CASES ({', '.join(OP_CASES)})")
    return OP_CASES[ops.about(op).cases](op)


def apply_op(op: ops.Op, inputs: tuple[Any, ...], params: dict[str, Any]) -> Value:
    """Call an op of the table as a user would: a Value method, or for the joining ops and `where` the
    module's function."""
    import tinygrad_lite
    if ops.about(op).variadic:
        return getattr(tinygrad_lite, op.name)(list(inputs), **params)
    if op.name == "where":
        return tinygrad_lite.where(params["cond"], *inputs)
    if not ops.about(op).method:  # a module function taking the inputs in order: tl.embedding(ids, weight)
        return getattr(tinygrad_lite, op.name)(*inputs, **params)
    if op.name == "getitem":
        return inputs[0][params["index"]]
    if op.name in ("reshape", "transpose"):  # numpy's spelling: v.reshape(shape), v.transpose(axes)
        return getattr(inputs[0], op.name)(*params.values())
    return getattr(inputs[0], op.name)(*inputs[1:], **params)
