"""The C allocator, tuned once at import on Linux with glibc, so that a training step's arrays are cheap.

A step makes and frees many arrays of a few hundred kB to a few MB. With glibc's defaults, the memory a step has
freed at the top of the heap goes back to the kernel when the step ends, and the next step's arrays fault it in
again, a 4 kB page at a time (the digits CNN's step: 25 -> 11 ms once that stops). Importing tinygrad_lite therefore
sets glibc's top pad (``M_TOP_PAD``, as the variable ``MALLOC_TOP_PAD_`` would) to 64 MB: the heap grows and shrinks
in steps of 64 MB, and keeps up to 64 MB of freed memory for the next arrays. The setting is the whole process's
(numpy's and every other library's malloc), it costs at most 64 MB of memory held and not used, and it changes no
number that is computed.

It is left alone where the process already chose one (``MALLOC_TOP_PAD_`` set), and when ``TINYGRAD_LITE_MALLOC`` is
"default" before the import (``TINYGRAD_LITE_MALLOC=default python train.py``). On other systems nothing is done.
``tinygrad_lite.memory.TUNED`` says whether this process got the top pad.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TOP_PAD = -2  # mallopt's parameter number, from glibc's malloc.h
TOP_PAD = 64 << 20
OPT_OUT = "TINYGRAD_LITE_MALLOC"


def tune() -> bool:
    """Set glibc's top pad to TOP_PAD unless the process opted out or chose its own; whether it was set."""
    if not sys.platform.startswith("linux") or os.environ.get(OPT_OUT) == "default" or "MALLOC_TOP_PAD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):  # glibc's mallopt alone
        return False
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_TOP_PAD, TOP_PAD) == 1


TUNED = tune()  # read by benchmarks and tests: whether this process runs with the top pad
