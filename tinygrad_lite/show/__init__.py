"""Showing a computation graph: the drawing (`draw`), the explanation (`explain`), the step-through page.

    graph.py    reading a graph: the walk, names, roles, gradient states, how an op is written, numbers
    viz.py      the drawing: DOT text, SVG through Graphviz, Jupyter display
    steps.py    a backward pass as data (the engine's walk, told)
    page.py     the step-through page: the drawing and the steps in one HTML file
    explain.py  the text, and `.save_html` for the page
    health.py   the health of a training run: activations, gradients and update ratios per layer

Each imports only the ones above it in this list (and the engine below them all).
"""

import sys

from ..value import Value
from .explain import Explanation, explain
from .graph import value_html
from .health import Health, health
from .viz import Graph, RendererNotFound, RenderTimeout, draw


def show_values_in_jupyter() -> bool:
    """Have Jupyter show a Value as a small card (its shape, numbers, gradient and what made it), through IPython's
    HTML formatter; done on import inside a running IPython, and whether it was."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    shell.display_formatter.formatters["text/html"].for_type(Value, value_html)
    return True


show_values_in_jupyter()

__all__ = ["Explanation", "Graph", "Health", "RendererNotFound", "RenderTimeout", "draw", "explain", "health"]
