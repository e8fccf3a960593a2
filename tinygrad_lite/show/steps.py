"""A backward pass as data, for the explanation's text and the step-through page: the values, the forward
steps and the backward steps, each with its numbers.

Scope: one consumer of the engine's walk (`backward.steps`): it is the pass backward() runs, told as it
goes, storing nothing in `.grad` and keeping the graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backward, ops
from ..value import Value, _seed
from .graph import names, numbers, role, walk, written


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

    with np.errstate(all="ignore"):
        passed = list(backward.steps(root, _seed(root, None, False), view=True))
    grads = {v: g for v, g, _ in passed}
    values = []
    for i, v in enumerate(order):
        item: dict[str, Any] = {"id": i, "value": True}
        if isinstance(v, Value):
            item.update(name=name[id(v)], role=role(v, root), shape=list(v.shape), data=numbers(v.data))
            if v in grads:
                item["grad"] = numbers(grads[v])
        else:
            item.update(value=False, name=label(v), role="constant", shape=list(np.shape(v)), data=numbers(v))
        values.append(item)

    forward = []
    for v in order:
        if isinstance(v, Value) and v._node is not None:
            forward.append({"node": index[id(v)], "name": name[id(v)],
                            "expr": written(v._node.op, [label(p) for p in v._node.inputs], v._node.params),
                            "shape": list(v.shape), "data": numbers(v.data)})

    told = []
    received: dict[int, list[tuple[str, Any]]] = {}
    for v, g, given in passed:
        step: dict[str, Any] = {"node": index[id(v)], "name": name[id(v)], "arrives": numbers(g), "parts": []}
        sources = received.get(id(v), [])
        if len(sources) > 1:
            step["sum"] = " + ".join(numbers(c) for _, c in sources) + f" = {numbers(g)}"
            step["from"] = [s for s, _ in sources]
        node = v._node
        if node is None:
            step["leaf"] = True
            told.append(step)
            continue
        step["op"] = written(node.op, [label(p) for p in node.inputs], node.params)
        step["inputs"] = [f"{label(p)} = {numbers(p)}" if isinstance(p, Value) or np.ndim(p) else label(p)
                          for p in node.inputs]
        for i, p, gp in given:
            received.setdefault(id(p), []).append((name[id(v)], gp))
            part = {"to": index[id(p)], "name": name[id(p)], "rule": ops.about(node.op).formula(i),
                    "gives": numbers(gp)}
            if len(received[id(p)]) > 1:
                part["total"] = numbers(sum(c for _, c in received[id(p)]))
            step["parts"].append(part)
        told.append(step)
    return {"root": index[id(root)], "root_name": name[id(root)], "values": values, "forward": forward,
            "backward": told}
