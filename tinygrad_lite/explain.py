"""tl.explain(loss): a backward pass told in plain text, for people learning the chain rule.

First the forward ops in the order they ran (shapes and values), then each backward step: the gradient
that arrives at a value, the local derivative rule of the op that made it, and what each input receives.
It leaves the graph and every `.grad` as they were.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops
from .value import Value, _backprop, _seed, _toposort


class Explanation(str):
    """The text of an explanation; shown as itself at the prompt and by print()."""

    def __repr__(self) -> str:
        return str(self)


def _fmt(a: Any) -> str:
    a = np.asarray(a) + 0.0  # shows -0.0 as 0
    if a.size == 1:
        return f"{a.item():.6g}"
    if a.size <= 6:
        return np.array2string(a.ravel(), precision=4, separator=", ", suppress_small=True)
    return f"shape {a.shape}: min {a.min():.4g}, mean {a.mean():.4g}, max {a.max():.4g}"


def explain(root: Value, max_values: int = 24) -> Explanation:
    """Explain how backward computes d(root)/d(every value) for a scalar root. Graphs with more than
    `max_values` values are summarised: the first and last steps are shown, and how many were left out."""
    order = _toposort(root)  # parents before children
    names = {node: node.name or f"v{i}" for i, node in enumerate(order)}
    width = max(len(n) for n in names.values())

    def label(x: Any) -> str:
        if isinstance(x, Value) and (x in names or x.name):
            return names.get(x) or str(x.name)
        shape = np.shape(ops.data(x))
        return f"{ops.data(x):g}" if shape == () else f"const{shape}"

    grads: dict[Value, Any] = {}
    _backprop(root, _seed(root, None, False), retain_graph=True, create_graph=False,
              store=grads.__setitem__, every_node=True)

    forward = []
    for node in order:
        if node._ctx is None:
            what = "input (a leaf that requires grad)"
        else:
            op, parents, _, params, _ = node._ctx
            shown = {k: v for k, v in params.items() if k != "index" and v is not op.params[k] and v != op.params[k]}
            extra = "".join(f", {k}={v}" for k, v in shown.items())
            what = f"{op.name}({', '.join(label(p) for p in parents)}{extra})"
        forward.append(f"  {names[node]:>{width}} = {what:36s} shape {str(node.shape):8s} {_fmt(node.data)}")

    backward = []
    for node in reversed(order):
        g = grads[node]
        if node._ctx is None:
            backward.append(f"  {names[node]} is an input: d{names[root]}/d{names[node]} = {_fmt(g)}")
            continue
        op, parents, datas, params, _ = node._ctx
        parts = []
        for rule, formula, p in zip(op.rules, op.formulas, parents):
            if isinstance(p, Value) and p.requires_grad:
                gp = ops.sum_to(rule(g, node.data, *(() if op.variadic else datas), **params), p.shape, op.name)
                parts.append(f"{formula}, so {names[p]} receives {_fmt(gp)}")
        backward.append(f"  {names[node]} = {op.name}(...): gradient {_fmt(g)} arrives; " + "; ".join(parts))

    def summarise(lines: list[str]) -> list[str]:
        if len(lines) <= max_values:
            return lines
        keep = max_values // 2
        return lines[:keep] + [f"  ... {len(lines) - 2 * keep} more ..."] + lines[-keep:]

    text = [f"Forward: {len(order)} values that need a gradient, in the order they were computed",
            *summarise(forward),
            f"Backward: from {names[root]} = {_fmt(root.data)}, starting with d{names[root]}/d{names[root]} = 1; "
            "each value passes its gradient on by its op's rule (the chain rule), and an input that "
            "is reached twice adds up what it receives",
            *summarise(backward)]
    return Explanation("\n".join(text))
