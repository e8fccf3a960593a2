"""tl.explain(loss): a backward pass told step by step, for people learning the chain rule.

First the forward ops in the order they ran (shapes and values), then each backward step: the gradient
that arrives at a value, the local derivative rule of the op that made it with the numbers put in, and
what each input receives (a value used twice adds up what it receives). It leaves the graph and every
`.grad` as they were. The same steps make the text, the drawing's names and the step-through page
(`tl.explain(loss).save_html("steps.html")`).

Here too live the two things the text, the drawing and the page must agree on: one name per value
(`names`) and the truth about each value's gradient (`gradients`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import ops
from .value import Value, _backprop, _forward_inputs, _seed, _toposort

# How an op is written where the learner wrote it with an operator: "a - b", not sub(a, b).
INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}


def walk(root: Value) -> list[Any]:
    """Every Value and constant in root's graph, parents before children, each once: a depth-first search
    with an explicit stack (any depth), in an order that is the same for the same computation."""
    order: list[Any] = []
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        ctx = getattr(node, "_ctx", None)
        if ctx is not None:
            stack.extend((p, False) for p in reversed(ctx[1]))
    return order


def names(order: list[Any]) -> dict[int, str]:
    """One name per Value (by id): the name the code gave it (`name=`, `v.name = ...`, a module's dotted
    parameter path such as "0.weight"), else v1, v2, ... in the order the values were computed."""
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


def gradients(root: Value, order: list[Any]) -> dict[int, tuple[str, Any]]:
    """The truth about each Value's gradient d(root)/d(value), by id: (state, gradient or None), state one of
    "computed" (by root.backward(): kept in .grad, or recomputed from the kept graph when backward freed it),
    "stale" (.grad holds what another backward pass left), "released" (backward freed it and the values have
    changed in place since, so it cannot be recomputed), "cleared" (zero_grad() since), "pending" (no
    backward from root yet), "constant" (no gradient needed)."""
    mine = -root._pass if getattr(root, "_pass", 0) < 0 else None  # the pass root.backward() ran, if any
    recomputed: dict[Value, Any] = {}
    if mine is not None and any(v.grad is None and v._ctx is not None for v in order
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
        elif v.grad is not None:
            states[id(v)] = ("computed" if mine is not None and abs(getattr(v, "_pass", 0)) == mine else "stale",
                             ops.data(v.grad))
        elif mine is None:
            states[id(v)] = ("pending", None)
        elif v._ctx is None:
            states[id(v)] = ("cleared", None)
        elif v in recomputed:
            states[id(v)] = ("computed", recomputed[v])
        else:
            states[id(v)] = ("released", None)
    return states


def own_gradients(root: Value) -> dict[Value, Any]:
    """d(root)/d(value) for every value that needs one, computed afresh (a pass that stores nothing in .grad
    and keeps the graph), before or after root.backward(), as long as nothing was changed in place since."""
    grads: dict[Value, Any] = {}
    if root.requires_grad:
        with np.errstate(all="ignore"):
            _backprop(root, _seed(root, None, False), retain_graph=True, create_graph=False,
                      store=grads.__setitem__, every_node=True, view=True)
    return grads


def fmt(a: Any, digits: int = 4) -> str:
    """Numbers as a learner reads them: one number, up to six, or a shape with min, mean and max."""
    a = np.asarray(a) + 0.0  # shows -0.0 as 0
    if a.size == 1:
        return f"{a.item():.{digits + 2}g}"
    if a.size <= 6:
        return np.array2string(a.ravel(), precision=digits, separator=", ", suppress_small=True)
    return f"shape {a.shape}: min {a.min():.{digits}g}, mean {a.mean():.{digits}g}, max {a.max():.{digits}g}"


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
    if op.name in INFIX and len(parents) == 2:
        return f"{parents[0]} {INFIX[op.name]} {parents[1]}"
    if op.name == "neg":
        return f"-{parents[0]}"
    shown = {k: v for k, v in params.items() if k not in op.params or _shown(v, op.params[k])}
    return f"{op.name}({', '.join(parents + [f'{k}={v}' for k, v in shown.items()])})"


def steps(root: Value) -> dict[str, Any]:
    """The walk as data: the values (name, role, shape, numbers), the forward steps and the backward steps
    (arriving gradient, rule, numbers put in, what each input receives and its running total). It computes
    its own gradients (a pass that stores nothing), so it works before and after root.backward()."""
    if not isinstance(root, Value):
        raise TypeError(f"explain: expected a Value, got {type(root).__name__}")
    if root.size != 1:
        raise ValueError(f"explain: needs a scalar output (a loss), got shape {root.shape}; sum it first")
    if not root.requires_grad:
        raise ValueError("explain: this value needs no gradient (it was computed from constants only, or under "
                         "no_grad()), so there is no backward pass to tell")
    order = walk(root)
    name = names(order)
    index = {id(v): i for i, v in enumerate(order)}

    def label(x: Any) -> str:
        if isinstance(x, Value):
            return name[id(x)]
        shape = np.shape(x)
        return f"{np.asarray(x).item():g}" if shape == () else f"const{shape}"

    grads = own_gradients(root)
    values = []
    for i, v in enumerate(order):
        item: dict[str, Any] = {"id": i, "value": True}
        if isinstance(v, Value):
            role = "output" if v is root else "parameter" if v._ctx is None and v.requires_grad else \
                "constant" if not v.requires_grad else "computed"
            item.update(name=name[id(v)], role=role, shape=list(v.shape), data=fmt(v.data))
            if v in grads:
                item["grad"] = fmt(grads[v])
        else:
            item.update(value=False, name=label(v), role="constant", shape=list(np.shape(v)), data=fmt(v))
        values.append(item)

    forward = []
    for v in order:
        if isinstance(v, Value) and v._ctx is not None:
            op, parents, _, params, _ = v._ctx
            forward.append({"node": index[id(v)], "name": name[id(v)],
                            "expr": written(op, [label(p) for p in parents], params),
                            "shape": list(v.shape), "data": fmt(v.data)})

    backward = []
    received: dict[int, list[tuple[str, Any]]] = {}
    for v in reversed(_toposort(root, view=True)):
        g = grads[v]
        step: dict[str, Any] = {"node": index[id(v)], "name": name[id(v)], "arrives": fmt(g), "parts": []}
        sources = received.get(id(v), [])
        if len(sources) > 1:
            step["sum"] = " + ".join(fmt(c) for _, c in sources) + f" = {fmt(g)}"
            step["from"] = [s for s, _ in sources]
        if v._ctx is None:
            step["leaf"] = True
            backward.append(step)
            continue
        op, parents, _, params, _ = v._ctx
        inputs = _forward_inputs(v._ctx)
        step["op"] = written(op, [label(p) for p in parents], params)
        step["inputs"] = [f"{label(p)} = {fmt(ops.data(p))}" if isinstance(p, Value) or np.ndim(p) else label(p)
                          for p in parents]
        for rule, formula, p in zip(op.rules, op.formulas, parents):
            if isinstance(p, Value) and p.requires_grad:
                with np.errstate(all="ignore"):
                    gp = ops.sum_to(rule(g, v.data, *(() if op.variadic else inputs), **params), p.shape, op.name)
                received.setdefault(id(p), []).append((name[id(v)], gp))
                part = {"to": index[id(p)], "name": name[id(p)], "rule": formula, "gives": fmt(gp)}
                if len(received[id(p)]) > 1:
                    part["total"] = fmt(sum(c for _, c in received[id(p)]))
                step["parts"].append(part)
        backward.append(step)
    return {"root": index[id(root)], "root_name": name[id(root)], "values": values, "forward": forward,
            "backward": backward}


class Explanation(str):
    """The text of an explanation, shown as itself at the prompt and by print(). `save_html(path)` writes
    the same walk as a step-through page (the graph, Next/Previous/Play, one file that works offline)."""

    _root: Value

    def __repr__(self) -> str:
        return str(self)

    def save_html(self, path: str | Path, title: str | None = None) -> Path:
        """Write the step-through page of this backward pass to `path` (.html), whole or not at all."""
        from .page import save_page

        return save_page(self._root, path, title)


def explain(root: Value, max_values: int = 24) -> Explanation:
    """Explain how backward computes d(root)/d(every value) for a scalar root, before or after
    root.backward(). Graphs with more than `max_values` values are summarised: the first and last steps
    are shown, and how many were left out. `.save_html(path)` on the result writes the step-through page."""
    walk_ = steps(root)
    values = walk_["values"]
    root_name = walk_["root_name"]
    width = max([len(v["name"]) for v in values if v["value"]], default=1)

    forward = [f"  {v['name']:>{width}} = {'input (parameter)':36s} shape {str(tuple(v['shape'])):8s} {v['data']}"
               for v in values if v["value"] and v["role"] == "parameter"]
    for f in walk_["forward"]:
        forward.append(f"  {f['name']:>{width}} = {f['expr']:36s} shape {str(tuple(f['shape'])):8s} {f['data']}")

    backward = []
    for b in walk_["backward"]:
        total = f" (the sum of what {', '.join(b['from'])} sent: {b['sum']})" if "sum" in b else ""
        if b.get("leaf"):
            backward.append(f"  {b['name']} is an input: d{root_name}/d{b['name']} = {b['arrives']}{total}")
            continue
        parts = [f"{p['rule']}, so {p['name']} receives {p['gives']}" for p in b["parts"]]
        backward.append(f"  {b['name']} = {b['op']}: gradient {b['arrives']} arrives{total}; " + "; ".join(parts))

    def summarise(lines: list[str]) -> list[str]:
        if len(lines) <= max_values:
            return lines
        keep = max_values // 2
        return lines[:keep] + [f"  ... {len(lines) - 2 * keep} more ..."] + lines[-keep:]

    root_data = values[walk_["root"]]["data"]
    text = [f"Forward: {len(walk_['forward'])} ops, in the order they were computed",
            *summarise(forward),
            f"Backward: from {root_name} = {root_data}, starting with d{root_name}/d{root_name} = 1; "
            "each value passes its gradient on by its op's rule (the chain rule), and an input that "
            "is reached twice adds up what it receives",
            *summarise(backward)]
    result = Explanation("\n".join(text))
    result._root = root
    return result
