"""The table, part 6: the ops that look up by whole-number indices given as an input, not as a parameter: an
embedding's rows picked by token ids, and cross-entropy's target classes. As inputs, the ids and the labels are
what a replayed step reads afresh at each call (tl.replay), as it reads its other arguments.

g: the gradient arriving at the output; out: the forward's output. The indices arrive as the engine passes
constants (floats holding whole numbers, or integers); they are checked here, so that an index out of range is
one clear error (numpy would wrap a negative one around) and never a wrong number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import Refused, data, entry, no_gradient, scatter, select
from .reductions import _finite_max


def _indices(name: str, what: str, x: Any, n: int, ignore: int | None = None) -> np.ndarray:
    """x as integers in [0, n) (or equal to `ignore`), or one ValueError saying which numbers are wrong."""
    x = np.asarray(data(x))
    with np.errstate(invalid="ignore"):  # NaN and inf: caught below as not whole
        whole = x.astype(np.intp)
    bad = (whole != x) | (whole < 0) | (whole >= n)
    if ignore is not None:
        bad &= whole != ignore
    if bad.any():
        first = x[bad].flat[0].item()
        shown = int(first) if isinstance(first, float) and first.is_integer() else first
        raise Refused(f"{name}: {what} must be whole numbers in [0, {n})"
                         + (f" or ignore_index {ignore}" if ignore is not None else "")
                         + f", got {shown} among {x.size} of them (shape {x.shape})")
    return whole


def _embedding(ids: Any, weight: np.ndarray) -> np.ndarray:
    if np.ndim(weight) != 2:
        raise ValueError(f"embedding: weight must be a matrix (num_embeddings, dim), got shape {np.shape(weight)}")
    return weight[_indices("embedding", "ids", ids, weight.shape[0])]  # (..., embedding_dim)


def _embedding_rule(g: Any, out: Any, ids: Any, weight: Any) -> Any:
    return scatter(g, _whole(ids), weight.shape)  # repeated ids add up


def _whole(x: Any) -> np.ndarray:
    """The indices as integers, for the rules (the forward has checked them)."""
    return np.asarray(data(x)).astype(np.intp)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    """log_softmax over the last axis, as the composite Value.log_softmax computes it (the same shift, so the same
    edges: -inf stays -inf; a row of only -inf, or holding +inf or NaN, is NaN)."""
    s = x - _finite_max(x, -1, posinf=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _reduced(loss: np.ndarray, kept: np.ndarray, reduction: str) -> Any:
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    n = int(np.count_nonzero(kept))
    return total * (1 / n if n else np.nan)  # the mean over the targets that count; none: NaN, as PyTorch


def _cross_entropy(x: np.ndarray, target: Any, ignore_index: int = -100, label_smoothing: float = 0.0,
                   reduction: str = "mean") -> Any:
    if x.ndim == 0 or np.shape(target) != x.shape[:-1]:
        raise ValueError(f"cross_entropy: logits of shape (..., classes) take class indices of shape (...), got "
                         f"{x.shape} and {np.shape(target)}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    t = _indices("cross_entropy", "class indices", target, x.shape[-1], ignore_index)
    kept, label_smoothing = t != ignore_index, float(label_smoothing)  # a Python float: it keeps float32 float32
    log_p = _log_softmax(x)
    loss = -np.take_along_axis(log_p, np.where(kept, t, 0)[..., None], axis=-1)[..., 0]
    if label_smoothing:  # (1 - eps) on the target class, eps spread evenly over all classes
        loss = (1 - label_smoothing) * loss - (label_smoothing / x.shape[-1]) * log_p.sum(axis=-1)
    if not kept.all():
        loss = np.where(kept, loss, np.zeros((), loss.dtype))  # an ignored target counts for nothing
    return _reduced(loss, kept, reduction)


def _cross_entropy_rule(g: Any, out: Any, x: Any, target: Any, ignore_index: int, label_smoothing: float,
                        reduction: str) -> Any:
    # d loss / d logits = softmax(logits) - q, q the target distribution ((1 - eps) one-hot + eps / classes), times
    # each target's share of g (g / n for the mean); an ignored target's row gets 0, chosen (a NaN in g stays out).
    k, label_smoothing = x.shape[-1], float(label_smoothing)
    t = _whole(target)
    kept = t != ignore_index
    n = int(np.count_nonzero(kept))
    q = (np.arange(k) == np.where(kept, t, 0)[..., None]) * (1 - label_smoothing) + label_smoothing / k
    share = g.reshape(g.shape + (1,)) if reduction == "none" else g * (1 / n if n else np.nan) \
        if reduction == "mean" else g
    if type(x) is np.ndarray:
        p = np.exp(_log_softmax(x))
        p -= q.astype(p.dtype, copy=False)
        d = p * share
        return d if kept.all() else select(kept[..., None], d)
    d = (x.softmax(axis=-1) - q.astype(x.dtype)) * share  # on Values (create_graph): recorded, so differentiable
    return d if kept.all() else select(kept[..., None], d)


ENTRIES = [
    # name     forward                                               (backward rule, its formula)
    entry("embedding", _embedding, (no_gradient,                                            "none (indices)"),
                                   (_embedding_rule,                                        "g added to its rows"),
          doc="Embedding: f(ids, weight) = weight[ids], the rows picked by whole-number ids (an input, as PyTorch's "
              "F.embedding(input, weight))", domain=("real", "real"), cases="embedding", method=False),
    entry("cross_entropy", _cross_entropy,
                                   (_cross_entropy_rule,                                    "softmax(x) - q"),
                                   (no_gradient,                                            "none (indices)"),
          doc="Cross-entropy from logits (..., classes) and class indices (...) (an input): -log softmax(x)[target] "
              "(with label smoothing: against (1 - eps) one-hot + eps / classes), 0 where target == ignore_index; "
              "reduced by the mean over the targets not ignored, the sum, or none",
          domain=("real", "real"), cases="cross_entropy"),
]
