"""The step-through page: one self-contained HTML file that walks a backward pass on the drawn graph.

    tl.explain(loss).save_html("steps.html")
    tinygrad-lite explain perceptron --html steps.html

The graph is inline SVG, the steps are data (from show.steps, so the page and tl.explain tell the
same numbers with the same names), and a small script moves through them: the forward pass (each value
computed, in order), then the backward pass (the node being processed highlighted, the gradient that
arrives, the op's rule with the numbers put in, what each input receives, and sums where a value is used
twice), then every leaf's final gradient. Nothing is loaded from the network: it works opened from disk.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from .._checks import atomic_file
from ..value import Value
from .graph import own_gradients, walk
from .steps import steps
from .viz import _modules, draw


def _svg(root: Value, grads: dict[Value, Any], collapse: bool) -> str:
    svg = draw(root, grads=grads, collapse=collapse).svg()
    svg = svg[svg.index("<svg"):]  # no XML declaration or doctype inside HTML
    head, rest = svg.split(">", 1)
    for attr in ("width", "height"):  # the box sizes the picture; pan and zoom move its viewBox
        start = head.find(f' {attr}="')
        if start >= 0:
            end = head.index('"', start + len(attr) + 3)
            head = head[:start] + head[end + 1:]
    return head + ">" + rest


def page_html(root: Value, title: str | None = None) -> str:
    """The step-through page of root's backward pass, as HTML text."""
    told = steps(root)
    grads = own_gradients(root)
    order = walk(root)
    boxes, _ = _modules(order, {id(v) for v in order})
    for item, v in zip(told["values"], order):
        if id(v) in boxes:
            item["box"] = boxes[id(v)]  # the box that stands for it when modules are collapsed
    modules = bool(boxes)
    data = {**told, "title": title or f"Backward pass of {told['root_name']}"}
    script_data = json.dumps(data).replace("<", "\\u003c")  # nothing in the data can close the script
    collapsed = (f'<div class="svg" id="svg-collapsed" hidden>{_svg(root, grads, True)}</div>' if modules else "")
    toggle = ('<label class="opt"><input type="checkbox" id="collapse"> modules as one box</label>'
              if modules else "")
    parts = {"TITLE": html.escape(data["title"]), "TOGGLE": toggle, "DATA": script_data,
             "SVG": f'<div class="svg" id="svg-full">{_svg(root, grads, False)}</div>{collapsed}'}
    template = (Path(__file__).parent / "page.html").read_text(encoding="utf-8")
    return re.sub(r"%(TITLE|SVG|TOGGLE|DATA)%", lambda m: parts[m.group(1)], template)  # one pass: no re-reading


def save_page(root: Value, path: str | Path, title: str | None = None) -> Path:
    """Write the step-through page to `path` (.html or .htm), whole or not at all (a temporary file renamed)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"save_html: the file name must end in .html, got {str(path)!r}")
    if path.is_dir():
        raise IsADirectoryError(f"save_html: {str(path)!r} is a folder; give a file name ending in .html")
    text = page_html(root, title)
    with atomic_file(path) as f:
        f.write(text.encode("utf-8"))
    return path
