"""Drawing a computation graph: `tl.viz.draw` and `Graph`, kept here for existing code; the drawing lives in
`tinygrad_lite.show.viz`."""

from .show.viz import NO_RENDERER, Graph, RendererNotFound, RenderTimeout, draw, non_finite, render, renderer

__all__ = ["NO_RENDERER", "Graph", "RendererNotFound", "RenderTimeout", "draw", "non_finite", "render", "renderer"]
