"""Value: a scalar or numpy array that records how it was computed, and runs backward through that record.

Read this file top to bottom, then backward.py: together they are the engine.

1. `apply(op, *inputs, **params)` runs one primitive of the table (`ops/`) and, when an input needs a gradient,
   keeps what backward will need on the output (its op, inputs, saved arrays, parameters, the clock's reading).
2. `class Value`: the numbers and the gradient, then every method written out: the primitives, each one line
   that calls `apply`, and the composites, one-liners made of primitives (they need no backward of their own).
3. `backward()` hands the walk in backward.py a seed and stores what it gives the leaves.
4. The module functions that join or choose: `where`, `maximum`, `minimum`, `concatenate`, `stack`.

What is optional (anomaly mode, the drawings' module boxes, tl.replay) watches recording through one extension
point, the observers in modes.py: `apply` tells each of them what ran; nothing else here knows about them.
"""

from __future__ import annotations

import builtins  # the class has a name float of its own (PyTorch's x.float(), answered)
import functools
import operator
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import _checks, backward, modes, ops, pytorch_names
from .backward import NEVER_WRITTEN, VERSION_CLOCK, Recorded, bump_version

_observing = modes.observing  # the observers of recording (a tuple, empty unless something optional is on)
_recording = modes.recording  # False inside no_grad()


# ---- 1. recording --------------------------------------------------------------------------------------------

def apply(op: ops.Op, *args: Any, **params: Any) -> Value:
    """Run op's forward on the inputs' numbers and, if any input needs a gradient, record the op on the output.

    Inputs are Values or constants (numbers, arrays); a constant array is copied when the op is recorded, so that
    writing into it later changes nothing backward reads."""
    inputs, datas, needs_grad, arrays = [], [], False, False
    for a in args:
        if isinstance(a, Value):
            datas.append(a._data)
            needs_grad = needs_grad or a.requires_grad
        else:
            if not (type(a) is float or (type(a) is np.ndarray and a.dtype.kind == "f" and a.ndim)):
                try:
                    a = _checks.constant(a)  # a number, a list, an int array: made a float constant
                except TypeError as e:
                    raise TypeError(f"{op.name}: {e}") from None
            arrays = arrays or type(a) is np.ndarray
            datas.append(a)
        inputs.append(a)
    try:
        data = op.forward(*datas, **params) if params else op.forward(*datas)
    except (ValueError, IndexError, TypeError, OverflowError) as e:
        if op.user:
            raise  # the user's own forward (a Function): their exception, as it was
        raise _shape_error(op, datas, params, e) from None
    out = Value.__new__(Value)
    out._data = data if type(data) is np.ndarray else np.asarray(data)
    out._version_box = NEVER_WRITTEN
    out._grad = out.name = None
    if type(data) is np.ndarray and data.base is not None:  # a view (reshape, slice): it shares its input's version
        _share_version(out, args)
    taken = inputs  # the operands as the op took them (before the copies below)
    if needs_grad and _recording():
        if arrays:  # the caller's arrays, copied: writing into them later changes nothing backward reads
            datas = [d.copy() if type(d) is np.ndarray and d is a else d for d, a in zip(datas, inputs)]
            inputs = [a if isinstance(a, Value) else d for d, a in zip(datas, inputs)]
        out.requires_grad = True
        out._op, out._inputs, out._saved, out._params, out._version_at = op, inputs, datas, params, VERSION_CLOCK[0]
    else:
        out.requires_grad = False
        out._op = None
    observers = _observing()
    if observers:
        for observer in observers:
            observer.ran(op, taken, params, out, args)
    return out


def _shape_error(op: ops.Op, datas: list[Any], params: dict[str, Any], e: Exception) -> Exception:
    """numpy's complaint about shapes (or parameters), said in terms of the op, its input shapes and what it was
    given. A plain ValueError, IndexError or TypeError (numpy's own subclasses may need more than a message)."""
    kind = next((k for k in (ValueError, IndexError, TypeError) if isinstance(e, k)), ValueError)  # overflow too
    if isinstance(e, ops.Refused):  # the forward's own message, whole (its indices, its mask)
        return ValueError(str(e))
    if ops.about(op).error and kind is ValueError:
        return kind(ops.about(op).error.format(*[np.shape(d) for d in datas], name=op.name, **params))
    shown = "".join(f", {k}={v!r}"[:60] for k, v in params.items() if k not in ops.about(op).hidden)
    return kind(f"{op.name}: {e} (input shape{'s' if len(datas) > 1 else ''} {modes.shapes(datas)}{shown})")


def _share_version(out: Value, args: Sequence[Any]) -> None:
    """A view shares its input's version: a write through either is seen by a backward through the other. numpy
    gives every view the array that owns the memory as its base, so one comparison finds the input it views."""
    owner = out._data.base
    for a in args:
        if isinstance(a, Value) and (a._data is owner or a._data.base is owner):
            out._version_box = a._shared_version()
            return


_PYTORCH_NAMES = {"dim": "axis", "keepdim": "keepdims", "correction": "ddof", "unbiased": "ddof"}


def _numpy_names(fn: str, unknown: Any) -> None:
    """Refuse keyword arguments fn does not take, pointing from PyTorch's names (dim=) to numpy's (axis=)."""
    for k in sorted(unknown):
        if k in _PYTORCH_NAMES:
            raise TypeError(f"{fn}() takes numpy's name {_PYTORCH_NAMES[k]}= where PyTorch says {k}=: "
                            f"write {fn}(..., {_PYTORCH_NAMES[k]}=...)")
        raise TypeError(f"{fn}() got an unexpected keyword argument {k!r}")


def _composite(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A composite method with numpy's axis=: PyTorch's keyword names (dim=) are answered with numpy's, and a
    complaint about its arguments from the primitives it calls is said as this method's."""
    name, allowed = fn.__name__, set(fn.__code__.co_varnames[:fn.__code__.co_argcount])

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


# ---- 2. the Value ----------------------------------------------------------------------------------------------

class Value(Recorded):
    """A scalar or n-d array of floats that records the operations that produce it.

    >>> x = Value(3.0); y = x * x + 2 * x; y.backward(); x.grad
    array(8.)

    Python numbers, lists and numpy arrays mixed into an expression are constants. Ints and bools become float64;
    float32 stays float32 (`dtype=` overrides). Non-numeric data is a TypeError.
    """

    __slots__ = ("_data", "_version_box", "_grad", "name", "requires_grad", "_op", "_inputs", "_saved", "_params",
                 "_version_at", "_hooks", "_site", "_module", "_pass", "_ran", "__weakref__")
    __array_ufunc__ = None  # numpy hands `array op Value` to our reflected operators
    __hash__ = object.__hash__  # == compares elements; identity stays the hash

    _data: np.ndarray
    _version_box: Any  # [the clock's reading at the last write to data], one box shared by aliases of the numbers
    _grad: Any  # None, an ndarray, or a Value after backward(create_graph=True)
    name: str | None
    requires_grad: bool
    # _op, _inputs, _saved, _params, _version_at: what backward needs of the op that made this value (backward.Node);
    # _op is None for a leaf.
    _site: str  # where the user's code made it (set by detect_anomaly's observer)
    _module: tuple[Any, ...]  # the modules whose forward made it, outermost first (set while a Module runs)
    _pass: int  # the backward() call that stored this value's .grad
    _ran: int  # on a root: the backward() call it ran

    def __init__(self, data: Any, name: str | None = None, requires_grad: bool = True, dtype: Any = None):
        if dtype is not None:
            try:
                kind = np.dtype(dtype).kind
            except TypeError:
                kind = "?"
            if kind != "f":
                raise TypeError(f"Value: dtype must be a float type such as np.float32 or np.float64, got {dtype!r}")
        if isinstance(data, (list, tuple)) and _holds_values(data):
            raise TypeError("Value: got a list holding Values; a new Value made from their numbers would cut the graph "
                            "(no gradient would reach them): join them with tl.stack([...]) or tl.concatenate([...])")
        self._data = _checks.floats(data, dtype)
        self._version_box, self._grad, self._op = NEVER_WRITTEN, None, None
        self.name, self.requires_grad = name, bool(requires_grad)

    @staticmethod
    def _leaf(data: np.ndarray, requires_grad: bool) -> Value:
        """A Value around an array that is already a float ndarray (no checks, no copy)."""
        v = Value.__new__(Value)
        v._data, v._version_box, v._grad, v._op = data, NEVER_WRITTEN, None, None
        v.name, v.requires_grad = None, requires_grad
        return v

    # ---- the numbers, the gradient, the version ----
    @property
    def data(self) -> np.ndarray:
        """The numbers (an ndarray). Assigning to it, or changing it with `-=`, `*=` and the like, is seen: backward
        then refuses a graph that used the old numbers. Writes into it by index (`v.data[0] = 1`) are not seen."""
        if _observing():
            modes.touched("read", self)
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        if not (type(value) is np.ndarray and value.dtype.kind == "f"):
            value = _checks.floats(value, copy=False)  # ints and bools become float64, as in the constructor
        self._data = value
        bump_version(self)

    @property
    def grad(self) -> Any:
        """The gradient backward() accumulated: None before, an ndarray of data's shape after (a Value with
        create_graph=True). Only leaves get one (parameters, inputs); a computed value keeps None unless it called
        retain_grad() first, and reading it then warns."""
        if self._grad is None and self._op is not None and id(self) not in backward.retained:
            warnings.warn(f"Value.grad: {backward._who(self)} is computed, not a leaf, so backward() leaves its .grad "
                          "None (call retain_grad() before backward() to keep it). If you wrote `w = w - lr * w.grad`, "
                          "w is now a new computed Value and no longer the parameter: change the parameter's numbers "
                          "in place instead, `w.data -= lr * w.grad`", stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, g: Any) -> None:
        """None forgets the gradient; a number (micrograd's `p.grad = 0.0`) fills data's shape with it; an array
        must have data's shape."""
        if _observing():
            modes.touched("grad", self)
        if g is not None and not isinstance(g, Value):
            try:
                g = _checks.floats(g, self.dtype)
            except TypeError:
                raise TypeError(f"Value.grad: give None, a number or an array of shape {self.shape}, got "
                                f"{_checks.describe(g)}") from None
            if g.shape != self.shape:
                if g.size != 1:
                    raise ValueError(f"Value.grad: an array of shape {g.shape} for a Value of shape {self.shape}")
                g = np.full(self.shape, g.reshape(()), self.dtype)
        self._grad = g

    @property
    def _version(self) -> int:
        """The clock's reading at the last write to these numbers, through this Value or an alias of it (PyTorch's
        version counter): backward compares it with the reading at each op that used them."""
        return int(self._version_box[0])

    def _shared_version(self) -> list[int]:
        """This value's version as a box that aliases share (a detached copy, a view): a write through any of them
        is then seen by all."""
        if self._version_box is NEVER_WRITTEN:
            self._version_box = [0]
        return self._version_box

    shape = property(lambda self: self._data.shape, doc="The shape of data.")
    ndim = property(lambda self: self._data.ndim, doc="The number of axes.")
    dtype = property(lambda self: self._data.dtype, doc="The float dtype of data.")

    @property
    def size(self) -> _Size:
        """The number of elements (numpy's); called with an axis, x.size(0), the length of that axis (PyTorch's)."""
        return _Size(self._data.size, self._data.shape)

    def dim(self) -> int:
        """The number of axes (PyTorch's name for ndim)."""
        return self._data.ndim

    # PyTorch's names a learner reaches for: reading one raises an AttributeError with the tinygrad_lite way
    (view, permute, unsqueeze, clamp, masked_fill, contiguous, float, double, norm, numel, cuda, cpu, to,
     requires_grad_, add_, sub_, mul_, div_, zero_, fill_, copy_, clamp_, normal_, uniform_, grad_fn, is_leaf) = (
        pytorch_names.Missing("Value") for _ in range(26))

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (grad becomes None, as in PyTorch)."""
        self.grad = None

    def detach(self) -> Value:
        """The same numbers as a constant: cut from the graph, no gradient flows through it. It shares the numbers
        and their version with self (as PyTorch's detach), so an in-place change of either is seen by a backward
        through the other."""
        v = Value._leaf(self._data, requires_grad=False)
        v._version_box = self._shared_version()
        return v

    # ---- conversions: Python numbers, numpy, printing ----
    def item(self) -> builtins.float:
        """The single number in a one-element Value, as a Python float."""
        return self.data.item()

    def tolist(self) -> Any:
        """The numbers as (nested) Python lists, as ndarray.tolist()."""
        return self.data.tolist()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def _number(self, what: str) -> builtins.float:
        if self._data.size != 1:
            raise TypeError(f"{what}: only a one-element Value converts to a Python number, got shape {self.shape}")
        return self.data.item()

    def __float__(self) -> builtins.float:
        return float(self._number("float()"))

    def __int__(self) -> int:
        return int(self._number("int()"))

    def __round__(self, ndigits: int | None = None) -> Any:
        return round(self._number("round()"), ndigits)

    def __format__(self, spec: str) -> str:  # f"{loss:.4f}"; an empty spec shows the Value itself
        return format(self._number(f"format spec {spec!r}"), spec) if spec else str(self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return len(self._data)

    def __iter__(self) -> Iterator[Value]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d Value")
        return (self[i] for i in range(len(self._data)))

    def __repr__(self) -> str:
        def fmt(a: Any) -> str:
            if a is None:
                return "None"
            return np.array2string(np.asarray(getattr(a, "_data", a)), precision=4, threshold=8, edgeitems=2,
                                   separator=", ")
        name = f", name={self.name!r}" if self.name else ""
        return f"Value(data={fmt(self._data)}, grad={fmt(self._grad)}{name})"

    # ---- comparisons: plain boolean arrays, no gradient ----
    def __lt__(self, other: Any) -> Any:
        return self.data < _numbers(other)

    def __le__(self, other: Any) -> Any:
        return self.data <= _numbers(other)

    def __gt__(self, other: Any) -> Any:
        return self.data > _numbers(other)

    def __ge__(self, other: Any) -> Any:
        return self.data >= _numbers(other)

    def __eq__(self, other: Any) -> Any:
        return self.data == _numbers(other)

    def __ne__(self, other: Any) -> Any:
        return self.data != _numbers(other)

    # ---- arithmetic: primitives of ops/arithmetic.py ----
    def __add__(self, other: Any) -> Value:  # self + other
        return apply(ADD, self, other)

    def __radd__(self, other: Any) -> Value:  # other + self
        return apply(ADD, other, self)

    def __sub__(self, other: Any) -> Value:  # self - other
        return apply(SUB, self, other)

    def __rsub__(self, other: Any) -> Value:  # other - self
        return apply(SUB, other, self)

    def __mul__(self, other: Any) -> Value:  # self * other
        return apply(MUL, self, other)

    def __rmul__(self, other: Any) -> Value:  # other * self
        return apply(MUL, other, self)

    def __truediv__(self, other: Any) -> Value:  # self / other
        return apply(DIV, self, other)

    def __rtruediv__(self, other: Any) -> Value:  # other / self
        return apply(DIV, other, self)

    def __pow__(self, other: Any, modulo: Any = None) -> Value:  # self ** other
        if modulo is not None:
            _refuse("pow() with a modulo (three arguments)", "use pow(a, b) without one")
        return apply(POW, self, other)

    def __rpow__(self, other: Any) -> Value:  # other ** self
        return apply(POW, other, self)

    def __matmul__(self, other: Any) -> Value:  # self @ other
        return apply(MATMUL, self, other)

    def __rmatmul__(self, other: Any) -> Value:  # other @ self
        return apply(MATMUL, other, self)

    def __neg__(self) -> Value:  # -self
        return apply(NEG, self)

    def __pos__(self) -> Value:  # +self
        return self

    def __abs__(self) -> Value:  # abs(self)
        return self.abs()

    def add(self, other: Any) -> Value:
        """Add: f(a, b) = a + b."""
        return apply(ADD, self, other)

    def sub(self, other: Any) -> Value:
        """Subtract: f(a, b) = a - b."""
        return apply(SUB, self, other)

    def mul(self, other: Any) -> Value:
        """Multiply: f(a, b) = a * b."""
        return apply(MUL, self, other)

    def div(self, other: Any) -> Value:
        """Divide: f(a, b) = a / b."""
        return apply(DIV, self, other)

    def pow(self, other: Any) -> Value:
        """Power: f(a, b) = a ** b."""
        return apply(POW, self, other)

    def matmul(self, other: Any) -> Value:
        """Matrix product: f(A, B) = A @ B (numpy semantics: 1-D, 2-D, batched)."""
        return apply(MATMUL, self, other)

    def neg(self) -> Value:
        """Negate: f(x) = -x."""
        return apply(NEG, self)

    def maximum(self, other: Any) -> Value:
        """Elementwise maximum: f(a, b) = max(a, b) (a tie shares the gradient equally)."""
        return apply(MAXIMUM, self, other)

    def minimum(self, other: Any) -> Value:
        """Elementwise minimum: f(a, b) = -max(-a, -b) (a tie shares the gradient equally)."""
        return minimum(self, other)

    def logaddexp(self, other: Any) -> Value:
        """Log of a sum of exponentials: f(a, b) = log(e^a + e^b), computed without overflow."""
        return apply(LOGADDEXP, self, other)

    def atan2(self, other: Any) -> Value:
        """Angle of the point (b, a): f(a, b) = atan2(a, b), in [-pi, pi]."""
        return apply(ATAN2, self, other)

    def where(self, cond: Any, other: Any) -> Value:
        """PyTorch's x.where(cond, y): self where cond is true, else other (tl.where(cond, self, other))."""
        return where(cond, self, other)

    # ---- elementwise functions: primitives of ops/functions.py ----
    def exp(self) -> Value:
        """Exponential: f(x) = e^x."""
        return apply(EXP, self)

    def log(self) -> Value:
        """Natural logarithm: f(x) = log(x)."""
        return apply(LOG, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent: f(x) = tanh(x)."""
        return apply(TANH, self)

    def sigmoid(self) -> Value:
        """Sigmoid: f(x) = 1 / (1 + e^-x), computed without overflow."""
        return apply(SIGMOID, self)

    def sin(self) -> Value:
        """Sine: f(x) = sin(x)."""
        return apply(SIN, self)

    def cos(self) -> Value:
        """Cosine: f(x) = cos(x)."""
        return apply(COS, self)

    def tan(self) -> Value:
        """Tangent: f(x) = tan(x)."""
        return apply(TAN, self)

    def arctan(self) -> Value:
        """Inverse tangent: f(x) = arctan(x), in (-pi/2, pi/2)."""
        return apply(ARCTAN, self)

    def sinh(self) -> Value:
        """Hyperbolic sine: f(x) = (e^x - e^-x) / 2."""
        return apply(SINH, self)

    def cosh(self) -> Value:
        """Hyperbolic cosine: f(x) = (e^x + e^-x) / 2."""
        return apply(COSH, self)

    def log2(self) -> Value:
        """Base-2 logarithm: f(x) = log2(x)."""
        return apply(LOG2, self)

    def exp2(self) -> Value:
        """Power of two: f(x) = 2^x."""
        return apply(EXP2, self)

    def log1p(self) -> Value:
        """Log of one plus: f(x) = log(1 + x), exact for small x."""
        return apply(LOG1P, self)

    def expm1(self) -> Value:
        """Exponential minus one: f(x) = e^x - 1, exact for small x."""
        return apply(EXPM1, self)

    def softplus(self) -> Value:
        """Softplus: f(x) = log(1 + e^x), computed without overflow."""
        return apply(SOFTPLUS, self)

    def erf(self) -> Value:
        """Error function: f(x) = 2/sqrt(pi) * integral of e^(-t^2) from 0 to x."""
        return apply(ERF, self)

    def gelu(self) -> Value:
        """GELU: f(x) = x * Phi(x), Phi the standard normal's distribution function (PyTorch's exact form)."""
        return apply(GELU, self)

    def relu(self) -> Value:
        """Rectified linear unit: f(x) = max(x, 0)."""
        return apply(RELU, self)

    def cross_entropy(self, target: Any, ignore_index: int = -100, label_smoothing: builtins.float = 0.0,
                      reduction: str = "mean") -> Value:
        """Cross-entropy from logits (..., classes) and class indices (...) (an input): tl.nn.CrossEntropy's op."""
        return apply(CROSS_ENTROPY, self, _index_input("cross_entropy", target), ignore_index=ignore_index,
                     label_smoothing=label_smoothing, reduction=reduction)

    def leaky_relu(self, slope: builtins.float = 0.01) -> Value:
        """Leaky ReLU: f(x) = x where x > 0, else slope * x."""
        return apply(LEAKY_RELU, self, slope=_weak(slope))

    def abs(self) -> Value:
        """Absolute value: f(x) = |x|."""
        return apply(ABS, self)

    def sign(self) -> Value:
        """Sign: f(x) = -1, 0 or 1 (0 at NaN, as PyTorch's); its gradient is 0."""
        return apply(SIGN, self)

    def floor(self) -> Value:
        """Floor: f(x) = the largest whole number <= x; its gradient is 0."""
        return apply(FLOOR, self)

    def ceil(self) -> Value:
        """Ceiling: f(x) = the smallest whole number >= x; its gradient is 0."""
        return apply(CEIL, self)

    def round(self) -> Value:
        """Round to the nearest whole number, halves to even (as numpy and PyTorch); its gradient is 0."""
        return apply(ROUND, self)

    def clip(self, lo: Any = None, hi: Any = None) -> Value:
        """Clip: f(x) = min(max(x, lo), hi)."""
        return apply(CLIP, self, lo=_weak(lo), hi=_weak(hi))

    # ---- reductions and running totals: primitives of ops/reductions.py (numpy's axis=, keepdims=) ----
    def sum(self, axis: Any = None, keepdims: bool = False, **pytorch: Any) -> Value:
        """Sum: f(x) = sum of x over axis."""
        _numpy_names("sum", pytorch)
        return apply(SUM, self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False, **pytorch: Any) -> Value:
        """Product: f(x) = product of x over axis (exact at zeros: each gets the product of the others)."""
        _numpy_names("prod", pytorch)
        return apply(PROD, self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False, **pytorch: Any) -> Value:
        """Maximum: f(x) = max of x over axis (ties share the gradient equally)."""
        _numpy_names("max", pytorch)
        return apply(MAX, self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis: Any = None, **pytorch: Any) -> Value:
        """Cumulative sum: f(x)[i] = x[0] + ... + x[i] along axis (of the flattened x if axis is None)."""
        _numpy_names("cumsum", pytorch)
        return apply(CUMSUM, self, axis=axis)

    def cumprod(self, axis: Any = None, **pytorch: Any) -> Value:
        """Cumulative product: f(x)[i] = x[0] * ... * x[i] along axis (of the flattened x if axis is None)."""
        _numpy_names("cumprod", pytorch)
        return apply(CUMPROD, self, axis=axis)

    @_composite
    def mean(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Mean: f(x) = sum(x) / n over axis (NaN, with numpy's warning, over nothing)."""
        total = self.sum(axis=axis, keepdims=keepdims)
        if self._data.size == 0 and total._data.size:
            warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=2)
            return total * np.nan
        return total * (total._data.size / self._data.size if self._data.size else 1.0)

    @_composite
    def min(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Minimum: f(x) = -max(-x) over axis."""
        return -((-self).max(axis=axis, keepdims=keepdims))

    @_composite
    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Value:
        """Variance: f(x) = sum((x - mean)^2) / (n - ddof) over axis (ddof=1: the sample variance).
        With ddof >= n it divides by 0, as numpy and PyTorch: NaN (or inf), with numpy's warning, and its gradient
        is NaN (PyTorch's backward divides by the negative n - ddof instead). An infinite element makes the whole
        gradient NaN (PyTorch leaves out the mean's share, inf - inf, and gives the other elements -inf)."""
        ddof = _checks.whole("var", "ddof", ddof, least=0)
        d = self - self.mean(axis=axis, keepdims=True)
        total = (d * d).sum(axis=axis, keepdims=keepdims)
        return total / float(max(self._data.size // max(total._data.size, 1) - ddof, 0))

    @_composite
    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Value:
        """Standard deviation: f(x) = sqrt(var(x)). Where the spread is zero its gradient is 0, as PyTorch's
        (not sqrt's infinite slope times var's zero slope, which would be NaN)."""
        v = self.var(axis=axis, keepdims=keepdims, ddof=ddof)
        spread = v.data > 0
        if spread.all():
            return v ** 0.5
        return where(spread, where(spread, v, 1.0) ** 0.5, v * 0.0)  # 0 * var: the value and gradient 0 (NaN stays)

    def masked_softmax(self, mask: Any, axis: int = -1) -> Value:
        """Masked softmax: softmax over axis where mask (an input: True where allowed) is true, 0 elsewhere."""
        return apply(MASKED_SOFTMAX, self, _index_input("masked_softmax", mask), axis=axis)

    def softmax(self, axis: int = -1, **pytorch: Any) -> Value:
        """Softmax: f(x) = e^x / sum(e^x) over axis (-inf gets 0; a row of only -inf, or with +inf or NaN, is NaN)."""
        _numpy_names("softmax", pytorch)
        return apply(SOFTMAX, self, axis=axis)

    @_composite
    def log_softmax(self, axis: int = -1) -> Value:
        """Log-softmax: f(x) = x - log(sum(e^x)) over axis, computed stably (-inf stays -inf, as in PyTorch; a row
        of only -inf, or holding +inf or NaN, is NaN)."""
        s = self - _shift(self, axis, posinf=True)
        return s - s.exp().sum(axis=axis, keepdims=True).log()

    @_composite
    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Log-sum-exp: f(x) = log(sum(e^x)) over axis, shifted by the max so that it never overflows
        (as PyTorch: all -inf gives -inf, any +inf gives +inf, an empty axis gives -inf)."""
        m = _shift(self, axis)
        return (self - m).exp().sum(axis=axis, keepdims=keepdims).log() + (m if keepdims else m.squeeze(axis))

    @_composite
    def argmax(self, axis: Any = None) -> np.ndarray:
        """Where the maximum is along axis: plain integers (no gradient), as numpy.argmax."""
        return np.asarray(self.data.argmax(axis=axis))

    @_composite
    def argmin(self, axis: Any = None) -> np.ndarray:
        """Where the minimum is along axis: plain integers (no gradient), as numpy.argmin."""
        return np.asarray(self.data.argmin(axis=axis))

    # ---- shapes: primitives of ops/shapes.py, and composites of them ----
    def reshape(self, *shape: Any) -> Value:
        """Reshape: same numbers, new shape (v.reshape(2, 3) or v.reshape((2, 3)); -1 is inferred)."""
        return apply(RESHAPE, self, shape=_one_or_many("reshape", "shape", shape))

    def transpose(self, *axes: Any) -> Value:
        """Transpose: permute the axes (reverse them by default), as numpy.transpose."""
        return apply(TRANSPOSE, self, axes=_one_or_many("transpose", "axes", axes, default=None))

    @property
    def T(self) -> Value:
        """The transpose (axes reversed)."""
        return self.transpose()

    def broadcast_to(self, shape: Any) -> Value:
        """Broadcast: repeat x along new or size-1 axes to `shape`, as numpy.broadcast_to."""
        return apply(BROADCAST_TO, self, shape=shape)

    def __getitem__(self, index: Any) -> Value:  # self[index]
        # The op keeps its own copy of index arrays and lists: changing the caller's later moves nothing.
        index = tuple(map(_own_index, index)) if isinstance(index, tuple) else _own_index(index)
        return apply(GETITEM, self, index=index)

    def scatter(self, index: Any, shape: Any) -> Value:
        """Scatter-add: f(x) = zeros(shape) with x added at index (repeats accumulate), getitem's adjoint."""
        return apply(SCATTER, self, index=index, shape=shape)

    def astype(self, dtype: Any = None) -> Value:
        """Cast: f(x) = x as another float dtype (the gradient comes back in the input's dtype)."""
        if dtype is None:
            raise TypeError("astype() missing required parameter 'dtype'")
        return apply(ASTYPE, self, dtype=dtype)

    def im2col(self, kernel: Any, stride: Any = 1, padding: Any = 0) -> Value:
        """Windows: every kernel-sized patch of an (N, C, H, W) image as a row, shape (N, OH, OW, kh, kw, C)."""
        return apply(IM2COL, self, kernel=kernel, stride=stride, padding=padding)

    def col2im(self, shape: Any, kernel: Any, stride: Any = 1, padding: Any = 0) -> Value:
        """Fold: windows of shape (N, OH, OW, kh, kw, C) added back into an image of `shape` (im2col's adjoint)."""
        return apply(COL2IM, self, shape=shape, kernel=kernel, stride=stride, padding=padding)

    def flatten(self, start_dim: int = 0) -> Value:
        """The numbers as one axis: f(x) = x.reshape(-1); from axis start_dim on only, as PyTorch's flatten(1)."""
        n = max(self.ndim, 1)
        try:
            start = operator.index(start_dim)
            if not -n <= start < n:
                raise IndexError
        except (TypeError, IndexError):
            raise ValueError(f"flatten: start_dim must be a whole number in [-{n}, {n}) for shape {self.shape}, got "
                             f"{_checks.describe(start_dim)}") from None
        return self.reshape(self.shape[:start % n] + (-1,))

    @_composite
    def squeeze(self, axis: Any = None) -> Value:
        """Drop size-1 axes (all of them, or those in axis), as numpy.squeeze."""
        return self.reshape(_shape_of("squeeze", np.squeeze, self, axis))

    @_composite
    def expand_dims(self, axis: Any) -> Value:
        """Insert size-1 axes at axis, as numpy.expand_dims."""
        return self.reshape(_shape_of("expand_dims", np.expand_dims, self, axis))

    def swapaxes(self, axis1: int, axis2: int) -> Value:
        """Swap two axes, as numpy.swapaxes (PyTorch's transpose(a, b)): a transpose with those two exchanged."""
        axes = list(range(self.ndim))
        try:
            i, j = (operator.index(a) for a in (axis1, axis2))
            axes[i], axes[j] = axes[j], axes[i]
        except (TypeError, IndexError):
            raise ValueError(f"swapaxes: axes {axis1!r} and {axis2!r} must be whole numbers in [-{self.ndim}, "
                             f"{self.ndim}) for shape {self.shape}") from None
        return self.transpose(tuple(axes))

    # ---- composites of arithmetic ----
    def sqrt(self) -> Value:
        """Square root: f(x) = x ** 0.5 (its gradient at -0.0 is +inf, numpy's (-0.0) ** -0.5; PyTorch's is -inf)."""
        return self ** 0.5

    def square(self) -> Value:
        """Square: f(x) = x * x."""
        return self * self

    def silu(self) -> Value:
        """SiLU (swish): f(x) = x * sigmoid(x)."""
        return self * self.sigmoid()

    # ---- what is refused, with the fix ----
    def __iadd__(self, other: Any) -> Any:
        return _refuse_in_place(self, "+")

    def __isub__(self, other: Any) -> Any:
        return _refuse_in_place(self, "-")

    def __imul__(self, other: Any) -> Any:
        return _refuse_in_place(self, "*")

    def __itruediv__(self, other: Any) -> Any:
        return _refuse_in_place(self, "/")

    def __floordiv__(self, other: Any) -> Any:  # self // other
        _refuse("floor division (//)", "use (a / b) and the plain numbers a.data // b where no gradient is needed")

    __rfloordiv__ = __floordiv__

    def __mod__(self, other: Any) -> Any:  # self % other
        _refuse("the remainder (%)", "use a - b * (a.data // b) (the gradient of a - b * k, k constant)")

    __rmod__ = __mod__

    def __divmod__(self, other: Any) -> Any:  # divmod(self, other)
        _refuse("divmod()", "use a / b, or the plain numbers divmod(a.data, b)")

    __rdivmod__ = __divmod__

    # ---- 3. backward ----
    def register_hook(self, fn: Callable[[Any], Any]) -> backward.HookHandle:
        """Call fn(grad) when the gradient for this value is complete, during every backward pass; if it returns
        something other than None (an array, a number or a list of this value's shape), that replaces the gradient.
        Returns a handle: handle.remove()."""
        if not callable(fn):
            raise TypeError(f"register_hook: give a function of the gradient, got {_checks.describe(fn)}")
        if getattr(self, "_hooks", None) is None:
            self._hooks: list[Callable[[Any], Any]] = []
        self._hooks.append(fn)
        key = id(self)
        hooked = backward.hooked
        hooked[key] = weakref.ref(self, lambda _: hooked.pop(key, None))  # gone with the Value
        return backward.HookHandle(self, fn)

    def retain_grad(self) -> None:
        """Keep this computed value's gradient in `.grad` after backward (a leaf keeps its own anyway), as PyTorch's
        retain_grad."""
        key, retained = id(self), backward.retained
        retained[key] = weakref.ref(self, lambda _: retained.pop(key, None))  # gone with the Value

    def backward(self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad (and of every computed value
        that called retain_grad()).

        grad
            the gradient flowing into self; needed when self is not a scalar (same shape as self).
        retain_graph
            keep the graph's saved arrays to run backward through it again. Default: create_graph.
        create_graph
            record the backward pass itself, so that `.grad` is a Value you can differentiate again
            (second derivatives, Hessians).
        """
        if retain_graph is None:
            retain_graph = create_graph
        seed = _seed(self, grad, create_graph)
        backward.PASSES[0] += 1
        this_pass = backward.PASSES[0]

        def store(value: Value, g: Any) -> None:
            value._pass = this_pass
            backward.accumulate(value, g, create_graph)
        backward.run(self, seed, retain_graph, create_graph, store, every_value=False)
        self._ran = this_pass


class _Size(int):
    """numpy's size (an int: the number of elements) that PyTorch's x.size(dim) also answers."""

    shape: tuple[int, ...]

    def __new__(cls, n: int, shape: tuple[int, ...]) -> _Size:
        self = super().__new__(cls, n)
        self.shape = shape
        return self

    def __call__(self, dim: int | None = None) -> Any:
        """x.size() is the shape, x.size(dim) one axis's length, as PyTorch's."""
        return self.shape if dim is None else self.shape[operator.index(dim)]


# ---- helpers of the methods ------------------------------------------------------------------------------------

def _seed(root: Value, grad: Any, create_graph: bool, who: str = "backward") -> Any:
    """The gradient that starts a pass at root: 1 for a scalar, else `grad` checked against root's shape."""
    if not root.requires_grad:
        raise RuntimeError(f"{who}: this Value does not require grad (it was computed from constants only, or under "
                           "no_grad())")
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError(f"{who}: a scalar output is needed, got shape {root.shape}; for a non-scalar output "
                               f"pass grad=, an array of shape {root.shape}")
        seed = np.array(1, root.dtype) if root.ndim == 0 else ops.expand(np.array(1, root.dtype), root.shape)
    else:
        try:
            seed = _checks.floats(grad, root.dtype)
        except TypeError as e:
            raise TypeError(f"{who}: grad must be numbers, got {_checks.describe(grad)} ({e})") from None
        if seed.shape != root.shape:
            raise ValueError(f"{who}: grad has shape {seed.shape} but the output has shape {root.shape}")
    return Value._leaf(seed, requires_grad=False) if create_graph else seed


def _one_or_many(fn: str, what: str, given: tuple[Any, ...], default: Any = ...) -> Any:
    """numpy's two spellings, v.reshape(2, 3) and v.reshape((2, 3)), as one parameter."""
    if not given:
        if default is ...:
            raise TypeError(f"{fn}() missing required parameter {what!r}")
        return default
    return given[0] if len(given) == 1 else given


def _weak(p: Any) -> Any:
    """A parameter that is one float (a numpy float64 scalar or 0-d array) as a Python float, which numpy treats as
    weakly typed: a float32 input stays float32, as with `x * np.float64(2)` and PyTorch's 0-d tensors."""
    if isinstance(p, np.floating) or (type(p) is np.ndarray and p.ndim == 0 and p.dtype.kind == "f"):
        return float(p)
    return p


def _shape_of(name: str, fn: Callable[..., Any], v: Value, axis: Any) -> tuple[int, ...]:
    """The shape numpy's fn would give v's numbers, or numpy's complaint said in terms of name and shape."""
    try:
        return tuple(fn(np.empty(v.shape, dtype=bool), axis).shape)
    except (ValueError, TypeError, OverflowError) as e:  # numpy's AxisError is a ValueError
        raise ValueError(f"{name}: {e} (input shape {v.shape}, axis={axis!r})") from None


def _shift(v: Value, axis: Any, posinf: bool = False) -> Value:
    """The finite max over axis, to shift by before exp: a constant of the graph (softmax does not change when
    every input moves by the same amount), made by an op run without recording, so that a replay recomputes it."""
    with modes.no_grad():
        return apply(ops.SHIFT, v, axis=axis, posinf=posinf)


def _own_index(i: Any) -> Any:
    if isinstance(i, Value):
        return i._data.copy()
    if not isinstance(i, (np.ndarray, list)):
        return i
    try:
        return np.array(i)
    except ValueError as e:  # a ragged list
        raise IndexError(f"getitem: an index list must be of one shape, got {_checks.describe(i)} ({e})") from None


def _numbers(other: Any) -> Any:
    """What a Value is compared with: another Value's numbers, or numbers and arrays checked as constants."""
    return other._data if isinstance(other, Value) else _checks.constant(other)


def _refuse_in_place(v: Value, op: str) -> Any:
    if v._op is None and v.requires_grad:
        raise TypeError(f"Value: `w {op}= ...` on a parameter would make w a new computed Value, cut from the "
                        f"parameter; change its numbers in place instead: `w.data {op}= ...`")
    return NotImplemented  # Python then computes `w = w {op} ...`, a new Value


def _refuse(what: str, fix: str) -> Any:
    raise TypeError(f"Value: {what} is not differentiable and is not defined on Values; {fix}")


def _holds_values(items: Any) -> bool:
    """Whether a (nested) list or tuple holds a Value anywhere."""
    stack = [items]
    while stack:
        for x in stack.pop():
            if isinstance(x, Value):
                return True
            if isinstance(x, (list, tuple)):
                stack.append(x)
    return False


def _write(v: Value, array: Any) -> None:
    """Copy `array` into v's data in place, as a change that backward sees (loading a state, minimize)."""
    v._data[...] = array
    bump_version(v)


# ---- 4. the module functions that join or choose -----------------------------------------------------------------

def where(cond: Any, a: Any, b: Any) -> Value:
    """Elementwise choice, as numpy.where: a where cond is true, else b. cond (booleans; a Value's data or any
    array) is a constant, copied unless it is read-only; a and b get the gradient where they were chosen."""
    mask = _checks.numeric("where", "cond", cond)
    mask = mask.astype(bool) if mask.dtype != bool or mask.flags.writeable else mask  # a copy, unless read-only
    return apply(WHERE, a, b, cond=mask)


def embedding(ids: Any, weight: Any) -> Value:
    """weight[ids], the rows picked by whole-number ids (an input of the op), as PyTorch's F.embedding(ids, weight)."""
    return apply(EMBEDDING, _index_input("embedding", ids), weight)


def layer_norm(x: Any, weight: Any, dims: int = 1, eps: float = 1e-5) -> Value:
    """(x - mean) / sqrt(var + eps) * weight over x's last `dims` axes, one op (nn.LayerNorm adds its bias)."""
    return apply(LAYER_NORM, x, weight, dims=_checks.whole("layer_norm", "dims", dims), eps=eps)


def _index_input(name: str, x: Any) -> Any:
    if isinstance(x, Value) and x.requires_grad:
        raise TypeError(f"{name}: indices have no gradient; pass them as an array (or a Value without requires_grad)")
    return x


def maximum(a: Any, b: Any) -> Value:
    """Elementwise maximum of Values or arrays, as numpy.maximum (a tie shares the gradient equally)."""
    return apply(MAXIMUM, a, b)


def minimum(a: Any, b: Any) -> Value:
    """Elementwise minimum of Values or arrays, as numpy.minimum: -max(-a, -b)."""
    try:
        return -maximum(-_operand(a), -_operand(b))
    except (ValueError, TypeError) as e:
        raise type(e)(str(e).replace("maximum", "minimum", 1).replace("Value:", "minimum:", 1)) from None


def _operand(x: Any) -> Any:
    return x if isinstance(x, Value) else _checks.constant(x)


def _parts(name: str, values: Sequence[Any]) -> list[Any]:
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name}: give a list of Values or arrays to join, got {_checks.describe(values)}")
    parts = [p if isinstance(p, Value) else _checks.numeric(name, "each part", p) for p in values]
    if not parts:
        raise ValueError(f"{name}: needs at least one Value or array to join, got none")
    return parts


def concatenate(values: Sequence[Any], axis: int = 0, **pytorch: Any) -> Value:
    """Join Values (or arrays) along an existing axis, like numpy.concatenate. One op in the graph, however many
    parts: its backward hands each part its slice of the gradient."""
    _numpy_names("concatenate", pytorch)
    parts = _parts("concatenate", values)
    shapes = [np.shape(p._data if isinstance(p, Value) else p) for p in parts]
    if any(len(s) == 0 for s in shapes):
        raise ValueError("concatenate: 0-d values (single numbers) have no axis to join along; join them along a new "
                         "axis with tl.stack([...]) instead")
    try:
        ax = np.lib.array_utils.normalize_axis_index(operator.index(axis), len(shapes[0]))
        sizes = [s[ax] for s in shapes]
    except (TypeError, IndexError, ValueError, OverflowError) as e:  # numpy's AxisError is IndexError and ValueError
        raise _shape_error(CONCATENATE, [getattr(p, "_data", p) for p in parts], {"axis": axis}, e) from None
    return apply(CONCATENATE, *parts, axis=axis, bounds=(0, *np.cumsum(sizes).tolist()))


def stack(values: Sequence[Any], axis: int = 0, **pytorch: Any) -> Value:
    """Join Values (or arrays) of one shape along a new axis, like numpy.stack. One op in the graph."""
    _numpy_names("stack", pytorch)
    return apply(STACK, *_parts("stack", values), axis=axis)


(ADD, SUB, MUL, DIV, POW, MATMUL, NEG, MAXIMUM, LOGADDEXP, ATAN2, WHERE, EXP, LOG, TANH, SIGMOID, SIN, COS, TAN,
 ARCTAN, SINH, COSH, LOG2, EXP2, LOG1P, EXPM1, SOFTPLUS, ERF, GELU, RELU, LEAKY_RELU, ABS, SIGN, FLOOR, CEIL, ROUND,
 CLIP, SUM, CUMSUM, CUMPROD, PROD, MAX, RESHAPE, TRANSPOSE, BROADCAST_TO, GETITEM, SCATTER, ASTYPE, CONCATENATE, STACK,
 IM2COL, COL2IM, EMBEDDING, CROSS_ENTROPY, LAYER_NORM, SOFTMAX, MASKED_SOFTMAX) = (ops.TABLE[name] for name in (
    "add", "sub", "mul", "div", "pow", "matmul", "neg", "maximum", "logaddexp", "atan2", "where", "exp", "log", "tanh",
    "sigmoid", "sin", "cos", "tan", "arctan", "sinh", "cosh", "log2", "exp2", "log1p", "expm1", "softplus", "erf",
    "gelu", "relu", "leaky_relu", "abs", "sign", "floor", "ceil", "round", "clip", "sum", "cumsum", "cumprod", "prod",
    "max", "reshape", "transpose", "broadcast_to", "getitem", "scatter", "astype", "concatenate", "stack", "im2col",
    "col2im", "embedding", "cross_entropy", "layer_norm", "softmax", "masked_softmax"))
