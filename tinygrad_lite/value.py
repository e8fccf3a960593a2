"""Value: a numpy array that records how it was computed, and the reverse-mode engine that runs backward.

Scope: graph recording (`_apply`), the primitive methods derived from the table in `ops.py`, the
composite operations (one-liners with no backward of their own), and `backward`: a topological order
built with an explicit stack (no recursion limit), the rules of `ops.py` applied in reverse, the
graph released afterwards unless asked to keep it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops

_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("grad_enabled", default=True)
_recording = _grad_enabled.get
_anomaly: contextvars.ContextVar[bool] = contextvars.ContextVar("detect_anomaly", default=False)
_checking = _anomaly.get
_RELEASED = ("released",)  # what a node's _ctx becomes once backward has freed its links

# Opt-in extras live in two slots that are set only when used: a node's hooks (register_hook) and, in
# detect_anomaly mode only, the user's file and line where it was made. Backward looks for hooks only
# while some exist.
_hook_count = 0
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@contextlib.contextmanager
def _set(flag: contextvars.ContextVar[bool], value: bool) -> Iterator[None]:
    """Set a mode flag for a block; per thread and task, since the flags are context variables."""
    token = flag.set(value)
    try:
        yield
    finally:
        flag.reset(token)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Record nothing inside this block. Works as a `with` block or as a decorator."""
    return _set(_grad_enabled, False)


def is_grad_enabled() -> bool:
    """Whether operations are being recorded (False inside `no_grad()`)."""
    return _grad_enabled.get()


def detect_anomaly() -> contextlib.AbstractContextManager[None]:
    """Inside this block, the first op whose forward output or backward gradient holds NaN or Inf raises
    FloatingPointError naming the op, its input shapes, and your file and line that made it.

    The file and line are recorded only in this mode, so the normal path pays nothing for them.
    """
    return _set(_anomaly, True)


def _user_site() -> str:
    """The first frame outside this package: where the user's code called into it."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "<unknown>"


def _non_finite(op_name: str, where: str, array: Any, datas: Sequence[Any], site: str | None) -> None:
    a = np.asarray(array)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        what = "NaN" if np.isnan(a).any() else "Inf"
        shapes = ", ".join(str(np.shape(d)) for d in datas)
        raise FloatingPointError(f"detect_anomaly: {op_name} produced {what} in its {where} "
                                 f"(input shapes {shapes}); the op was made at {site or '<unknown>'}")


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"[:80]


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
            datas.append(a.data)
            needs_grad = needs_grad or a.requires_grad
        else:
            if not (type(a) is float or (type(a) is np.ndarray and a.dtype.kind == "f")):
                a = _constant(a)  # validate and convert anything else
            datas.append(a)
        parents.append(a)
    try:
        data = op.forward(*datas, **params) if params else op.forward(*datas)
    except (ValueError, IndexError, TypeError) as e:
        raise _shape_error(op, datas, params, e) from None
    out = Value.__new__(Value)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.name = None
    if needs_grad and _recording():
        out.requires_grad = True
        out._ctx = (op, parents, datas, params)  # the node's inputs, as Values and as the arrays used
    else:
        out.requires_grad = False
        out._ctx = None
    if _checking():
        out._site = _user_site()
        _non_finite(op.name, "forward output", out.data, datas, out._site)
    return out


def _shape_error(op: ops.Op, datas: list[Any], params: dict[str, Any], e: Exception) -> Exception:
    """numpy's complaint about shapes (or parameters), said in terms of the op and its input shapes."""
    shapes = [np.shape(d) for d in datas]
    msg = op.error.format(*shapes, name=op.name, **params) if op.error and isinstance(e, ValueError) else \
        f"{op.name}: {e} (input shape{'s' if len(shapes) > 1 else ''} {', '.join(map(str, shapes))})"
    return (ValueError if isinstance(e, ValueError) else type(e))(msg)


def _method(op: ops.Op) -> Callable[..., Value]:
    """A Value method for a table entry: `v.sum(0, keepdims=True)`, `v.reshape(2, 3)`, `a.matmul(b)`."""
    n, names = op.arity, tuple(op.params)
    if not names and n == 1:
        def unary(self: Value) -> Value:  # exp, tanh, sigmoid, ...: the common case, kept short
            return _apply(op, (self,), _NO_PARAMS)
        unary.__name__, unary.__doc__ = op.name, op.doc + "."
        return unary

    def method(self: Value, *args: Any, **kwargs: Any) -> Value:
        inputs, rest = (self,) + args[:n - 1], args[n - 1:]
        if not rest and not kwargs:
            return _apply(op, inputs, op.params)  # all defaults: v.sum(), v.transpose()
        if len(names) == 1 and len(rest) > 1:  # numpy style: v.reshape(2, 3) == v.reshape((2, 3))
            rest = (rest,)
        if len(rest) > len(names):
            raise TypeError(f"{op.name}() takes at most {len(names)} parameters, got {len(rest)}")
        unknown = kwargs.keys() - op.params.keys()
        if unknown:
            raise TypeError(f"{op.name}() got an unexpected keyword argument {unknown.pop()!r}")
        return _apply(op, inputs, {**op.params, **dict(zip(names, rest)), **kwargs})

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

    __slots__ = ("data", "grad", "name", "requires_grad", "_ctx", "_hooks", "_site", "_module", "__weakref__")
    __array_ufunc__ = None  # numpy hands `array op Value` to our reflected operators
    __hash__ = object.__hash__  # __eq__ compares elements, identity stays the hash

    data: np.ndarray
    grad: Any  # None, an ndarray, or a Value after backward(create_graph=True)
    name: str | None
    requires_grad: bool
    _ctx: Any
    _site: str  # set in detect_anomaly mode only
    _module: Any  # set by nn.Module on the values its forward made (drawings group them)

    def __init__(self, data: Any, name: str | None = None, requires_grad: bool = True, dtype: Any = None):
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise TypeError(f"Value: dtype must be a float type, got {np.dtype(dtype)}")
        self.data = _to_array(data, dtype)
        self.grad = None
        self.name = name
        self.requires_grad = bool(requires_grad)
        self._ctx = None

    if TYPE_CHECKING:  # the primitive methods are made from ops.TABLE at the end of this file
        def __getattr__(self, name: str) -> Callable[..., Value]: ...

    # ---- plain attributes ----
    shape = property(lambda self: self.data.shape, doc="The shape of data.")
    ndim = property(lambda self: self.data.ndim, doc="The number of axes.")
    dtype = property(lambda self: self.data.dtype, doc="The float dtype of data.")
    size = property(lambda self: self.data.size, doc="The number of elements.")
    T = property(lambda self: self.transpose(), doc="The transpose (axes reversed).")

    def item(self) -> float:
        """The single number in a one-element Value, as a Python float."""
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def detach(self) -> Value:
        """The same numbers as a constant: cut from the graph, no gradient flows through it."""
        return Value._leaf(self.data, requires_grad=False)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (grad becomes None, as in PyTorch)."""
        self.grad = None

    @staticmethod
    def _leaf(data: np.ndarray, requires_grad: bool) -> Value:
        v = Value.__new__(Value)
        v.data, v.grad, v.name, v.requires_grad, v._ctx = data, None, None, requires_grad, None
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

    def __pow__(self, other: Any) -> Value:  # self ** other
        return _apply(POW, (self, other), _NO_PARAMS)

    def __rpow__(self, other: Any) -> Value:  # other ** self
        return _apply(POW, (other, self), _NO_PARAMS)

    def __matmul__(self, other: Any) -> Value:  # self @ other
        return _apply(MATMUL, (self, other), _NO_PARAMS)

    def __rmatmul__(self, other: Any) -> Value:  # other @ self
        return _apply(MATMUL, (other, self), _NO_PARAMS)

    def __neg__(self) -> Value:  # -self
        return _apply(NEG, (self,), _NO_PARAMS)

    def __sub__(self, other: Any) -> Value:  # self - other
        return self + (-other)

    def __rsub__(self, other: Any) -> Value:  # other - self
        return (-self) + other

    def __getitem__(self, index: Any) -> Value:  # self[index]
        if isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Value) else i for i in index)
        elif isinstance(index, Value):
            index = index.data
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
        """Square root: f(x) = x ** 0.5."""
        return self ** 0.5

    def mean(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Mean: f(x) = sum(x) / n over axis."""
        total = self.sum(axis=axis, keepdims=keepdims)
        return total * (total.size / self.size)

    def min(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Minimum: f(x) = -max(-x) over axis."""
        return -((-self).max(axis=axis, keepdims=keepdims))

    def softmax(self, axis: int = -1) -> Value:
        """Softmax: f(x) = e^x / sum(e^x) over axis (shifted by the max, so large logits do not overflow)."""
        e = (self - self.data.max(axis=axis, keepdims=True)).exp()
        return e / e.sum(axis=axis, keepdims=True)

    def log_softmax(self, axis: int = -1) -> Value:
        """Log-softmax: f(x) = x - log(sum(e^x)) over axis, computed stably."""
        s = self - self.data.max(axis=axis, keepdims=True)
        return s - s.exp().sum(axis=axis, keepdims=True).log()

    # ---- backward ----
    def register_hook(self, fn: Callable[[Any], Any]) -> HookHandle:
        """Call fn(grad) when the gradient for this value is complete, during every backward pass; if it
        returns something other than None, that replaces the gradient. Returns a handle: handle.remove()."""
        global _hook_count
        if getattr(self, "_hooks", None) is None:
            self._hooks: list[Callable[[Any], Any]] = []
        self._hooks.append(fn)
        _hook_count += 1
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
        if retain_graph is None:
            retain_graph = create_graph
        seed = _seed(self, grad, create_graph)

        def store(node: Value, g: Any) -> None:
            if g.dtype != node.dtype:
                g = g.astype(node.dtype)
            if node.grad is not None:
                node.grad = node.grad + g
            else:  # an owned, writable array: grads of two inputs may be the same object
                node.grad = g if create_graph else np.array(g)
        _backprop(self, seed, retain_graph, create_graph, store, every_node=retain_graph)


def _operand(x: Any) -> Any:
    return x if isinstance(x, Value) else _constant(x)


def _seed(root: Value, grad: Any, create_graph: bool) -> Any:
    if not root.requires_grad:
        raise RuntimeError("backward: this Value does not require grad (it was computed from constants "
                           "only, or under no_grad())")
    if grad is None:
        if root.size != 1:
            raise RuntimeError(f"backward: a scalar output is needed, got shape {root.shape}; for a non-scalar "
                               f"output pass grad=, an array of shape {root.shape}")
        seed = np.array(1, root.dtype) if root.ndim == 0 else ops.expand(np.array(1, root.dtype), root.shape)
    else:
        seed = _to_array(grad, root.dtype)
        if seed.shape != root.shape:
            raise ValueError(f"backward: grad has shape {seed.shape} but the output has shape {root.shape}")
    return Value._leaf(seed, requires_grad=False) if create_graph else seed


def _toposort(root: Value) -> list[Value]:
    """Every node that needs a gradient, each after its parents: a depth-first search with an explicit
    stack (so any depth works). A node is appended once all its parents are, so reversed, the list
    gives each node its whole gradient before it passes it on."""
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
        if ctx is _RELEASED:
            raise RuntimeError("backward: this graph was already released by an earlier backward(); "
                               "call backward(retain_graph=True) the first time to run backward through it again")
        push(node)
        push(None)
        for p in ctx[1]:
            if isinstance(p, Value) and p.requires_grad and p not in visited:
                push(p)
    return order


def _backprop(root: Value, seed: Any, retain_graph: bool, create_graph: bool,
              store: Callable[[Value, Any], None], every_node: bool) -> None:
    """The engine. Walk the graph from the output back to the leaves, applying each op's rules.

    `store(node, grad)` receives each leaf's gradient (with every_node, each node's) once it is
    complete. With create_graph the rules run on Values (the node itself as `out`, its parents as
    inputs), so the gradients record a graph too; otherwise they run on the arrays the forward used.
    """
    grads: dict[Value, Any] = {root: seed}
    hooks, anomaly = _hook_count > 0, _checking()
    for node in reversed(_toposort(root)):
        g = grads.pop(node)
        if hooks and getattr(node, "_hooks", None):
            g = _run_hooks(node, g)
        ctx = node._ctx
        if ctx is None:
            store(node, g)
            continue
        if every_node:
            store(node, g)
        op, parents, datas, params = ctx
        out, inputs = (node, parents) if create_graph else (node.data, datas)
        for rule, p in zip(op.rules, parents):
            if isinstance(p, Value) and p.requires_grad:
                gp = rule(g, out, *inputs, **params) if params else rule(g, out, *inputs)
                if anomaly:
                    _non_finite(op.name, "backward gradient", ops.data(gp), datas, getattr(node, "_site", None))
                if gp.shape != p.data.shape:
                    gp = ops.sum_to(gp, p.data.shape)  # undo broadcasting: here, once, for every op
                grads[p] = grads[p] + gp if p in grads else gp
        if not retain_graph:
            node._ctx = _RELEASED


def _run_hooks(node: Value, g: Any) -> Any:
    for fn in list(node._hooks):
        replaced = fn(g)
        if replaced is not None:
            if np.shape(replaced) != node.shape:
                raise ValueError(f"register_hook: a hook returned a gradient of shape {np.shape(replaced)} "
                                 f"for a value of shape {node.shape}")
            g = replaced
    return g


class HookHandle:
    """Returned by register_hook: `remove()` unregisters the hook."""

    def __init__(self, value: Value, fn: Callable[[Any], Any]):
        self._value, self._fn = weakref.ref(value), fn

    def remove(self) -> None:
        """Unregister the hook: later backward passes no longer call it (removing twice is harmless)."""
        global _hook_count
        value = self._value()
        fns = getattr(value, "_hooks", None)
        if fns and self._fn in fns:
            fns.remove(self._fn)
            _hook_count -= 1


def vjp(output: Value, inputs: Sequence[Value], grad: Any = None, create_graph: bool = False,
        retain_graph: bool | None = None) -> list[Any]:
    """Gradients of `output` with respect to `inputs` (vector-Jacobian products), without touching `.grad`.

    An input the output does not depend on gets zeros. With create_graph the gradients are Values.
    retain_graph (default: create_graph) keeps the graph for another pass.
    """
    wanted: dict[Value, list[int]] = {}
    for i, x in enumerate(inputs):
        wanted.setdefault(x, []).append(i)
    found: list[Any] = [None] * len(inputs)

    def store(node: Value, g: Any) -> None:
        for i in wanted.get(node, ()):
            found[i] = g
    if output.requires_grad:
        keep = create_graph if retain_graph is None else retain_graph
        _backprop(output, _seed(output, grad, create_graph), keep, create_graph, store, every_node=True)
    for i, x in enumerate(inputs):
        if found[i] is None:
            found[i] = np.zeros_like(x.data)
            if create_graph:
                found[i] = Value._leaf(found[i], requires_grad=False)
        elif found[i].dtype != x.dtype:
            found[i] = found[i].astype(x.dtype)
    return found


def concatenate(values: Sequence[Any], axis: int = 0) -> Value:
    """Join Values (or arrays) along an existing axis, like numpy.concatenate."""
    parts = [v if isinstance(v, Value) else Value(v, requires_grad=False) for v in values]
    try:
        shape = np.concatenate([np.empty(p.shape, dtype=bool) for p in parts], axis=axis).shape
    except (ValueError, IndexError) as e:
        raise ValueError(f"concatenate: shapes {', '.join(str(p.shape) for p in parts)}: {e}") from None
    axis = axis % len(shape)
    total: Value | None = None
    start = 0
    for p in parts:  # each part scattered into its slot of the result; the gradient of scatter is a slice
        index = (slice(None),) * axis + (slice(start, start + p.shape[axis]),)
        piece = p.scatter(index, shape)
        total = piece if total is None else total + piece
        start += p.shape[axis]
    assert total is not None
    return total


def stack(values: Sequence[Any], axis: int = 0) -> Value:
    """Join Values (or arrays) of one shape along a new axis, like numpy.stack."""
    parts = [v if isinstance(v, Value) else Value(v, requires_grad=False) for v in values]
    if len({p.shape for p in parts}) > 1:
        raise ValueError(f"stack: all inputs need one shape, got {', '.join(str(p.shape) for p in parts)}")
    axis = axis % (parts[0].ndim + 1)
    return concatenate([p.reshape(p.shape[:axis] + (1,) + p.shape[axis:]) for p in parts], axis=axis)


# The primitive methods (v.exp(), v.sum(axis), ...), made from the table so that adding an op is one entry.
for _op in ops.TABLE.values():
    setattr(Value, _op.name, _method(_op))
ADD, MUL, DIV, POW, MATMUL, NEG, GETITEM = (ops.TABLE[n] for n in ("add", "mul", "div", "pow", "matmul", "neg",
                                                                   "getitem"))
