"""`tl.explain.explain`, kept here for existing code; the explanation lives in `tinygrad_lite.show.explain`."""

from .show.explain import Explanation, explain
from .show.steps import steps

__all__ = ["Explanation", "explain", "steps"]
