"""Value's methods besides its operators: the primitives' methods, made from the table (v.exp(), v.sum(axis)),
the composites (one-liners with no backward of their own: their gradients come from the primitives they are
made of), and the module functions that join or choose (tl.stack, tl.where).

Scope: `tinygrad_lite/__init__.py` imports this module, which adds the methods to Value. PyTorch's keyword
names (dim=, keepdim=) are answered with numpy's.
"""

from __future__ import annotations

import functools
import inspect
import operator
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _checks, ops
from .modes import no_grad
from .value import _NO_PARAMS, Value, _apply, _operand, _shape_error

_describe, _whole = _checks.describe, _checks.whole
MAXIMUM, CONCATENATE, STACK, WHERE = (ops.TABLE[n] for n in ("maximum", "concatenate", "stack", "where"))


_PYTORCH_NAMES = {"dim": "axis", "keepdim": "keepdims", "correction": "ddof", "unbiased": "ddof"}


def _numpy_names(fn: str, unknown: Any) -> None:
    """Refuse keyword arguments fn does not take, pointing from PyTorch's names (dim=) to numpy's (axis=)."""
    for k in sorted(unknown):
        if k in _PYTORCH_NAMES:
            raise TypeError(f"{fn}() takes numpy's name {_PYTORCH_NAMES[k]}= where PyTorch says {k}=: "
                            f"write {fn}(..., {_PYTORCH_NAMES[k]}=...)")
        raise TypeError(f"{fn}() got an unexpected keyword argument {k!r}")


def _method(op: ops.Op) -> Callable[..., Value]:
    """A Value method for a table entry: `v.sum(0, keepdims=True)`, `v.reshape(2, 3)`, `a.matmul(b)`."""
    n, names = op.arity, tuple(op.params)
    required = [k for k, v in op.params.items() if v is inspect.Parameter.empty]
    if not names and n == 1:
        def unary(self: Value) -> Value:  # exp, tanh, sigmoid, ...: the common case, kept short
            return _apply(op, (self,), _NO_PARAMS)
        unary.__name__, unary.__doc__ = op.name, op.doc + "."
        return unary

    def method(self: Value, *args: Any, **kwargs: Any) -> Value:
        inputs, rest = (self,) + args[:n - 1], args[n - 1:]
        if not rest and not kwargs and not required:
            return _apply(op, inputs, op.params)  # all defaults: v.sum(), v.transpose()
        if len(names) == 1 and len(rest) > 1:  # numpy style: v.reshape(2, 3) == v.reshape((2, 3))
            rest = (rest,)
        if len(rest) > len(names):
            raise TypeError(f"{op.name}() takes at most {len(names)} parameters, got {len(rest)}")
        _numpy_names(op.name, kwargs.keys() - op.params.keys())
        given = {**dict(zip(names, rest)), **kwargs}
        params = {**op.params, **{k: _weak(v) for k, v in given.items()}}
        missing = [k for k in required if params[k] is inspect.Parameter.empty]
        if missing:
            raise TypeError(f"{op.name}() missing required parameter {missing[0]!r}")
        return _apply(op, inputs, params)

    method.__name__ = op.name
    method.__doc__ = op.doc + "."
    return method


def _weak(p: Any) -> Any:
    """A parameter that is one float (a numpy float64 scalar or 0-d array) as a Python float, which numpy treats as
    weakly typed: a float32 input stays float32, as with `x * np.float64(2)` and PyTorch's 0-d tensors."""
    if isinstance(p, np.floating) or (type(p) is np.ndarray and p.ndim == 0 and p.dtype.kind == "f"):
        return float(p)
    return p


class _Composites:
    """The composite methods, written as in a class body; each is copied onto Value below."""

    def sqrt(self: Any) -> Value:
        """Square root: f(x) = x ** 0.5 (its gradient at -0.0 is +inf, numpy's (-0.0) ** -0.5; PyTorch's is -inf)."""
        return self ** 0.5

    def mean(self: Any, axis: Any = None, keepdims: bool = False) -> Value:
        """Mean: f(x) = sum(x) / n over axis (NaN, with numpy's warning, over nothing)."""
        total = self.sum(axis=axis, keepdims=keepdims)
        if self.size == 0 and total.size:
            warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=2)
            return total * np.nan
        return total * (total.size / self.size if self.size else 1.0)

    def min(self: Any, axis: Any = None, keepdims: bool = False) -> Value:
        """Minimum: f(x) = -max(-x) over axis."""
        return -((-self).max(axis=axis, keepdims=keepdims))

    def softmax(self: Any, axis: int = -1) -> Value:
        """Softmax: f(x) = e^x / sum(e^x) over axis (shifted by the max, so large logits do not overflow).
        A -inf logit gets probability 0, as in PyTorch; a row of only -inf, or holding +inf or NaN, is NaN."""
        e = (self - _shift(self, axis, posinf=True)).exp()
        return e / e.sum(axis=axis, keepdims=True)

    def log_softmax(self: Any, axis: int = -1) -> Value:
        """Log-softmax: f(x) = x - log(sum(e^x)) over axis, computed stably (-inf stays -inf, as in PyTorch; a row
        of only -inf, or holding +inf or NaN, is NaN)."""
        s = self - _shift(self, axis, posinf=True)
        return s - s.exp().sum(axis=axis, keepdims=True).log()

    def logsumexp(self: Any, axis: Any = None, keepdims: bool = False) -> Value:
        """Log-sum-exp: f(x) = log(sum(e^x)) over axis, shifted by the max so that it never overflows
        (as PyTorch: all -inf gives -inf, any +inf gives +inf, an empty axis gives -inf)."""
        m = _shift(self, axis)
        return (self - m).exp().sum(axis=axis, keepdims=keepdims).log() + (m if keepdims else m.squeeze(axis))

    def square(self: Any) -> Value:
        """Square: f(x) = x * x."""
        return self * self

    def var(self: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Value:
        """Variance: f(x) = sum((x - mean)^2) / (n - ddof) over axis (ddof=1: the sample variance).
        With ddof >= n it divides by 0, as numpy and PyTorch: NaN (or inf), with numpy's warning, and its gradient
        is NaN (PyTorch's backward divides by the negative n - ddof instead). An infinite element makes the whole
        gradient NaN (PyTorch leaves out the mean's share, inf - inf, and gives the other elements -inf)."""
        ddof = _whole("var", "ddof", ddof, least=0)
        d = self - self.mean(axis=axis, keepdims=True)
        total = (d * d).sum(axis=axis, keepdims=keepdims)
        return total / float(max(self.size // max(total.size, 1) - ddof, 0))

    def std(self: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Value:
        """Standard deviation: f(x) = sqrt(var(x)). Where the spread is zero its gradient is 0, as PyTorch's
        (not sqrt's infinite slope times var's zero slope, which would be NaN)."""
        v = self.var(axis=axis, keepdims=keepdims, ddof=ddof)
        spread = v.data > 0
        if spread.all():
            return v ** 0.5
        return where(spread, where(spread, v, 1.0) ** 0.5, v * 0.0)  # 0 * var: the value and gradient 0 (NaN stays)

    def silu(self: Any) -> Value:
        """SiLU (swish): f(x) = x * sigmoid(x)."""
        return self * self.sigmoid()

    def minimum(self: Any, other: Any) -> Value:
        """Elementwise minimum: f(a, b) = -max(-a, -b) (a tie shares the gradient equally)."""
        return minimum(self, other)

    def flatten(self: Any) -> Value:
        """The numbers as one axis: f(x) = x.reshape(-1)."""
        return self.reshape(-1)

    def squeeze(self: Any, axis: Any = None) -> Value:
        """Drop size-1 axes (all of them, or those in axis), as numpy.squeeze."""
        return self.reshape(_shape_of("squeeze", np.squeeze, self, axis))

    def expand_dims(self: Any, axis: Any) -> Value:
        """Insert size-1 axes at axis, as numpy.expand_dims."""
        return self.reshape(_shape_of("expand_dims", np.expand_dims, self, axis))

    def swapaxes(self: Any, axis1: int, axis2: int) -> Value:
        """Swap two axes, as numpy.swapaxes (PyTorch's transpose(a, b)): a transpose with those two exchanged."""
        axes = list(range(self.ndim))
        try:
            i, j = (operator.index(a) for a in (axis1, axis2))
            axes[i], axes[j] = axes[j], axes[i]
        except (TypeError, IndexError):
            raise ValueError(f"swapaxes: axes {axis1!r} and {axis2!r} must be whole numbers in [-{self.ndim}, "
                             f"{self.ndim}) for shape {self.shape}") from None
        return self.transpose(tuple(axes))

    def where(self: Any, cond: Any, other: Any) -> Value:
        """PyTorch's x.where(cond, y): self where cond is true, else other (tl.where(cond, self, other))."""
        return where(cond, self, other)

    def argmax(self: Any, axis: Any = None) -> np.ndarray:
        """Where the maximum is along axis: plain integers (no gradient), as numpy.argmax."""
        return np.asarray(self.data.argmax(axis=axis))

    def argmin(self: Any, axis: Any = None) -> np.ndarray:
        """Where the minimum is along axis: plain integers (no gradient), as numpy.argmin."""
        return np.asarray(self.data.argmin(axis=axis))


def _shape_of(name: str, fn: Callable[..., Any], v: Value, axis: Any) -> tuple[int, ...]:
    """The shape numpy's fn would give v's numbers, or numpy's complaint said in terms of name and shape."""
    try:
        return tuple(fn(np.empty(v.shape, dtype=bool), axis).shape)
    except (ValueError, TypeError, OverflowError) as e:  # numpy's AxisError is a ValueError
        raise ValueError(f"{name}: {e} (input shape {v.shape}, axis={axis!r})") from None


def _finite_max(x: np.ndarray, axis: Any, posinf: bool = False) -> np.ndarray:
    """The max over axis (keepdims) to shift by before exp: 0 where it is -inf, NaN or the axis is empty, so that
    the shift never makes -inf - -inf. Where it is +inf: 0 as well for logsumexp (which is then +inf, as PyTorch's),
    or with posinf +inf itself, so that softmax's inf - inf makes the whole row NaN, as PyTorch's."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m) | (posinf & (m == np.inf)), m, 0.0).astype(x.dtype, copy=False)


# The shift is a constant for the gradient (softmax does not change when every input moves by the same amount):
# an op run without recording, so that it is a constant of the graph that a replay still computes afresh.
SHIFT = ops.Op("finite_max", _finite_max, (), doc="The finite max over axis (keepdims), for a stable shift",
               params={"axis": -1, "posinf": False}, arity=1)


def _shift(v: Value, axis: Any, posinf: bool = False) -> Value:
    with no_grad():
        return _apply(SHIFT, (v,), {"axis": axis, "posinf": posinf})


def maximum(a: Any, b: Any) -> Value:
    """Elementwise maximum of Values or arrays, as numpy.maximum (a tie shares the gradient equally)."""
    return _apply(MAXIMUM, (a, b), _NO_PARAMS)


def minimum(a: Any, b: Any) -> Value:
    """Elementwise minimum of Values or arrays, as numpy.minimum."""
    try:
        return -maximum(-_operand(a), -_operand(b))
    except (ValueError, TypeError) as e:
        raise type(e)(str(e).replace("maximum", "minimum", 1).replace("Value:", "minimum:", 1)) from None


def _parts(name: str, values: Sequence[Any]) -> list[Any]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name}: give a list of Values or arrays to join, got {_describe(values)}")
    parts = [p if isinstance(p, Value) else _checks.numeric(name, "each part", p) for p in values]
    if not parts:
        raise ValueError(f"{name}: needs at least one Value or array to join, got none")
    return parts


def concatenate(values: Sequence[Any], axis: int = 0, **wrong: Any) -> Value:
    """Join Values (or arrays) along an existing axis, like numpy.concatenate. One op in the graph, however
    many parts: its backward hands each part its slice of the gradient."""
    _numpy_names("concatenate", wrong)
    parts = _parts("concatenate", values)
    ndim = np.ndim(parts[0]._data if isinstance(parts[0], Value) else parts[0])
    if any(np.ndim(p._data if isinstance(p, Value) else p) == 0 for p in parts):
        raise ValueError("concatenate: 0-d values (single numbers) have no axis to join along; join them along a new "
                         "axis with tl.stack([...]) instead")
    try:
        ax = np.lib.array_utils.normalize_axis_index(operator.index(axis), max(ndim, 1))
        sizes = [np.shape(p._data if isinstance(p, Value) else p)[ax] for p in parts]
    except (TypeError, IndexError, ValueError, OverflowError) as e:  # numpy's AxisError is IndexError and ValueError
        raise _shape_error(CONCATENATE, [getattr(p, "_data", p) for p in parts], {"axis": axis}, e) from None
    bounds = (0, *np.cumsum(sizes).tolist())
    return _apply(CONCATENATE, parts, {"axis": axis, "bounds": bounds})


def stack(values: Sequence[Any], axis: int = 0, **wrong: Any) -> Value:
    """Join Values (or arrays) of one shape along a new axis, like numpy.stack. One op in the graph."""
    _numpy_names("stack", wrong)
    return _apply(STACK, _parts("stack", values), {"axis": axis})


def where(cond: Any, a: Any, b: Any) -> Value:
    """Elementwise choice, as numpy.where: a where cond is true, else b. cond (booleans; a Value's data or
    any array) is a constant, copied; a and b get the gradient where they were chosen."""
    mask = _checks.numeric("where", "cond", cond).copy()
    if mask.dtype != bool:
        mask = mask.astype(bool)
    return _apply(WHERE, (a, b), {"cond": mask})


def _numpy_keywords(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A composite method that answers PyTorch's keyword names (dim=, keepdim=) with numpy's."""
    allowed = set(inspect.signature(fn).parameters)

    name = fn.__name__

    @functools.wraps(fn)
    def method(self: Value, *args: Any, **kwargs: Any) -> Any:
        if kwargs and not kwargs.keys() <= allowed:
            _numpy_names(name, kwargs.keys() - allowed)
        try:
            return fn(self, *args, **kwargs)
        except (ValueError, TypeError, OverflowError) as e:  # numpy's word on an axis or ddof: said as this method's
            if str(e).startswith(f"{name}:"):
                raise
            kind = TypeError if isinstance(e, TypeError) else ValueError
            raise kind(f"{name}: {e} (input shape {self.shape}, arguments {args or ''}{kwargs or ''})") from None
    return method


_PYTORCH_KEYWORDS = ("mean", "min", "softmax", "log_softmax", "logsumexp", "var", "std", "squeeze", "expand_dims",
                     "argmax", "argmin")
for _name, _fn in vars(_Composites).items():
    if inspect.isfunction(_fn):
        setattr(Value, _name, _numpy_keywords(_fn) if _name in _PYTORCH_KEYWORDS else _fn)

# The primitive methods (v.exp(), v.sum(axis), ...), made from the table so that adding an op is one entry;
# the ops that join any number of inputs, and where, are the module functions above instead.
for _op in ops.TABLE.values():
    if _op.method:
        setattr(Value, _op.name, _method(_op))
