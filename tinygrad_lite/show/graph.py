"""Reading a computation graph, for the drawing, the explanation and the step-through page alike.

Scope: the walk over every value and constant (parents first), one name per value, each value's role and the
truth about its gradient, how an op is written, the module boxes, and one way to write numbers. Whatever the
three show of a graph comes from here, so they agree.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from .. import backward, ops
from ..value import Value, _seed


def inputs_of(v: Any) -> list[Any]:
    """The inputs (Values and constants) of the op that made v; [] for a leaf or a constant."""
    return list(v._inputs) if getattr(v, "_op", None) is not None else []


def walk(root: Value) -> list[Any]:
    """Every Value and constant in root's graph, parents before children, each once: a depth-first search
    with an explicit stack (any depth), in an order that is the same for the same computation."""
    order: list[Any] = []
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
            continue
        if id(v) in seen:
            continue
        seen.add(id(v))
        stack.append((v, True))
        stack.extend((p, False) for p in reversed(inputs_of(v)))
    return order


def modules_of(v: Any) -> tuple[Any, ...]:
    """The modules whose forward made v, outermost first (() outside any)."""
    return getattr(v, "_module", None) or ()


def names(order: list[Any]) -> dict[int, str]:
    """One name per Value (by id): the name the code gave it (`name=`, `v.name = ...`, a module's dotted
    parameter path such as "0.weight"), else v1, v2, ... in the order the values were computed."""
    outermost = {id(m[0]): m[0] for m in map(modules_of, order) if m}
    for module in outermost.values():  # parameters take their dotted paths now, when they are shown
        module._name_parameters()
    out: dict[int, str] = {}
    taken = {v.name for v in order if isinstance(v, Value) and v.name}
    k = 0
    for v in order:
        if isinstance(v, Value):
            if v.name:
                out[id(v)] = v.name
            else:
                k += 1
                while f"v{k}" in taken:
                    k += 1
                out[id(v)] = f"v{k}"
    return out


def role(v: Value, root: Value) -> str:
    """"output", "parameter" (a leaf that requires grad), "constant" (needs no gradient) or "computed"."""
    if v is root:
        return "output"
    if not v.requires_grad:
        return "constant"
    return "parameter" if v._node is None else "computed"


def own_gradients(root: Value) -> dict[Value, Any]:
    """d(root)/d(value) for every value that needs one, computed afresh by the backward walk (nothing is stored
    in .grad and the graph is kept), before or after root.backward(), as long as nothing was changed in place."""
    if not root.requires_grad:
        return {}
    with np.errstate(all="ignore"):
        return {v: g for v, g, _ in backward.steps(root, _seed(root, None, False), view=True)}


def gradients(root: Value, order: list[Any]) -> dict[int, tuple[str, Any]]:
    """The truth about each Value's gradient d(root)/d(value), by id: (state, gradient or None), state one of
    "computed" (by root.backward(): kept in .grad, or recomputed from the kept graph), "stale" (.grad holds
    what another backward pass left), "released" (the values have changed in place since, so it cannot be
    recomputed), "cleared" (zero_grad() since), "pending" (no backward from root yet), "constant" (no
    gradient needed)."""
    mine = getattr(root, "_ran", None)  # the pass root.backward() ran, if any
    recomputed: dict[Value, Any] = {}
    if mine is not None and any(v._grad is None and v._node is not None for v in order
                                if isinstance(v, Value) and v.requires_grad):
        try:
            recomputed = own_gradients(root)
        except RuntimeError:
            pass  # changed in place since (an optimiser's step), or a non-scalar root: not recomputable
    states: dict[int, tuple[str, Any]] = {}
    for v in order:
        if not isinstance(v, Value):
            continue
        if not v.requires_grad:
            states[id(v)] = ("constant", None)
        elif v._grad is not None:
            states[id(v)] = ("computed" if mine is not None and getattr(v, "_pass", 0) == mine else "stale",
                             getattr(v._grad, "data", v._grad))
        elif mine is None:
            states[id(v)] = ("pending", None)
        elif v._node is None:
            states[id(v)] = ("cleared", None)
        elif v in recomputed:
            states[id(v)] = ("computed", recomputed[v])
        else:
            states[id(v)] = ("released", None)
    return states


def _shown(v: Any, default: Any) -> bool:
    """Whether a parameter is worth writing out: not its default, and not an array (an index, a mask)."""
    if isinstance(v, (np.ndarray, list)) or isinstance(default, np.ndarray) or v is default:
        return False
    if isinstance(v, tuple) and any(isinstance(i, (np.ndarray, list, slice)) for i in v):
        return False  # an index
    try:
        return bool(v != default)
    except (ValueError, TypeError):
        return True


def written(op: Any, parents: list[str], params: dict[str, Any]) -> str:
    """An op as the learner wrote it: "out - y", "X @ w", "-v3", "sigmoid(v1)", "sum(v4, axis=1)"."""
    about = ops.about(op)
    if about.infix and len(parents) == 2:
        return f"{parents[0]} {about.symbol} {parents[1]}"
    if about.symbol:
        return f"{about.symbol}{parents[0]}"
    shown = {k: v for k, v in params.items()
             if k not in about.hidden and (k not in about.params or _shown(v, about.params[k]))}
    return f"{op.name}({', '.join(parents + [f'{k}={v}' for k, v in shown.items()])})"


def numbers(a: Any) -> str:
    """Numbers as a learner reads them, the same in every view: one number, up to six, or min, mean and max."""
    a = np.asarray(getattr(a, "data", a), dtype=float) + 0.0  # shows -0.0 as 0
    if a.size == 1:
        return f"{a.item():.4g}"
    if a.size <= 6:
        return np.array2string(a.ravel(), precision=4, separator=", ", suppress_small=True)
    return f"min {a.min():.3g} / mean {a.mean():.3g} / max {a.max():.3g}"


def bad(a: Any) -> bool:
    """Whether a (numbers, or None) holds NaN or Inf."""
    return a is not None and not np.isfinite(np.asarray(getattr(a, "data", a), dtype=float)).all()


def module_label(module: Any) -> str:
    extra = module.extra_repr()
    return f"{type(module).__name__}({extra})" if extra else type(module).__name__


def value_html(v: Value) -> str:
    """A Value as Jupyter shows it: a small card with its name, shape, dtype, numbers, gradient and the op that
    made it (the numbers written as the drawing writes them)."""
    node = v._node
    rows = [("shape", str(v.shape)), ("dtype", str(v.dtype)), ("data", numbers(v.data)),
            ("grad", "None" if v._grad is None else numbers(v._grad)),
            ("made by", node.op.name if node is not None else "nothing: a leaf" + (" (a parameter)" if
                                                                                    v.requires_grad else ""))]
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td><code>{html.escape(t)}</code></td></tr>"
                   for k, t in rows)
    return f"<table><caption style='text-align:left'>Value {html.escape(v.name or '')}</caption>{body}</table>"
