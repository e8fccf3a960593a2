"""Value: a numpy array that records how it was computed, and the reverse-mode engine that runs backward.

Scope: graph recording (`_apply`), the primitive methods derived from the table in `ops.py`, the
composite operations (one-liners with no backward of their own), and `backward`: a topological order
built with an explicit stack (no recursion limit), the rules of `ops.py` applied in reverse, and
afterwards the arrays the forward saved freed unless asked to keep them (the links stay, for drawing).

Versions: every write to a Value's `.data` (`v.data -= ...`, `v.data = ...`, the optimisers, loading a
state) stamps it with a new number from one clock; each recorded op keeps the clock's reading at the
forward. backward refuses a graph holding a value stamped after the op that used it, since its gradient
would mix old and new numbers (PyTorch does the same with its version counters).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import operator
import os
import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _checks, ops

_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("grad_enabled", default=True)
_recording = _grad_enabled.get
_anomaly: contextvars.ContextVar[bool] = contextvars.ContextVar("detect_anomaly", default=False)
_checking = _anomaly.get
_passes = 0  # backward() calls so far: a value's _pass says which one last gave it its .grad
_clock = 0  # the last version stamp handed out (see the module's docstring)
_FRESH = (0,)  # the stamp of a value never written since it was made: shared, replaced by a box on the first write
_store_lock = threading.Lock()  # backward passes in several threads may accumulate into one leaf

# Opt-in extras live in two slots that are set only when used: a node's hooks (register_hook) and, in
# detect_anomaly mode only, the user's file and line where it was made. Backward looks for hooks only
# while some hooked value is alive.
_hooked: dict[int, weakref.ref[Value]] = {}  # id -> weak reference, each Value with hooks (Values' == is elementwise)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_saved_modes: contextvars.ContextVar[tuple[tuple[Any, bool], ...]] = contextvars.ContextVar("saved_modes", default=())


class _Mode:
    """A `with` block (or a decorator) that sets a mode flag and puts the old value back afterwards.

    One object may be entered again, nested, or from several threads: the old values are kept on a stack
    per thread and task (a context variable), not on the object.
    """

    def __init__(self, flag: contextvars.ContextVar[bool], value: bool):
        self.flag, self.value = flag, value

    def __enter__(self) -> None:
        _saved_modes.set(_saved_modes.get() + ((self.flag, self.flag.get()),))
        self.flag.set(self.value)

    def __exit__(self, *exc: Any) -> None:
        saved = _saved_modes.get()
        flag, value = saved[-1]
        flag.set(value)
        _saved_modes.set(saved[:-1])

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn) or inspect.iscoroutinefunction(fn):
            raise TypeError(f"{type(self).__name__} cannot decorate the generator or coroutine function "
                            f"{fn.__name__}: its body runs after the call returns, outside the block; "
                            "use the `with` block inside it")

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_Mode):
    """Record nothing inside this block. Works as a `with` block or as a decorator of a plain function;
    one object may be entered again and shared by threads."""

    def __init__(self) -> None:
        super().__init__(_grad_enabled, False)


class enable_grad(_Mode):
    """Record operations inside this block even within `no_grad()` (as PyTorch's enable_grad); `tl.grad` and
    the other functional forms use it, so they work anywhere."""

    def __init__(self) -> None:
        super().__init__(_grad_enabled, True)


def is_grad_enabled() -> bool:
    """Whether operations are being recorded (False inside `no_grad()`)."""
    return _grad_enabled.get()


class detect_anomaly(_Mode):
    """Inside this block, the first op whose forward output or backward gradient holds NaN or Inf raises
    FloatingPointError naming the op, its input shapes, and your file and line that made it.

    The file and line are recorded only in this mode, so the normal path pays nothing for them.
    """

    def __init__(self) -> None:
        super().__init__(_anomaly, True)


def _user_site() -> str:
    """The first frame outside this package: where the user's code called into it."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "<unknown>"


def _shapes(datas: Sequence[Any]) -> str:
    """The input shapes for a message: all of them, or the first few of many."""
    shapes = [str(np.shape(d)) for d in datas[:4]]
    return ", ".join(shapes) + (f", ... ({len(datas)} inputs)" if len(datas) > 4 else "")


def _non_finite(op_name: str, where: str, array: Any, datas: Sequence[Any], site: str | None) -> None:
    a = np.asarray(array)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        what = "NaN" if np.isnan(a).any() else "Inf"
        raise FloatingPointError(f"detect_anomaly: {op_name} produced {what} in its {where} "
                                 f"(input shapes {_shapes(datas)}); the op was made at {site or '<unknown>'}")


_describe, _whole = _checks.describe, _checks.whole


def _to_array(x: Any, dtype: Any = None, copy: bool = True) -> np.ndarray:
    """Numbers, nested lists and arrays to a float ndarray; anything non-numeric is a TypeError."""
    if isinstance(x, Value):
        x = x.data
    try:
        arr = np.array(x, dtype=dtype) if copy else np.asarray(x, dtype=dtype)
    except (ValueError, TypeError) as e:  # ragged lists, strings that won't convert to dtype, ...
        raise TypeError(f"Value: cannot make a numeric array from {_describe(x)}: {e}") from None
    kind = arr.dtype.kind
    if kind in "iub":
        return arr.astype(np.float64)  # ints and bools are promoted to float
    if kind != "f":
        raise TypeError(f"Value: expected real numbers, got {_describe(x)} (dtype {arr.dtype})")
    return arr


def _constant(x: Any) -> Any:
    """A non-Value operand: Python numbers pass as they are (numpy treats them as weakly typed,
    so float32 stays float32), arrays are validated like Value's data."""
    if type(x) is float or type(x) is int or (type(x) is np.ndarray and x.dtype.kind == "f"):
        return x
    if isinstance(x, (bool, np.bool_, np.integer)):
        return float(x)
    if isinstance(x, np.floating):
        return x
    return _to_array(x, copy=False)


_NO_PARAMS: dict[str, Any] = {}


def _apply(op: ops.Op, args: Sequence[Any], params: dict[str, Any]) -> Value:
    """Run op's forward on the operands' data and, if any operand needs a gradient, record the op.

    The hot path of the whole library: one loop over the operands, nothing allocated that is not needed.
    """
    parents, datas, needs_grad = [], [], False
    for a in args:
        if isinstance(a, Value):
            datas.append(a._data)
            needs_grad = needs_grad or a.requires_grad
        else:
            if not (type(a) is float or (type(a) is np.ndarray and a.dtype.kind == "f")):
                try:
                    a = _constant(a)  # validate and convert anything else
                except TypeError as e:
                    raise TypeError(f"{op.name}: {e}") from None
            datas.append(a)
        parents.append(a)
    try:
        data = op.forward(*datas, **params) if params else op.forward(*datas)
    except (ValueError, IndexError, TypeError, OverflowError) as e:
        if op.user:
            raise  # the user's own forward: their exception, as it was
        raise _shape_error(op, datas, params, e) from None
    out = Value.__new__(Value)
    out._data = data if type(data) is np.ndarray else np.asarray(data)
    out._stamp = _FRESH
    if type(data) is np.ndarray and data.base is not None:  # a view (reshape, slice): it shares its input's stamp
        _share_stamp(out, args)
    out._grad = None
    out.name = None
    if needs_grad and _recording():
        out.requires_grad = True
        out._ctx = (op, parents, datas, params, _clock)  # inputs as Values and as arrays; the clock's reading
    else:
        out.requires_grad = False
        out._ctx = None
    if _checking():
        out._site = _user_site()
        _non_finite(op.name, "forward output", out.data, datas, out._site)
    return out


def _shape_error(op: ops.Op, datas: list[Any], params: dict[str, Any], e: Exception) -> Exception:
    """numpy's complaint about shapes (or parameters), said in terms of the op, its input shapes and what
    it was given. The result is a plain ValueError, IndexError or TypeError (numpy's own subclasses may
    need arguments that a message alone does not give)."""
    kind = next((k for k in (ValueError, IndexError, TypeError) if isinstance(e, k)), ValueError)  # overflow too
    if op.error and kind is ValueError:
        return kind(op.error.format(*[np.shape(d) for d in datas], name=op.name, **params))
    given = "".join(f", {k}={v!r}"[:60] for k, v in params.items() if k not in ("index", "bounds", "cond"))
    return kind(f"{op.name}: {e} (input shape{'s' if len(datas) > 1 else ''} {_shapes(datas)}{given})")


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
        params = {**op.params, **dict(zip(names, rest)), **kwargs}
        missing = [k for k in required if params[k] is inspect.Parameter.empty]
        if missing:
            raise TypeError(f"{op.name}() missing required parameter {missing[0]!r}")
        return _apply(op, inputs, params)

    method.__name__ = op.name
    method.__doc__ = op.doc + "."
    return method


class Value:
    """A scalar or n-d array of floats that records the operations that produce it.

    >>> x = Value(3.0); y = x * x + 2 * x; y.backward(); x.grad
    array(8.)

    Python numbers, lists and numpy arrays mixed into an expression are constants. Ints and bools
    become float64; float32 stays float32 (`dtype=` overrides). Non-numeric data is a TypeError.
    """

    __slots__ = ("_data", "_stamp", "_grad", "name", "requires_grad", "_ctx", "_hooks", "_site", "_module",
                 "_pass", "__weakref__")
    __array_ufunc__ = None  # numpy hands `array op Value` to our reflected operators
    __hash__ = object.__hash__  # __eq__ compares elements, identity stays the hash

    _data: np.ndarray
    _stamp: Any  # [the clock's reading at the last write to data], shared by aliases of the same numbers
    _grad: Any  # None, an ndarray, or a Value after backward(create_graph=True)
    name: str | None
    requires_grad: bool
    _ctx: Any  # None for a leaf, else (op, parents, datas, params, clock); see _forward_inputs
    _site: str  # set in detect_anomaly mode only
    _module: Any  # set by nn.Module on the values its forward made (drawings group them)
    _pass: int  # set by backward(): the pass that stored this value's .grad; the root of pass k holds -k

    def __init__(self, data: Any, name: str | None = None, requires_grad: bool = True, dtype: Any = None):
        if dtype is not None:
            try:
                kind = np.dtype(dtype).kind
            except TypeError:
                kind = "?"
            if kind != "f":
                raise TypeError(f"Value: dtype must be a float type such as np.float32 or np.float64, got {dtype!r}")
        if isinstance(data, (list, tuple)) and _holds_values(data):
            raise TypeError("Value: got a list holding Values; a new Value made from their numbers would cut "
                            "the graph (no gradient would reach them): join them with tl.stack([...]) or "
                            "tl.concatenate([...]) instead")
        self._data = _to_array(data, dtype)
        self._stamp = _FRESH
        self._grad = None
        self.name = name
        self.requires_grad = bool(requires_grad)
        self._ctx = None

    @property
    def data(self) -> np.ndarray:
        """The numbers (an ndarray). Assigning to it, or changing it with `-=`, `*=` and the like, is seen:
        backward then refuses a graph that used the old numbers. Writes into it by index (`v.data[0] = 1`)
        are not seen (see the FAQ)."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        if not (type(value) is np.ndarray and value.dtype.kind == "f"):
            value = _to_array(value, copy=False)  # ints and bools become float64, as in the constructor
        self._data = value
        _bump(self)

    @property
    def grad(self) -> Any:
        """The gradient that backward() accumulated: None before, an ndarray of data's shape after (a Value with
        create_graph=True). Only leaves get one (parameters, inputs); a computed value keeps None unless
        backward(retain_graph=True)."""
        g = self._grad
        if g is None and self._ctx is not None and not sys._getframe(1).f_code.co_filename.startswith(_PACKAGE_DIR):
            warnings.warn(f"Value.grad: {_who(self)} is computed, not a leaf, so backward() leaves its .grad None. "
                          "If you wrote `w = w - lr * w.grad`, w is now a new computed Value and no longer the "
                          "parameter: change the parameter's numbers in place instead, `w.data -= lr * w.grad`",
                          stacklevel=2)
        return g

    @grad.setter
    def grad(self, g: Any) -> None:
        self._grad = g

    def _refuse_in_place(self, op: str) -> Any:
        if self._ctx is None and self.requires_grad:
            raise TypeError(f"Value: `w {op}= ...` on a parameter would make w a new computed Value, cut from the "
                            f"parameter; change its numbers in place instead: `w.data {op}= ...`")
        return NotImplemented  # Python then computes `w = w {op} ...`, a new Value

    def __iadd__(self, other: Any) -> Any:
        return self._refuse_in_place("+")

    def __isub__(self, other: Any) -> Any:
        return self._refuse_in_place("-")

    def __imul__(self, other: Any) -> Any:
        return self._refuse_in_place("*")

    def __itruediv__(self, other: Any) -> Any:
        return self._refuse_in_place("/")

    @property
    def _version(self) -> int:
        """The clock's reading at the last write to these numbers, through this Value or an alias of it."""
        return int(self._stamp[0])

    @_version.setter
    def _version(self, stamp: int) -> None:
        self._stamp = [stamp]

    def _box(self) -> list[int]:
        """This value's stamp as a box that aliases share (a detached copy, a view): a write through any of
        them is then seen by all."""
        if self._stamp is _FRESH:
            self._stamp = [0]
        return self._stamp

    if TYPE_CHECKING:  # the primitive methods are made from ops.TABLE at the end of this file
        def __getattr__(self, name: str) -> Callable[..., Value]: ...

    # ---- plain attributes ----
    shape = property(lambda self: self._data.shape, doc="The shape of data.")
    ndim = property(lambda self: self._data.ndim, doc="The number of axes.")
    dtype = property(lambda self: self._data.dtype, doc="The float dtype of data.")
    size = property(lambda self: self._data.size, doc="The number of elements.")
    T = property(lambda self: self.transpose(), doc="The transpose (axes reversed).")

    def item(self) -> float:
        """The single number in a one-element Value, as a Python float."""
        return self._data.item()

    def tolist(self) -> Any:
        """The numbers as (nested) Python lists, as ndarray.tolist()."""
        return self._data.tolist()

    def _number(self, what: str) -> float:
        if self._data.size != 1:
            raise TypeError(f"{what}: only a one-element Value converts to a Python number, got shape {self.shape}")
        return self._data.item()

    def __float__(self) -> float:
        return float(self._number("float()"))

    def __int__(self) -> int:
        return int(self._number("int()"))

    def __round__(self, ndigits: int | None = None) -> Any:
        return round(self._number("round()"), ndigits)

    def __format__(self, spec: str) -> str:  # f"{loss:.4f}"; an empty spec shows the Value itself
        return format(self._number(f"format spec {spec!r}"), spec) if spec else str(self)

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def detach(self) -> Value:
        """The same numbers as a constant: cut from the graph, no gradient flows through it. It shares the
        numbers and their version with self (as PyTorch's detach), so an in-place change of either is seen by a
        backward through the other."""
        v = Value._leaf(self._data, requires_grad=False)
        v._stamp = self._box()
        return v

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (grad becomes None, as in PyTorch)."""
        self.grad = None

    @staticmethod
    def _leaf(data: np.ndarray, requires_grad: bool) -> Value:
        v = Value.__new__(Value)
        v._data, v._stamp, v._grad, v.name, v.requires_grad, v._ctx = data, _FRESH, None, None, requires_grad, None
        return v

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return len(self.data)

    def __iter__(self) -> Iterator[Value]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d Value")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __repr__(self) -> str:
        def fmt(a: Any) -> str:
            if a is None:
                return "None"
            if isinstance(a, Value):
                a = a.data
            return np.array2string(np.asarray(a), precision=4, threshold=8, edgeitems=2, separator=", ")
        name = f", name={self.name!r}" if self.name else ""
        return f"Value(data={fmt(self.data)}, grad={fmt(self.grad)}{name})"

    # ---- operators: primitives from the table, composites as one-liners ----
    def __add__(self, other: Any) -> Value:  # self + other
        return _apply(ADD, (self, other), _NO_PARAMS)

    def __radd__(self, other: Any) -> Value:  # other + self
        return _apply(ADD, (other, self), _NO_PARAMS)

    def __mul__(self, other: Any) -> Value:  # self * other
        return _apply(MUL, (self, other), _NO_PARAMS)

    def __rmul__(self, other: Any) -> Value:  # other * self
        return _apply(MUL, (other, self), _NO_PARAMS)

    def __truediv__(self, other: Any) -> Value:  # self / other
        return _apply(DIV, (self, other), _NO_PARAMS)

    def __rtruediv__(self, other: Any) -> Value:  # other / self
        return _apply(DIV, (other, self), _NO_PARAMS)

    def __pow__(self, other: Any, modulo: Any = None) -> Value:  # self ** other
        if modulo is not None:
            return self._refuse("pow() with a modulo (three arguments)", "use pow(a, b) without one")
        return _apply(POW, (self, other), _NO_PARAMS)

    def __rpow__(self, other: Any) -> Value:  # other ** self
        return _apply(POW, (other, self), _NO_PARAMS)

    def __matmul__(self, other: Any) -> Value:  # self @ other
        return _apply(MATMUL, (self, other), _NO_PARAMS)

    def __rmatmul__(self, other: Any) -> Value:  # other @ self
        return _apply(MATMUL, (other, self), _NO_PARAMS)

    def __neg__(self) -> Value:  # -self
        return _apply(NEG, (self,), _NO_PARAMS)

    def __abs__(self) -> Value:  # abs(self), as in a backward rule written for arrays
        return self.abs()

    def __pos__(self) -> Value:  # +self
        return self

    def _refuse(self, what: str, fix: str) -> Any:
        raise TypeError(f"Value: {what} is not differentiable and is not defined on Values; {fix}")

    def __floordiv__(self, other: Any) -> Value:  # self // other
        return self._refuse("floor division (//)", "use (a / b) and the plain numbers a.data // b where no gradient "
                                                   "is needed")

    __rfloordiv__ = __floordiv__

    def __mod__(self, other: Any) -> Value:  # self % other
        return self._refuse("the remainder (%)", "use a - b * (a.data // b) (the gradient of a - b * k, k constant)")

    __rmod__ = __mod__

    def __divmod__(self, other: Any) -> Value:  # divmod(self, other)
        return self._refuse("divmod()", "use a / b, or the plain numbers divmod(a.data, b)")

    __rdivmod__ = __divmod__

    def __sub__(self, other: Any) -> Value:  # self - other
        return _apply(SUB, (self, other), _NO_PARAMS)

    def __rsub__(self, other: Any) -> Value:  # other - self
        return _apply(SUB, (other, self), _NO_PARAMS)

    def __getitem__(self, index: Any) -> Value:  # self[index]
        # The op keeps its own copy of index arrays and lists: changing the caller's later moves nothing.
        index = tuple(map(_own_index, index)) if isinstance(index, tuple) else _own_index(index)
        return _apply(GETITEM, (self,), {"index": index})

    # comparisons: plain boolean arrays, no gradient
    def __lt__(self, other: Any) -> Any:
        return self.data < ops.data(_operand(other))

    def __le__(self, other: Any) -> Any:
        return self.data <= ops.data(_operand(other))

    def __gt__(self, other: Any) -> Any:
        return self.data > ops.data(_operand(other))

    def __ge__(self, other: Any) -> Any:
        return self.data >= ops.data(_operand(other))

    def __eq__(self, other: Any) -> Any:
        return self.data == ops.data(_operand(other))

    def __ne__(self, other: Any) -> Any:
        return self.data != ops.data(_operand(other))

    # ---- composites: no backward of their own ----
    def sqrt(self) -> Value:
        """Square root: f(x) = x ** 0.5 (its gradient at -0.0 is +inf, numpy's (-0.0) ** -0.5; PyTorch's is -inf)."""
        return self ** 0.5

    def mean(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Mean: f(x) = sum(x) / n over axis (NaN, with numpy's warning, over nothing)."""
        total = self.sum(axis=axis, keepdims=keepdims)
        if self.size == 0 and total.size:
            warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=2)
            return total * np.nan
        return total * (total.size / self.size if self.size else 1.0)

    def min(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Minimum: f(x) = -max(-x) over axis."""
        return -((-self).max(axis=axis, keepdims=keepdims))

    def softmax(self, axis: int = -1) -> Value:
        """Softmax: f(x) = e^x / sum(e^x) over axis (shifted by the max, so large logits do not overflow).
        A -inf logit gets probability 0, as in PyTorch; a row of only -inf is NaN."""
        e = (self - _finite_max(self.data, axis)).exp()
        return e / e.sum(axis=axis, keepdims=True)

    def log_softmax(self, axis: int = -1) -> Value:
        """Log-softmax: f(x) = x - log(sum(e^x)) over axis, computed stably (-inf stays -inf, as in PyTorch)."""
        s = self - _finite_max(self.data, axis)
        return s - s.exp().sum(axis=axis, keepdims=True).log()

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Log-sum-exp: f(x) = log(sum(e^x)) over axis, shifted by the max so that it never overflows
        (as PyTorch: all -inf gives -inf, any +inf gives +inf, an empty axis gives -inf)."""
        m = _finite_max(self.data, axis)
        return (self - m).exp().sum(axis=axis, keepdims=keepdims).log() + (m if keepdims else np.squeeze(m, axis))

    def square(self) -> Value:
        """Square: f(x) = x * x."""
        return self * self

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Value:
        """Variance: f(x) = sum((x - mean)^2) / (n - ddof) over axis (ddof=1: the sample variance).
        With ddof >= n it divides by 0, as numpy and PyTorch: NaN (or inf), with numpy's warning, and its gradient
        is NaN (PyTorch's backward divides by the negative n - ddof instead). An infinite element makes the whole
        gradient NaN (PyTorch leaves out the mean's share, inf - inf, and gives the other elements -inf)."""
        ddof = _whole("var", "ddof", ddof, least=0)
        d = self - self.mean(axis=axis, keepdims=True)
        total = (d * d).sum(axis=axis, keepdims=keepdims)
        return total / float(max(self.size // max(total.size, 1) - ddof, 0))

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Value:
        """Standard deviation: f(x) = sqrt(var(x)). Where the spread is zero its gradient is 0, as PyTorch's
        (not sqrt's infinite slope times var's zero slope, which would be NaN)."""
        v = self.var(axis=axis, keepdims=keepdims, ddof=ddof)
        spread = v.data > 0
        if spread.all():
            return v ** 0.5
        return where(spread, where(spread, v, 1.0) ** 0.5, v * 0.0)  # 0 * var: the value and gradient 0 (NaN stays)

    def gelu(self) -> Value:
        """GELU: f(x) = x * Phi(x), Phi the standard normal's distribution function (PyTorch's exact form)."""
        return self * (0.5 * (1 + (self * float(np.sqrt(0.5))).erf()))

    def silu(self) -> Value:
        """SiLU (swish): f(x) = x * sigmoid(x)."""
        return self * self.sigmoid()

    def minimum(self, other: Any) -> Value:
        """Elementwise minimum: f(a, b) = -max(-a, -b) (a tie shares the gradient equally)."""
        return minimum(self, other)

    def flatten(self) -> Value:
        """The numbers as one axis: f(x) = x.reshape(-1)."""
        return self.reshape(-1)

    def squeeze(self, axis: Any = None) -> Value:
        """Drop size-1 axes (all of them, or those in axis), as numpy.squeeze."""
        return self.reshape(_shape_of("squeeze", np.squeeze, self, axis))

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

    def argmax(self, axis: Any = None) -> np.ndarray:
        """Where the maximum is along axis: plain integers (no gradient), as numpy.argmax."""
        return np.asarray(self.data.argmax(axis=axis))

    def argmin(self, axis: Any = None) -> np.ndarray:
        """Where the minimum is along axis: plain integers (no gradient), as numpy.argmin."""
        return np.asarray(self.data.argmin(axis=axis))

    # ---- backward ----
    def register_hook(self, fn: Callable[[Any], Any]) -> HookHandle:
        """Call fn(grad) when the gradient for this value is complete, during every backward pass; if it
        returns something other than None (an array, a number or a list of this value's shape), that
        replaces the gradient. Returns a handle: handle.remove()."""
        if not callable(fn):
            raise TypeError(f"register_hook: give a function of the gradient, got {_describe(fn)}")
        if getattr(self, "_hooks", None) is None:
            self._hooks: list[Callable[[Any], Any]] = []
        self._hooks.append(fn)
        key = id(self)
        _hooked[key] = weakref.ref(self, lambda _: _hooked.pop(key, None))  # gone with the Value
        return HookHandle(self, fn)

    def backward(self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        grad
            the gradient flowing into self; needed when self is not a scalar (same shape as self).
        retain_graph
            keep the graph to run backward through it again; then every value in it also keeps its
            `.grad`, which is what drawing and explaining a graph show. Default: create_graph.
        create_graph
            record the backward pass itself, so that `.grad` is a Value you can differentiate again
            (second derivatives, Hessians).
        """
        global _passes
        if retain_graph is None:
            retain_graph = create_graph
        seed = _seed(self, grad, create_graph)
        this_pass = _passes + 1

        def store(node: Value, g: Any) -> None:
            node._pass = this_pass
            if g.dtype != node.dtype:
                g = g.astype(node.dtype)
            if node.grad is None:  # an owned, writable array: grads of two inputs may be the same object
                node.grad = g if create_graph else np.array(g)
            else:
                total = node.grad + g
                node.grad = np.array(total) if isinstance(total, np.generic) else total  # 0-d stays an array
        _backprop(self, seed, retain_graph, create_graph, store, every_node=retain_graph)
        _passes = this_pass
        self._pass = -this_pass


def _shape_of(name: str, fn: Callable[..., Any], v: Value, axis: Any) -> tuple[int, ...]:
    """The shape numpy's fn would give v's numbers, or numpy's complaint said in terms of name and shape."""
    try:
        return tuple(fn(np.empty(v.shape, dtype=bool), axis).shape)
    except (ValueError, TypeError, OverflowError) as e:  # numpy's AxisError is a ValueError
        raise ValueError(f"{name}: {e} (input shape {v.shape}, axis={axis!r})") from None


def _finite_max(x: np.ndarray, axis: Any) -> np.ndarray:
    """The max over axis (keepdims) to shift by before exp: 0 where it is infinite or the axis is empty, so that
    the shift never makes inf - inf (PyTorch's logsumexp does the same)."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0.0).astype(x.dtype, copy=False)


def _operand(x: Any) -> Any:
    return x if isinstance(x, Value) else _constant(x)


def _own_index(i: Any) -> Any:
    if isinstance(i, Value):
        return i._data.copy()
    if not isinstance(i, (np.ndarray, list)):
        return i
    try:
        return np.array(i)
    except ValueError as e:  # a ragged list
        raise IndexError(f"getitem: an index list must be of one shape, got {_describe(i)} ({e})") from None


def _write(v: Value, array: Any) -> None:
    """Copy `array` into v's data in place, as a change that backward sees (loading a state, minimize)."""
    v._data[...] = array
    _bump(v)


def _bump(v: Value) -> None:
    """A write to v's numbers: a new stamp from the clock, in the box v shares with its aliases."""
    global _clock
    _clock += 1
    if v._stamp is _FRESH:
        v._stamp = [_clock]
    else:
        v._stamp[0] = _clock


def _share_stamp(out: Value, args: Sequence[Any]) -> None:
    for a in args:
        if isinstance(a, Value) and np.may_share_memory(out._data, a._data):
            out._stamp = a._box()
            return


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


def _who(value: Value) -> str:
    return f"{value.name!r} (shape {value.shape})" if value.name else f"a Value of shape {value.shape}"


def _changed(value: Value, op: ops.Op, made_it: bool) -> RuntimeError:
    who = _who(value)
    when = f"{op.name} made it" if made_it else f"{op.name} used it in the forward pass"
    return RuntimeError(f"backward: {who} was changed in place after {when}, so its gradient would mix old "
                        "and new numbers; call backward() before changing the weights, or recompute the forward")


def _seed(root: Value, grad: Any, create_graph: bool, who: str = "backward") -> Any:
    if not root.requires_grad:
        raise RuntimeError(f"{who}: this Value does not require grad (it was computed from constants "
                           "only, or under no_grad())")
    if grad is None:
        if root.size != 1:
            raise RuntimeError(f"{who}: a scalar output is needed, got shape {root.shape}; for a non-scalar "
                               f"output pass grad=, an array of shape {root.shape}")
        seed = np.array(1, root.dtype) if root.ndim == 0 else ops.expand(np.array(1, root.dtype), root.shape)
    else:
        try:
            seed = _to_array(grad, root.dtype)
        except TypeError as e:
            raise TypeError(f"{who}: grad must be numbers, got {_describe(grad)} ({e})") from None
        if seed.shape != root.shape:
            raise ValueError(f"{who}: grad has shape {seed.shape} but the output has shape {root.shape}")
    return Value._leaf(seed, requires_grad=False) if create_graph else seed


def _forward_inputs(ctx: Any) -> list[Any]:
    """The arrays an op's forward used: as saved, or, where backward() without retain_graph freed them (datas
    is None, the links kept), its inputs' data (which _toposort checks unchanged since)."""
    return ctx[2] if ctx[2] is not None else [p._data if isinstance(p, Value) else p for p in ctx[1]]


def _toposort(root: Value, view: bool = False) -> list[Value]:
    """Every node that needs a gradient, each after its parents: a depth-first search with an explicit
    stack (so any depth works). A node is appended once all its parents are, so reversed, the list
    gives each node its whole gradient before it passes it on.

    On the way it checks versions: a value written after an op used it (or made it) is an error here,
    before any gradient is computed. A released graph is an error too, unless `view` (drawing and
    explaining a graph after backward: the inputs' data, unchanged, stand for the freed arrays)."""
    order: list[Value] = []
    visited: set[Value] = set()  # Values hash by identity
    stack: list[Any] = [root]
    pop, push, seen, done = stack.pop, stack.append, visited.add, order.append
    while stack:
        node = pop()
        if node is None:  # the marker below it: that node's parents are all in order now
            done(pop())
            continue
        if node in visited:
            continue
        seen(node)
        ctx = node._ctx
        if ctx is None:  # a leaf has no parents: done at once
            done(node)
            continue
        if ctx[2] is None and not view:
            raise RuntimeError("backward: this graph was already released by an earlier backward(); "
                               "call backward(retain_graph=True) the first time to run backward through it again")
        stamp = ctx[4]
        if node._stamp[0] > stamp:
            raise _changed(node, ctx[0], made_it=True)
        push(node)
        push(None)
        for p in ctx[1]:
            if isinstance(p, Value):
                if p._stamp[0] > stamp:
                    raise _changed(p, ctx[0], made_it=False)
                if p.requires_grad and p not in visited:
                    push(p)
    return order


def _backprop(root: Value, seed: Any, retain_graph: bool, create_graph: bool,
              store: Callable[[Value, Any], None], every_node: bool, view: bool = False) -> None:
    """The engine. Walk the graph from the output back to the leaves, applying each op's rules.

    `store(node, grad)` receives each leaf's gradient (with every_node, each node's) once the whole
    pass has succeeded, and only then is the graph released: an exception on the way (a hook's, a
    Function's) leaves the gradients and the graph as they were, so the pass can be retried.
    With create_graph the rules run on Values (the node itself as `out`, its parents as inputs), so the
    gradients record a graph too; otherwise they run on the arrays the forward used.
    """
    grads: dict[Value, Any] = {root: seed}
    done: list[tuple[Value, Any]] = []
    hooks, anomaly = bool(_hooked), _checking()
    order = _toposort(root, view)
    for node in reversed(order):
        g = grads.pop(node)
        if hooks and getattr(node, "_hooks", None):
            g = _run_hooks(node, g, create_graph)
        ctx = node._ctx
        if ctx is None or every_node:
            done.append((node, g))
            if ctx is None:
                continue
        op, parents, datas, params, _ = ctx
        if datas is None:  # released: only a view pass (drawing, explaining) gets here
            datas = _forward_inputs(ctx)
        out, inputs = (node, parents) if create_graph else (node._data, datas)
        if op.variadic:  # each part's rule needs only out and the params: passing every part would be quadratic
            inputs = ()
        for rule, p in zip(op.rules, parents):
            if isinstance(p, Value) and p.requires_grad:
                gp = rule(g, out, *inputs, **params) if params else rule(g, out, *inputs)
                if anomaly:
                    _non_finite(op.name, "backward gradient", ops.data(gp), datas, getattr(node, "_site", None))
                if gp.shape != p._data.shape:
                    gp = ops.sum_to(gp, p._data.shape, op.name)  # undo broadcasting: here, once, for every op
                grads[p] = grads[p] + gp if p in grads else gp
    with _store_lock:
        for node, g in done:
            store(node, g)
    if not retain_graph:  # free the saved arrays, keep the links (as PyTorch keeps grad_fn)
        for node in order:
            ctx = node._ctx
            if ctx is not None:
                node._ctx = (ctx[0], ctx[1], None, ctx[3], ctx[4])


def _run_hooks(node: Value, g: Any, create_graph: bool) -> Any:
    """Call node's hooks on its gradient; a hook's result (an array, a number, a list) replaces it."""
    for fn in list(node._hooks):
        replaced = fn(g)
        if replaced is None:
            continue
        if isinstance(replaced, Value):
            replaced = replaced if create_graph else replaced._data
        else:
            try:
                replaced = _to_array(replaced, node.dtype, copy=False)
            except TypeError:
                raise TypeError(f"register_hook: hook {getattr(fn, '__name__', fn)!r} returned "
                                f"{_describe(replaced)}; a hook returns None or a gradient of shape "
                                f"{node.shape}") from None
            if replaced.shape != node.shape and replaced.size == 1:  # a number for a whole gradient
                replaced = ops.expand(replaced.reshape(()), node.shape)
            if create_graph:
                replaced = Value._leaf(replaced, requires_grad=False)
        if replaced.shape != node.shape:
            raise ValueError(f"register_hook: hook {getattr(fn, '__name__', fn)!r} returned a gradient of shape "
                             f"{replaced.shape} for a value of shape {node.shape}")
        g = replaced
    return g


class HookHandle:
    """Returned by register_hook: `remove()` unregisters the hook."""

    def __init__(self, value: Value, fn: Callable[[Any], Any]):
        self._value, self._fn = weakref.ref(value), fn

    def remove(self) -> None:
        """Unregister the hook: later backward passes no longer call it (removing twice is harmless)."""
        value = self._value()
        fns = getattr(value, "_hooks", None)
        if fns and self._fn in fns:
            fns.remove(self._fn)
            if not fns:
                _hooked.pop(id(value), None)


def vjp(output: Value, inputs: Sequence[Value], grad: Any = None, create_graph: bool = False,
        retain_graph: bool | None = None) -> list[Any]:
    """Gradients of `output` with respect to `inputs` (vector-Jacobian products), without touching `.grad`.

    An input the output does not depend on gets zeros. With create_graph the gradients are Values.
    retain_graph (default: create_graph) keeps the graph for another pass.
    """
    if not isinstance(output, Value):
        raise TypeError(f"vjp: output must be a Value, got {type(output).__name__}")
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"vjp: inputs must be a list of Values, got {_describe(inputs)}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"vjp: inputs must be Values (wrap arrays in tl.Value); input {i} is {type(x).__name__}")
    wanted: dict[Value, list[int]] = {}
    for i, x in enumerate(inputs):
        wanted.setdefault(x, []).append(i)
    found: list[Any] = [None] * len(inputs)

    def store(node: Value, g: Any) -> None:
        for i in wanted.get(node, ()):
            found[i] = g
    if output.requires_grad:
        keep = create_graph if retain_graph is None else retain_graph
        _backprop(output, _seed(output, grad, create_graph, "vjp"), keep, create_graph, store, every_node=True)
    for i, x in enumerate(inputs):
        if found[i] is None:
            found[i] = np.zeros_like(x.data)
            if create_graph:
                found[i] = Value._leaf(found[i], requires_grad=False)
        elif found[i].dtype != x.dtype:
            found[i] = found[i].astype(x.dtype)
    return found


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


for _name in ("mean", "min", "softmax", "log_softmax", "logsumexp", "var", "std", "squeeze", "expand_dims", "argmax",
              "argmin"):
    setattr(Value, _name, _numpy_keywords(getattr(Value, _name)))

# The primitive methods (v.exp(), v.sum(axis), ...), made from the table so that adding an op is one entry;
# the ops that join any number of inputs, and where, are the module's functions above instead.
for _op in ops.TABLE.values():
    if not _op.variadic and _op.name != "where":
        setattr(Value, _op.name, _method(_op))
ADD, SUB, MUL, DIV, POW, MATMUL, NEG, GETITEM, CONCATENATE, STACK, MAXIMUM, WHERE = (
    ops.TABLE[n] for n in ("add", "sub", "mul", "div", "pow", "matmul", "neg", "getitem", "concatenate", "stack",
                           "maximum", "where"))
