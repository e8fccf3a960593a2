"""Make every picture the docs show, into docs/pictures/ (`make docs` runs this first). Nothing is drawn by hand.

Needs the plot extra (matplotlib) and a Graphviz renderer (`dot`, or the svg extra).
"""

import sys
from pathlib import Path

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite.programs import demos, plots, tutorials

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "pictures"


def graph(root: tl.Value, name: str, **kwargs: object) -> None:
    tl.draw(root, **kwargs).save(OUT / f"{name}.svg")  # type: ignore[arg-type]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    # the tutorials' plots
    plots.perceptron(tutorials.perceptron(), OUT)
    plots.regressor(tutorials.regressor(), OUT)
    plots.xor(tutorials.xor(), OUT)
    plots.moons(demos.moons(), OUT)
    plots.digits(demos.digits(), OUT)
    # the graphs of their losses, after one backward pass, and the perceptron's step-through page
    for name, make in (("perceptron_graph", tutorials.perceptron_loss), ("regressor_graph", tutorials.regressor_loss)):
        loss = make()
        loss.backward()
        graph(loss, name)
    tl.explain(tutorials.perceptron_loss()).save_html(OUT / "perceptron_steps.html",
                                                     title="The perceptron's backward pass, step by step")
    # one causal attention head on four tokens (docs/tutorial_gpt.md), as a step-through page
    q = tl.Value([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]], name="q")
    k = tl.Value([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 0.0]], name="k")
    v = tl.Value([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]], name="v")
    tl.explain(tl.nn.attention(q, k, v, causal=True).sum()).save_html(
        OUT / "attention_steps.html", title="An attention head's backward pass, step by step")
    # how autograd works: one expression before and after backward, and broadcasting
    a, b, c = tl.Value(2.0, name="a"), tl.Value(-3.0, name="b"), tl.Value(10.0, name="c")
    e = a * b
    e.name = "e"
    d = e + c
    d.name = "d"
    L = d.tanh()
    L.name = "L"
    graph(L, "expression_before")
    L.backward()
    graph(L, "expression_after")
    x = tl.Value(np.ones((2, 3)), name="x")
    bias = tl.Value(np.array([1.0, 2.0, 3.0]), name="bias")
    s = (x * bias).sum()
    s.name = "s"
    s.backward()
    graph(s, "broadcasting")
    print(f"pictures in {OUT}: {', '.join(sorted(p.name for p in OUT.iterdir()))}")


if __name__ == "__main__":
    main()
