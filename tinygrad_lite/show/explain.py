"""tl.explain(loss): a backward pass told step by step, for people learning the chain rule.

First the forward ops in the order they ran (shapes and values), then each backward step: the gradient
that arrives at a value, the local derivative rule of the op that made it with the numbers put in, and
what each input receives (a value used twice adds up what it receives). It leaves the graph and every
`.grad` as they were. The same steps (`show.steps`) make the text and the step-through page
(`tl.explain(loss).save_html("steps.html")`); the names are those of the drawing (`show.graph`).
"""

from __future__ import annotations

import html
from pathlib import Path

from ..value import Value
from .page import save_page
from .steps import steps


class Explanation(str):
    """The text of an explanation, shown as itself at the prompt and by print(). `save_html(path)` writes
    the same walk as a step-through page (the graph, Next/Previous/Play, one file that works offline)."""

    _root: Value

    def __repr__(self) -> str:
        return str(self)

    def save_html(self, path: str | Path, title: str | None = None) -> Path:
        """Write the step-through page of this backward pass to `path` (.html), whole or not at all."""
        return save_page(self._root, path, title)

    def _repr_html_(self) -> str:  # Jupyter: the text, laid out as it is printed
        return f"<pre>{html.escape(str(self))}</pre>"


def explain(root: Value, max_values: int = 24) -> Explanation:
    """Explain how backward computes d(root)/d(every value) for a scalar root, before or after
    root.backward(). Graphs with more than `max_values` values are summarised: the first and last steps
    are shown, and how many were left out. `.save_html(path)` on the result writes the step-through page."""
    walk_ = steps(root)
    values = walk_["values"]
    root_name = walk_["root_name"]
    width = max([len(v["name"]) for v in values if v["value"]], default=1)

    kinds = {"parameter": "input (parameter)", "constant": "constant (no gradient)"}
    forward = [f"  {v['name']:>{width}} = {kinds[v['role']]:36s} shape {str(tuple(v['shape'])):8s} {v['data']}"
               for v in values if v["value"] and v["role"] in kinds]
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
