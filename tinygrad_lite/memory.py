"""The C allocator, tuned on request: `tl.memory.tune()` makes a training step's freed arrays cheap to have again.

Importing tinygrad_lite changes nothing outside it. A step makes and frees many arrays of a few hundred kB to a few
MB. With glibc's defaults, the memory a step has freed at the top of the heap goes back to the kernel when the step
ends, and the next step's arrays fault it in again, a 4 kB page at a time (the digits CNN's step: 25 -> 12 ms once
that stops, docs/performance.md). `tune()` sets two of glibc's settings: the mmap threshold to 32 MB (as the
variable ``MALLOC_MMAP_THRESHOLD_`` would), so that arrays up to 32 MB come from the heap rather than from fresh
mappings, and the top pad (``M_TOP_PAD``, as ``MALLOC_TOP_PAD_``) to 64 MB: the heap then grows and shrinks in
steps of 64 MB and keeps up to 64 MB of freed memory for the next arrays.

What that does to the whole process: the settings are glibc's, so every library's malloc in the process gets them
(numpy's, and any other's), not tinygrad_lite's arrays alone; up to 64 MB may be held and not used; and a fixed
mmap threshold ends glibc's own adjustment of it (which raises it as large blocks are freed). It changes no number
that is computed. numpy tunes only its own
small buffers and PyTorch leaves the allocator to its user; `tinygrad-lite demo`, `fit` and the benchmarks call
`tune()` for their own processes.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TOP_PAD, M_MMAP_THRESHOLD = -2, -3  # mallopt's parameter numbers, from glibc's malloc.h
TOP_PAD = 64 << 20
MMAP_THRESHOLD = 32 << 20
_tuned = [False]  # whether tune() set the top pad in this process


def tune() -> bool:
    """Set glibc's mmap threshold to 32 MB and top pad to 64 MB for this whole process (see the module's
    documentation); whether they were set. Nothing is done on other systems, or where the process chose its own
    (``MALLOC_TOP_PAD_`` or ``MALLOC_MMAP_THRESHOLD_`` set)."""
    if not sys.platform.startswith("linux") or {"MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_"} & os.environ.keys():
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):  # glibc's mallopt alone
        return False
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _tuned[0] = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TOP_PAD, TOP_PAD) == 1
    return _tuned[0]


def tuned() -> bool:
    """Whether tune() set the top pad in this process."""
    return _tuned[0]
