"""Value: a numpy array that records how it was computed.

Scope: recording (`_apply`: run an op's forward and, when a gradient is needed, keep a `backward.Node`), the
Value class with its data, gradient, versions and operators, and `backward()`, which hands the walk in
`backward.py` a seed and stores what it gives the leaves. The other methods (v.exp(), v.sum(), v.mean(), ...)
are added by `methods.py`, from the table in `ops` and as composites; the modes are in `modes.py`.
"""

from __future__ import annotations

import sys
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _checks, backward, modes, ops
from .backward import FRESH, Recorded, bump
from .backward import _clock as CLOCK
from .modes import detect_anomaly, enable_grad, is_grad_enabled, no_grad  # noqa: F401  (tl.value.no_grad, ...)
from .protocols import PythonProtocols

_passes = 0  # backward() calls so far: a value's _pass says which one last gave it its .grad
_recording, _checking, _modules = modes.recording, modes.checking, modes.modules
_describe, _whole = _checks.describe, _checks.whole
_to_array, _constant = _checks.floats, _checks.constant


_NO_PARAMS: dict[str, Any] = {}
_tapes = backward.tapes


def _apply(op: ops.Op, args: Sequence[Any], params: dict[str, Any]) -> Value:
    """Run op's forward on the operands' data and, if any operand needs a gradient, record the op.

    The hot path of the whole library: one loop over the operands, nothing allocated that is not needed.
    """
    given: list[Any] = []
    parents = given
    datas, needs_grad, arrays = [], False, False
    for a in args:
        if isinstance(a, Value):
            datas.append(a._data)
            needs_grad = needs_grad or a.requires_grad
        else:
            if not (type(a) is float or (type(a) is np.ndarray and a.dtype.kind == "f" and a.ndim)):
                try:
                    a = _constant(a)  # validate and convert anything else
                except TypeError as e:
                    raise TypeError(f"{op.name}: {e}") from None
            arrays = arrays or type(a) is np.ndarray
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
    out._stamp = FRESH
    if type(data) is np.ndarray and data.base is not None:  # a view (reshape, slice): it shares its input's stamp
        _share_stamp(out, args)
    out._grad = None
    out.name = None
    if needs_grad and _recording():
        if arrays:  # the caller's arrays, copied: writing into them later changes nothing the backward reads
            datas = [d.copy() if type(d) is np.ndarray and not isinstance(p, Value) else d
                     for d, p in zip(datas, parents)]
            parents = [p if isinstance(p, Value) else d for d, p in zip(datas, parents)]
        out.requires_grad = True
        out._op, out._inputs, out._saved, out._params, out._at = op, parents, datas, params, CLOCK[0]
        calls = _modules()
        if calls:
            out._module = calls  # the modules whose forward made it, outermost first (drawings box them)
    else:
        out.requires_grad = False
        out._op = None
    if _checking():
        out._site = modes.user_site()
        modes.non_finite(op.name, "forward output", out._data, datas, out._site)
    if _tapes:
        _tapes[-1].append((op, given, params, out, args))  # the operands as given: a replay reads them afresh
    return out


def _shape_error(op: ops.Op, datas: list[Any], params: dict[str, Any], e: Exception) -> Exception:
    """numpy's complaint about shapes (or parameters), said in terms of the op, its input shapes and what
    it was given. The result is a plain ValueError, IndexError or TypeError (numpy's own subclasses may
    need arguments that a message alone does not give)."""
    kind = next((k for k in (ValueError, IndexError, TypeError) if isinstance(e, k)), ValueError)  # overflow too
    if op.error and kind is ValueError:
        return kind(op.error.format(*[np.shape(d) for d in datas], name=op.name, **params))
    given = "".join(f", {k}={v!r}"[:60] for k, v in params.items() if k not in op.hidden)
    return kind(f"{op.name}: {e} (input shape{'s' if len(datas) > 1 else ''} {modes.shapes(datas)}{given})")


class Value(Recorded, PythonProtocols):
    """A scalar or n-d array of floats that records the operations that produce it.

    >>> x = Value(3.0); y = x * x + 2 * x; y.backward(); x.grad
    array(8.)

    Python numbers, lists and numpy arrays mixed into an expression are constants. Ints and bools
    become float64; float32 stays float32 (`dtype=` overrides). Non-numeric data is a TypeError.
    """

    __slots__ = ("_data", "_stamp", "_grad", "name", "requires_grad", "_op", "_inputs", "_saved", "_params", "_at",
                 "_hooks", "_site", "_module",
                 "_pass", "_ran", "_retains", "__weakref__")
    __array_ufunc__ = None  # numpy hands `array op Value` to our reflected operators
    __hash__ = object.__hash__  # __eq__ compares elements, identity stays the hash

    _data: np.ndarray
    _stamp: Any  # [the clock's reading at the last write to data], shared by aliases of the same numbers
    _grad: Any  # None, an ndarray, or a Value after backward(create_graph=True)
    name: str | None
    requires_grad: bool
    # _op, _inputs, _saved, _params, _at: the fields of backward.Node, kept on the value the op made; _op is None
    # for a leaf. `v._node` gives them as one record.
    _site: str  # set in detect_anomaly mode only
    _module: tuple[Any, ...]  # the modules whose forward made it, outermost first (set only inside one)
    _pass: int  # set by backward(): the pass that stored this value's .grad
    _ran: int  # set by backward() on its root: the pass it ran
    _retains: bool  # set by retain_grad(): a computed value that keeps its .grad

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
        self._stamp = FRESH
        self._grad = None
        self.name = name
        self.requires_grad = bool(requires_grad)
        self._op = None

    @property
    def data(self) -> np.ndarray:
        """The numbers (an ndarray). Assigning to it, or changing it with `-=`, `*=` and the like, is seen:
        backward then refuses a graph that used the old numbers. Writes into it by index (`v.data[0] = 1`)
        are not seen (see the FAQ)."""
        if _tapes:
            backward.unreplayable("reads")
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        if not (type(value) is np.ndarray and value.dtype.kind == "f"):
            value = _to_array(value, copy=False)  # ints and bools become float64, as in the constructor
        self._data = value
        bump(self)

    @property
    def grad(self) -> Any:
        """The gradient that backward() accumulated: None before, an ndarray of data's shape after (a Value with
        create_graph=True). Only leaves get one (parameters, inputs); a computed value keeps None unless it
        called retain_grad() first."""
        g = self._grad
        if g is None and self._op is not None and not getattr(self, "_retains", False) and \
                not sys._getframe(1).f_code.co_filename.startswith(modes.PACKAGE_DIR):
            warnings.warn(f"Value.grad: {backward._who(self)} is computed, not a leaf, so backward() leaves its .grad "
                          "None (call retain_grad() before backward() to keep it). "
                          "If you wrote `w = w - lr * w.grad`, w is now a new computed Value and no longer the "
                          "parameter: change the parameter's numbers in place instead, `w.data -= lr * w.grad`",
                          stacklevel=2)
        return g

    @grad.setter
    def grad(self, g: Any) -> None:
        """None forgets the gradient; a number (micrograd's `p.grad = 0.0`) fills data's shape with it; an array
        must have data's shape."""
        if _tapes:
            backward.unreplayable("grad")
        if g is not None and not isinstance(g, Value):
            try:
                g = _to_array(g, self.dtype)
            except TypeError:
                raise TypeError(f"Value.grad: give None, a number or an array of shape {self.shape}, got "
                                f"{_describe(g)}") from None
            if g.shape != self.shape:
                if g.size != 1:
                    raise ValueError(f"Value.grad: an array of shape {g.shape} for a Value of shape {self.shape}")
                g = np.full(self.shape, g.reshape(()), self.dtype)
        self._grad = g

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
        if self._stamp is FRESH:
            self._stamp = [0]
        return self._stamp

    if TYPE_CHECKING:  # the table's methods and the composites are added by methods.py
        def __getattr__(self, name: str) -> Callable[..., Value]: ...

    # ---- plain attributes ----
    shape = property(lambda self: self._data.shape, doc="The shape of data.")
    ndim = property(lambda self: self._data.ndim, doc="The number of axes.")
    dtype = property(lambda self: self._data.dtype, doc="The float dtype of data.")
    size = property(lambda self: self._data.size, doc="The number of elements.")
    T = property(lambda self: self.transpose(), doc="The transpose (axes reversed).")

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
        v._data, v._stamp, v._grad, v.name, v.requires_grad, v._op = data, FRESH, None, None, requires_grad, None
        return v

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

    def __sub__(self, other: Any) -> Value:  # self - other
        return _apply(SUB, (self, other), _NO_PARAMS)

    def __rsub__(self, other: Any) -> Value:  # other - self
        return _apply(SUB, (other, self), _NO_PARAMS)

    def __getitem__(self, index: Any) -> Value:  # self[index]
        # The op keeps its own copy of index arrays and lists: changing the caller's later moves nothing.
        index = tuple(map(_own_index, index)) if isinstance(index, tuple) else _own_index(index)
        return _apply(GETITEM, (self,), {"index": index})

    # ---- backward ----
    def register_hook(self, fn: Callable[[Any], Any]) -> backward.HookHandle:
        """Call fn(grad) when the gradient for this value is complete, during every backward pass; if it
        returns something other than None (an array, a number or a list of this value's shape), that
        replaces the gradient. Returns a handle: handle.remove()."""
        if not callable(fn):
            raise TypeError(f"register_hook: give a function of the gradient, got {_describe(fn)}")
        if getattr(self, "_hooks", None) is None:
            self._hooks: list[Callable[[Any], Any]] = []
        self._hooks.append(fn)
        key = id(self)
        hooked = backward.hooked
        hooked[key] = weakref.ref(self, lambda _: hooked.pop(key, None))  # gone with the Value
        return backward.HookHandle(self, fn)

    def retain_grad(self) -> None:
        """Keep this computed value's gradient in `.grad` after backward (a leaf keeps its own anyway), as
        PyTorch's retain_grad."""
        self._retains = True
        _retaining[0] = True

    def _hooked_grad(self, g: Any, create_graph: bool) -> Any:
        """g after this value's hooks: a hook's result (an array, a number, a list) replaces it."""
        for fn in list(self._hooks):
            replaced = fn(g)
            if replaced is None:
                continue
            if isinstance(replaced, Value):
                replaced = replaced if create_graph else replaced._data
            else:
                try:
                    replaced = _to_array(replaced, self.dtype, copy=False)
                except TypeError:
                    raise TypeError(f"register_hook: hook {getattr(fn, '__name__', fn)!r} returned "
                                    f"{_describe(replaced)}; a hook returns None or a gradient of shape "
                                    f"{self.shape}") from None
                if replaced.shape != self.shape and replaced.size == 1:  # a number for a whole gradient
                    replaced = ops.expand(replaced.reshape(()), self.shape)
                if create_graph:
                    replaced = Value._leaf(replaced, requires_grad=False)
            if replaced.shape != self.shape:
                raise ValueError(f"register_hook: hook {getattr(fn, '__name__', fn)!r} returned a gradient of shape "
                                 f"{replaced.shape} for a value of shape {self.shape}")
            g = replaced
        return g

    def backward(self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad (and of every computed
        value that called retain_grad()).

        grad
            the gradient flowing into self; needed when self is not a scalar (same shape as self).
        retain_graph
            keep the graph's saved arrays to run backward through it again. Default: create_graph.
        create_graph
            record the backward pass itself, so that `.grad` is a Value you can differentiate again
            (second derivatives, Hessians).
        """
        global _passes
        if retain_graph is None:
            retain_graph = create_graph
        seed = _seed(self, grad, create_graph)
        this_pass = _passes + 1

        def store(value: Value, g: Any) -> None:
            if value._op is not None and not getattr(value, "_retains", False):
                return
            value._pass = this_pass
            backward.accumulate(value, g, create_graph)
        backward.run(self, seed, retain_graph, create_graph, store, every_value=_retaining[0])
        _passes = this_pass
        self._ran = this_pass


_retaining = [False]  # whether a value has called retain_grad(): backward then hands store every value


def _seed(root: Value, grad: Any, create_graph: bool, who: str = "backward") -> Any:
    """The gradient that starts a pass at root: 1 for a scalar, else `grad` checked against root's shape."""
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
    bump(v)


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


ADD, SUB, MUL, DIV, POW, MATMUL, NEG, GETITEM = (
    ops.TABLE[n] for n in ("add", "sub", "mul", "div", "pow", "matmul", "neg", "getitem"))
