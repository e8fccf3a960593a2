"""`tinygrad_lite.fit`, kept for existing code: the module is `tinygrad_lite.programs.fit` (the same object)."""

import sys

from .programs import fit as _fit

sys.modules[__name__] = _fit
