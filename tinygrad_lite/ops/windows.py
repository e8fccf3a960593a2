"""The table, part 5: windows of an image (im2col) and their adjoint (col2im), on which Conv2d and pooling stand.

Scope: numpy only; one slice per kernel offset, never a loop over pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import col2im, entry, im2col


def _pair(what: str, v: Any, least: int) -> tuple[int, int]:
    """A size given as one whole number or two (rows, columns), checked: (v, v) or the pair."""
    pair = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) != 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= least
                                 for n in pair):
        raise ValueError(f"{what} must be a whole number >= {least} or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


def _windows(shape: tuple[int, ...], kernel: Any, stride: Any, padding: Any) -> Any:
    """The kernel, stride and padding as pairs, and the output's height and width, for an (N, C, H, W) shape."""
    if len(shape) != 4:
        raise ValueError(f"needs a 4-d input (batch, channels, height, width), got shape {shape}")
    k, s, p = _pair("kernel", kernel, 1), _pair("stride", stride, 1), _pair("padding", padding, 0)
    size = tuple(shape[2 + i] + 2 * p[i] for i in (0, 1))
    if k[0] > size[0] or k[1] > size[1]:
        raise ValueError(f"the kernel {k} is larger than the padded image {size}")
    return k, s, p, tuple((size[i] - k[i]) // s[i] + 1 for i in (0, 1))


def _im2col(x: np.ndarray, kernel: Any, stride: Any = 1, padding: Any = 0) -> np.ndarray:
    # Every window of the (padded) image as one row: out[n, i, j] is the (kh, kw, C) patch whose top-left
    # corner is at (i * stride, j * stride). Channels last (as TensorFlow's extract_patches orders a patch):
    # each copy then moves C numbers side by side, 4-6 times faster than (C, kh, kw) order.
    (kh, kw), (sh, sw), (ph, pw), _ = _windows(x.shape, kernel, stride, padding)
    n, c, h, w = x.shape
    image = x.transpose(0, 2, 3, 1)  # (N, H, W, C), a view
    if ph or pw:
        image = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
        image[:, ph:ph + h, pw:pw + w] = x.transpose(0, 2, 3, 1)
    win = np.lib.stride_tricks.sliding_window_view(image, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3))  # (N, OH, OW, kh, kw, C)


def _col2im(cols: np.ndarray, shape: tuple[int, ...], kernel: Any, stride: Any = 1, padding: Any = 0) -> np.ndarray:
    # The adjoint of im2col: each window's numbers added back where they came from (windows overlap, so
    # an image pixel gets the sum). One slice per kernel offset (kh * kw of them), never a loop over pixels.
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = _windows(tuple(shape), kernel, stride, padding)
    n, c, h, w = shape
    if cols.shape != (n, oh, ow, kh, kw, c):
        raise ValueError(f"needs windows of shape {(n, oh, ow, kh, kw, c)} for an image of shape {tuple(shape)}, "
                         f"got {cols.shape}")
    out = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=cols.dtype)  # channels last, as in cols
    for i in range(kh):
        for j in range(kw):
            out[:, i:i + sh * oh:sh, j:j + sw * ow:sw] += cols[:, :, :, i, j]
    return out[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)  # (N, C, H, W)


ENTRIES = [
    entry("im2col",  _im2col,        (lambda g, out, x, kernel, stride, padding:
                                    col2im(g, x.shape, kernel, stride, padding),
                                                                                            "g added back (col2im)"),
        doc="Windows: every kernel-sized patch of an (N, C, H, W) image as a row, shape (N, OH, OW, kh, kw, C)",
        cases="im2col"),
    entry("col2im",  _col2im,        (lambda g, out, x, shape, kernel, stride, padding:
                                    im2col(g, kernel, stride, padding),
                                                                                            "g's windows (im2col)"),
        doc="Fold: windows of shape (N, OH, OW, kh, kw, C) added back into an image of `shape` (im2col's adjoint)",
        cases="col2im"),
]
