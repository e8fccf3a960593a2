"""Argument validators shared by every layer (whole numbers, real numbers in a range, seeds, numeric arrays),
and the one way files are written (whole or not at all).

Scope: numpy only. Each check names the function (`owner`) and the argument, says what was given and what is
needed, and raises TypeError (the wrong kind of thing) or ValueError (the right kind, out of range).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import operator
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np


def describe(x: Any) -> str:
    """A short account of a wrong argument for a message: its type and (shortened) value."""
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"[:80]


def whole(owner: str, what: str, n: Any, least: int = 1) -> int:
    """A size or count argument: a whole number (numpy integers too, bools not) of at least `least`."""
    if isinstance(n, bool):
        raise TypeError(f"{owner}: {what} must be a whole number, got {n!r}")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{owner}: {what} must be a whole number, got {describe(n)}") from None
    if n < least:
        raise ValueError(f"{owner}: {what} must be at least {least}, got {n}")
    return int(n)


def number(owner: str, what: str, x: Any, lo: float = -math.inf, hi: float = math.inf, lo_open: bool = False,
           hi_open: bool = False) -> float:
    """A real-number argument (a learning rate, a probability, eps), finite, within [lo, hi] (or open ends)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{owner}: {what} must be a finite real number, got {describe(x)}")
    if not math.isfinite(x):
        raise ValueError(f"{owner}: {what} must be a finite real number, got {x!r}")
    x = float(x)
    low_ok = x > lo if lo_open else x >= lo
    high_ok = x < hi if hi_open else x <= hi
    if not (low_ok and high_ok):
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValueError(f"{owner}: {what} must be in {left}{lo:g}, {hi:g}{right}, got {x!r}")
    return float(x)


def seed(owner: str, s: Any) -> Any:
    """A random seed: None (fresh each time) or a whole number, 0 or more."""
    if s is not None:
        whole(owner, "seed", s, least=0)
    return s


def numeric(owner: str, what: str, x: Any) -> np.ndarray:
    """x (numbers, nested lists, an array, a Value's data) as an ndarray of real numbers, or one clear error."""
    x = getattr(x, "data", x) if not isinstance(x, np.ndarray) else x
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as e:  # ragged lists and the like
        raise TypeError(f"{owner}: {what} must be numbers of one shape, got {describe(x)} ({e})") from None
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{owner}: {what} must be real numbers, got {describe(x)}")
    return a



def floats(x: Any, dtype: Any = None, copy: bool = True) -> np.ndarray:
    """Numbers, nested lists and arrays (a Value's numbers too) to a float ndarray; anything non-numeric is a
    TypeError. Ints and bools become float64."""
    x = getattr(x, "_data", x)
    try:
        arr = np.array(x, dtype=dtype) if copy else np.asarray(x, dtype=dtype)
    except (ValueError, TypeError) as e:  # ragged lists, strings that won't convert to dtype, ...
        raise TypeError(f"Value: cannot make a numeric array from {describe(x)}: {e}") from None
    kind = arr.dtype.kind
    if kind in "iub":
        return arr.astype(np.float64)  # ints and bools are promoted to float
    if kind != "f":
        raise TypeError(f"Value: expected real numbers, got {describe(x)} (dtype {arr.dtype})")
    return arr


def constant(x: Any) -> Any:
    """A non-Value operand: Python numbers pass as they are (numpy treats them as weakly typed, so float32 stays
    float32), and so does a numpy scalar or 0-d array, as a Python float: `x / np.sqrt(d)` keeps a float32 x
    float32, as PyTorch's 0-d tensors do. Arrays with axes are validated like Value's data."""
    if type(x) is float or type(x) is int or (type(x) is np.ndarray and x.dtype.kind == "f" and x.ndim):
        return x
    if isinstance(x, (bool, np.bool_, np.integer, np.floating)):
        return float(x)
    if type(x) is np.ndarray and x.ndim == 0 and x.dtype.kind in "fiub":
        return float(x)
    return floats(x, copy=False)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[IO[bytes]]:
    """A file written whole or not at all: the block writes a temporary file beside `path`, which is renamed
    to it when the block ends without an error (and removed when it does not). The file gets the mode that
    the user's umask gives a new file, as open() does."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
