"""`tinygrad_lite.plots`, kept for existing code: the module is `tinygrad_lite.programs.plots` (the same object)."""

import sys

from .programs import plots as _plots

sys.modules[__name__] = _plots
