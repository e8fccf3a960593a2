"""`tinygrad_lite.demos`, kept for existing code: the module is `tinygrad_lite.programs.demos` (the same object)."""

import sys

from .programs import demos as _demos

sys.modules[__name__] = _demos
