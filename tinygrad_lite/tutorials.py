"""`tinygrad_lite.tutorials`, kept for existing code: the module is `tinygrad_lite.programs.tutorials`."""

import sys

from .programs import tutorials as _tutorials

sys.modules[__name__] = _tutorials
