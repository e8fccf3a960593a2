"""The engine: what a recorded op keeps (Node), the topological order, and the backward walk.

Scope: one graph walk written once. `order` lists the values that need a gradient, each after its inputs,
with an explicit stack (so a 100,000-op chain works) and checks on the way that nothing the forward used
was changed since. `steps` walks that order backwards and yields, for each value, its whole gradient and
what each of its inputs receives; everything that reads gradients off a graph consumes it: `backward`
and `vjp` through `run`, the drawing's gradients and `tl.explain`'s steps directly.

Versions (PyTorch's version counters): every write to a Value's `.data` (`v.data -= ...`, `v.data = ...`, the
optimisers, loading a state) gives it a new version from one clock (`bump_version`); each Node keeps the clock's
reading at its forward (`_version_at`). The walk refuses a graph holding a value written after the op that used it,
since its gradient
would mix old and new numbers (PyTorch does the same with its version counters).

A graph's values are Values (Recorded); an op's other inputs are constants (arrays and numbers). This module
reads a Value's node fields (`_op`, `_inputs`, `_saved`, `_params`, `_version_at`), `_data`, `_version_box`,
`requires_grad` and, where hooks exist, `_hooks`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from . import modes, ops
from ._checks import describe, floats

NEVER_WRITTEN = (0,)  # the version box of a value never written since it was made: shared, replaced on a first write
# State of the whole process, here in one place (the modes and the observers, in modes.py, are per thread and task):
VERSION_CLOCK = [0]  # the last version handed out
PASSES = [0]  # backward() calls so far: a value's _pass says which one gave it its .grad (drawings tell stale ones)
_store_lock = threading.Lock()  # backward passes in several threads may accumulate into one leaf
# Values with hooks (register_hook), by id (Values' == is elementwise): the walk looks for hooks only while one lives.
hooked: dict[int, weakref.ref[Any]] = {}
# Computed values that called retain_grad(), by id: backward stores their gradients too (each leaves when it is freed).
retained: dict[int, weakref.ref[Any]] = {}


class Node(NamedTuple):
    """What a recorded op keeps for backward, by name: the op, its inputs (Values and constants), the arrays its
    forward used (`saved`; None once a backward without retain_graph has released them), its parameters, and the
    clock's reading at the forward (`version_at`). `value._node` gives it (None for a leaf).

    The fields live on the value the op made (`_op`, `_inputs`, `_saved`, `_params`, `_version_at`), so recording an op
    allocates nothing beyond its output: this record is made when someone reads it (a drawing, an explanation),
    never in the engine's own loops."""

    op: ops.Op
    inputs: list[Any]
    saved: list[Any] | None
    params: dict[str, Any]
    version_at: int


def forward_inputs(value: Any) -> list[Any]:
    """The arrays the forward of the op that made `value` used: as saved, or where they were released, the
    inputs' data (which `order` checked unchanged since)."""
    if value._saved is not None:
        return value._saved
    return [p._data if isinstance(p, Recorded) else p for p in value._inputs]


class Recorded:
    """What the walk walks: a value of the graph (Value is the one kind); an op's other inputs are constants
    (arrays and numbers). A recorded value carries its Node's fields; a leaf has `_op` None."""

    __slots__ = ()
    _op: ops.Op | None
    _inputs: list[Any]
    _saved: list[Any] | None
    _params: dict[str, Any]
    _version_at: int
    _data: np.ndarray
    _version_box: Any
    requires_grad: bool

    @property
    def _node(self) -> Node | None:
        """The record of the op that made this value (None for a leaf)."""
        if self._op is None:
            return None
        return Node(self._op, self._inputs, self._saved, self._params, self._version_at)


def bump_version(v: Any) -> None:
    """A write to v's numbers: a new version from the clock, in the box v shares with its aliases."""
    VERSION_CLOCK[0] += 1
    if modes.observing():
        modes.touched("write", v)
    if v._version_box is NEVER_WRITTEN:
        v._version_box = [VERSION_CLOCK[0]]
    else:
        v._version_box[0] = VERSION_CLOCK[0]


def _who(value: Any) -> str:
    return f"{value.name!r} (shape {value.shape})" if value.name else f"a Value of shape {value.shape}"


def _changed(value: Any, op: ops.Op, made_it: bool) -> RuntimeError:
    when = f"{op.name} made it" if made_it else f"{op.name} used it in the forward pass"
    return RuntimeError(f"backward: {_who(value)} was changed in place after {when}, so its gradient would mix old "
                        "and new numbers; call backward() before changing the weights, or recompute the forward")


def order(root: Any, view: bool = False) -> list[Any]:
    """Every value that needs a gradient, each after its inputs: a depth-first search with an explicit
    stack. A value is appended once all its inputs are, so reversed, the list gives each value its whole
    gradient before it passes it on.

    On the way it checks versions: a value written after an op used it (or made it) is an error here,
    before any gradient is computed. A released graph is an error too, unless `view` (drawing and
    explaining a graph after backward: the inputs' data, unchanged, stand for the freed arrays)."""
    done: list[Any] = []
    visited: set[Any] = set()  # Values hash by identity
    stack: list[Any] = [root]
    pop, push, seen, finish = stack.pop, stack.append, visited.add, done.append
    while stack:
        value = pop()
        if value is None:  # the marker below it: that value's inputs are all in order now
            finish(pop())
            continue
        if value in visited:
            continue
        seen(value)
        op = value._op
        if op is None:  # a leaf has no inputs: done at once
            finish(value)
            continue
        if value._saved is None and not view:
            raise RuntimeError("backward: this graph was already released by an earlier backward(); "
                               "call backward(retain_graph=True) the first time to run backward through it again")
        version_at = value._version_at
        if value._version_box[0] > version_at:
            raise _changed(value, op, made_it=True)
        push(value)
        push(None)
        for p in value._inputs:
            if isinstance(p, Recorded):
                if p._version_box[0] > version_at:
                    raise _changed(p, op, made_it=False)
                if p.requires_grad and p not in visited:
                    push(p)
    return done


def steps(root: Any, seed: Any, create_graph: bool = False, view: bool = False) -> Iterator[tuple[Any, Any, list]]:
    """The backward pass, one value at a time from the root: (value, its whole gradient, [(position, input, what
    that input receives from this op), ...] for each input that needs a gradient; [] for a leaf).

    With create_graph the rules run on Values (the value itself as `out`, its inputs as inputs), so the
    gradients record a graph too; otherwise on the arrays the forward used. Each received gradient is
    already summed back to its input's shape: broadcasting is undone here, once, for every op."""
    return _walk(order(root, view), seed, create_graph, tell=True)


def _walk(values: list[Any], seed: Any, create_graph: bool, tell: bool) -> Iterator[tuple[Any, Any, list[Any]]]:
    """steps(), given the order; `tell` False (backward and vjp) skips the list of what each input received."""
    grads: dict[Any, Any] = {values[-1]: seed}  # the root comes last in its order
    hooks, observers = bool(hooked), modes.observing()
    for value in reversed(values):
        g = grads.pop(value)
        if hooks and getattr(value, "_hooks", None):
            g = hooked_grad(value, g, create_graph)
        op = value._op
        if op is None:
            yield value, g, []
            continue
        parents, datas, params = value._inputs, value._saved, value._params
        if datas is None:
            datas = forward_inputs(value)
        out, inputs = (value, parents) if create_graph else (value._data, datas)
        joint = op.joint(g, out, *inputs, **params) if op.joint is not None else None
        rules, given = op.rules, []
        for i, p in enumerate(parents):
            if not isinstance(p, Recorded) or not p.requires_grad:
                continue
            if joint is not None:
                gp = joint[i]
            else:
                gp = rules[i](g, out, *inputs, **params) if params else rules[i](g, out, *inputs)
            if observers:
                for observer in observers:
                    observer.gradient(op, gp, datas, value)
            if gp.shape != p._data.shape:
                gp = ops.sum_to(gp, p._data.shape, op.name)  # undo broadcasting: here, once, for every op
            if tell:
                given.append((i, p, gp))
            grads[p] = grads[p] + gp if p in grads else gp
        yield value, g, given


def run(root: Any, seed: Any, retain_graph: bool, create_graph: bool, store: Callable[[Any, Any], None],
        every_value: bool) -> None:
    """backward and vjp: walk the whole pass, then hand `store(value, grad)` each leaf's gradient and each retained
    value's (with every_value, each value's), then release the graph unless retain_graph.

    Nothing is stored until the whole pass has succeeded: an exception on the way (a hook's, a Function's)
    leaves the gradients and the graph as they were, so the pass can be retried."""
    if modes.observing():
        modes.touched("backward", root)
    values = order(root)
    walk = _walk(values, seed, create_graph, tell=False)
    if every_value:
        done = [(value, g) for value, g, _ in walk]
    elif retained:
        done = [(value, g) for value, g, _ in walk if value._op is None or id(value) in retained]
    else:
        done = [(value, g) for value, g, _ in walk if value._op is None]
    with _store_lock:
        for value, g in done:
            store(value, g)
    if not retain_graph:  # free the arrays the forward saved, keep the links (as PyTorch keeps grad_fn)
        for value in values:
            if value._op is not None:
                value._saved = None


def accumulate(value: Any, g: Any, create_graph: bool = False) -> None:
    """Add one pass's gradient to value's .grad (backward's store, and a replay's): cast to value's dtype, owned
    (the gradients of two inputs may be one object), 0-d kept an array."""
    if g.dtype != value.dtype:
        g = g.astype(value.dtype)
    if value._grad is None:
        value._grad = g if create_graph else np.array(g)
    elif value._grad.shape != g.shape:
        raise ValueError(f"backward: {_who(value)} holds a .grad of shape {value._grad.shape} from before its data "
                         "changed shape; call zero_grad() (or set .grad = None) after changing it")
    else:
        total = value._grad + g
        value._grad = np.array(total) if isinstance(total, np.generic) else total


def hooked_grad(value: Any, g: Any, create_graph: bool) -> Any:
    """g after value's hooks (register_hook): a hook's result (an array, a number, a list) replaces it."""
    for fn in list(value._hooks):
        replaced = fn(g)
        if replaced is None:
            continue
        if isinstance(replaced, Recorded):
            replaced = replaced if create_graph else replaced._data
        else:
            try:
                replaced = floats(replaced, value.dtype, copy=False)
            except TypeError:
                raise TypeError(f"register_hook: hook {getattr(fn, '__name__', fn)!r} returned "
                                f"{describe(replaced)}; a hook returns None or a gradient of shape "
                                f"{value.shape}") from None
            if replaced.shape != value.shape and replaced.size == 1:  # a number for a whole gradient
                replaced = ops.expand(replaced.reshape(()), value.shape)
            if create_graph:
                replaced = type(value)._leaf(replaced, requires_grad=False)
        if replaced.shape != value.shape:
            raise ValueError(f"register_hook: hook {getattr(fn, '__name__', fn)!r} returned a gradient of shape "
                             f"{replaced.shape} for a value of shape {value.shape}")
        g = replaced
    return g


class HookHandle:
    """Returned by register_hook: `remove()` unregisters the hook."""

    def __init__(self, value: Any, fn: Callable[[Any], Any]):
        self._value, self._fn = weakref.ref(value), fn

    def remove(self) -> None:
        """Unregister the hook: later backward passes no longer call it (removing twice is harmless)."""
        value = self._value()
        fns = getattr(value, "_hooks", None)
        if fns and self._fn in fns:
            fns.remove(self._fn)
            if not fns:
                hooked.pop(id(value), None)
