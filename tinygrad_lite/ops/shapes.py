"""The table, part 4: shapes, indexing, casting and joining; the numbers move, none is computed.

g: the gradient arriving at the output; out: the forward's output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import along, axes_of, entry, scatter


def _astype(x: np.ndarray, dtype: Any) -> np.ndarray:
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"a gradient needs a float dtype, got {np.dtype(dtype)}")
    return x.astype(dtype)


def _concatenate(*xs: np.ndarray, axis: int = 0, bounds: tuple[int, ...] = ()) -> np.ndarray:
    return np.concatenate(xs, axis=axis)  # bounds: where each part starts and ends along axis, for backward


def _scatter(x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=np.result_type(x))
    rows = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    if isinstance(rows, np.ndarray) and rows.dtype.kind in "iu" and rows.size and x.shape == rows.shape + shape[1:]:
        # Rows picked by an integer array (an embedding's lookup): sort the picks, then add each run of one row
        # in one reduceat, several times faster than np.add.at, which goes element by element.
        flat = np.where(rows < 0, rows + shape[0], rows).ravel()
        order = np.argsort(flat, kind="stable")
        picked = flat[order]
        starts = np.flatnonzero(np.r_[True, picked[1:] != picked[:-1]])
        sums = np.add.reduceat(x.reshape(flat.size, -1)[order], starts, axis=0)  # (distinct rows, row size)
        out[picked[starts]] = sums.reshape((len(starts),) + shape[1:])
        return out
    if _basic(index):  # ints and slices pick each element once: nothing to accumulate
        out[index] = x
        return out
    np.add.at(out, index, x)  # repeated indices accumulate
    return out


def _basic(index: Any) -> bool:
    """Whether an index is numpy's basic indexing (ints, slices, Ellipsis, None), which never repeats an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) and not isinstance(p, bool)
               for p in parts)


def _transpose_rule(g: Any, out: Any, x: Any, axes: Any) -> Any:
    # The inverse permutation; axes are made non-negative first (argsort of (-1, 0) would be (0, 1), wrong).
    return g.transpose(None if axes is None else tuple(int(i) for i in np.argsort(axes_of(axes, x.ndim))))


ENTRIES = [
    # name     forward                                               (backward rule, its formula)
    entry("reshape", lambda x, shape: x.reshape(shape),
                                   (lambda g, out, x, shape: g.reshape(x.shape),            "g, in x's shape"),
        doc="Reshape: same numbers, new shape", error="{name}: cannot reshape shape {0} into {shape}",
        cases="reshape"),
    entry("transpose", lambda x, axes=None: x.transpose(axes),
                                   (_transpose_rule,                                        "g, axes put back"),
        doc="Transpose: permute the axes (reverse them by default)", cases="transpose",
        error="{name}: axes={axes} is not a permutation of all the axes of shape {0}: transpose takes every axis in "
              "its new order (numpy's convention); to swap two axes, as PyTorch's transpose(1, 2), use swapaxes(1, 2)"),
    entry("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                                   (lambda g, out, x, shape: g,                             "g, summed back to x"),
        doc="Broadcast: repeat x along new or size-1 axes to `shape`",
        error="{name}: cannot broadcast shape {0} to {shape}", cases="broadcast_to"),
    entry("getitem", lambda x, index: x[index],
                                   (lambda g, out, x, index: scatter(g, index, x.shape),    "g back to x[index]"),
        doc="Index: f(x) = x[index] (slices, ints, integer arrays, boolean masks)", cases="getitem",
        hidden=("index",)),
    entry("scatter", _scatter,       (lambda g, out, x, index, shape: g[index],               "g[index]"),
        doc="Scatter-add: f(x) = zeros(shape) with x added at index (repeats accumulate)", cases="scatter",
        hidden=("index",)),
    entry("astype",  _astype,        (lambda g, out, x, dtype: g.astype(x.dtype),             "g, in x's dtype"),
        doc="Cast: f(x) = x as another float dtype", cases="astype"),
    entry("concatenate", _concatenate,
          joint=(lambda g, out, *parts, axis, bounds: [g[along(out.ndim, axis, slice(bounds[i], bounds[i + 1]))]
                                                       for i in range(len(parts))],  "g, the part's slice"),
          doc="Concatenate: join the inputs along an existing axis", cases="concatenate", variadic=True,
          hidden=("bounds",), method=False),
    entry("stack", lambda *xs, axis=0: np.stack(xs, axis=axis),
          joint=(lambda g, out, *parts, axis: [g[along(out.ndim, axis, i)] for i in range(len(parts))],
                                                                                        "g, the part's slice"),
          doc="Stack: join same-shape inputs along a new axis", cases="stack", variadic=True, method=False),
]
