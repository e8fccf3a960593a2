"""Losses: each returns a scalar Value (the mean over the batch, or the sum), or with reduction="none" the loss of
each element."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _checks
from ..value import Value, where
from .module import Module


def _check(loss: str, pred: Value, target: Any) -> np.ndarray | Value:
    if not isinstance(target, Value):
        target = _checks.numeric(loss, "the target", target)
    shape = target.shape
    if pred.size == 0:
        raise ValueError(f"{loss}: the batch is empty (prediction shape {pred.shape}); a loss needs at least "
                         "one example")
    if pred.shape != shape:
        raise ValueError(f"{loss}: prediction shape {pred.shape} and target shape {shape} differ")
    return target


def _prediction(loss: str, pred: Any) -> Value:
    """The network's output as a Value (an array is taken as a constant)."""
    if isinstance(pred, Value):
        return pred
    return Value(_checks.numeric(loss, "the prediction", pred), requires_grad=False)


def _reduce(loss: str, per_element: Value, reduction: str) -> Value:
    if not isinstance(reduction, str):
        raise TypeError(f"{loss}: reduction must be 'mean', 'sum' or 'none', got {_checks.describe(reduction)}")
    if reduction == "mean":
        return per_element.mean()
    if reduction == "sum":
        return per_element.sum()
    if reduction == "none":
        return per_element
    raise ValueError(f"{loss}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


class MSE(Module):
    """Squared error: mean (or sum) of (prediction - target)^2. Both tutorials' cost is
    0.5 * MSE(reduction="sum")(prediction, target)."""

    def __init__(self, reduction: str = "mean"):
        _reduce("MSE", Value(0.0), reduction)
        self.reduction = reduction

    def forward(self, pred: Value, target: Any) -> Value:
        pred = _prediction("MSE", pred)
        diff = pred - _check("MSE", pred, target)
        return _reduce("MSE", diff * diff, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


def _log_at_least_minus_100(p: Value) -> Value:
    """max(log p, -100), as PyTorch's binary cross-entropy clamps it, in any float dtype (a clip of p itself would
    round away in float32). Where it is clamped its gradient is 0 (PyTorch's is up to 1e12 there)."""
    ok = p.data > np.exp(-100.0)
    if ok.all():
        return p.log()
    return where(ok, where(ok, p, 1.0).log(), -100.0)


class BCE(Module):
    """Binary cross-entropy of probabilities (e.g. a sigmoid's output) against targets in [0, 1]:
    -(t max(log p, -100) + (1 - t) max(log(1 - p), -100)), PyTorch's clamp, so that a saturated p of exactly 0 or 1
    gives a finite loss in float32 and float64 alike. Where a log is clamped its gradient is 0 (PyTorch's formula
    divides by max(p (1 - p), 1e-12) there instead): give logits to nn.BCEWithLogits to train through saturation."""

    def __init__(self, reduction: str = "mean"):
        _reduce("BCE", Value(0.0), reduction)
        self.reduction = reduction

    def forward(self, prob: Value, target: Any) -> Value:
        prob = _prediction("BCE", prob)
        t: Any = _check("BCE", prob, target)
        lo, hi = prob.data.min(), prob.data.max()
        if not (lo >= 0 and hi <= 1):
            raise ValueError(f"BCE: predictions must be probabilities in [0, 1], got values from {lo:g} to {hi:g}; "
                             "apply .sigmoid() to the network's output first, or give the raw outputs (logits) "
                             "to nn.BCEWithLogits, which is also more stable")
        log_p, log_q = _log_at_least_minus_100(prob), _log_at_least_minus_100(1 - prob)
        return _reduce("BCE", -(t * log_p + (1 - t) * log_q), self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogits(Module):
    """Binary cross-entropy from logits z (raw outputs, before a sigmoid) against targets t in [0, 1]:
    -(t log s(z) + (1 - t) log(1 - s(z))) = softplus(z) - t z, finite for any z."""

    def __init__(self, reduction: str = "mean"):
        _reduce("BCEWithLogits", Value(0.0), reduction)
        self.reduction = reduction

    def forward(self, logits: Value, target: Any) -> Value:
        logits = _prediction("BCEWithLogits", logits)
        t: Any = _check("BCEWithLogits", logits, target)
        return _reduce("BCEWithLogits", logits.softplus() - logits * t, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropy(Module):
    """Cross-entropy from logits of shape (..., classes), computed stably with log_softmax.

    target: class indices of the logits' shape without the class axis, (...) (a language model's (batch, time)
    logits (B, T, vocab) take targets (B, T): the classes are the last axis, where PyTorch wants them on axis 1),
    or probabilities of the logits' shape (an array, or a Value, which then gets its gradient too, as in PyTorch).
    reduction: "mean" (over the targets not ignored), "sum" or "none" (one loss per target). ignore_index: a
    class index whose targets count for nothing (PyTorch's -100 by default: padding). label_smoothing: eps in
    [0, 1], the target becomes (1 - eps) on its class plus eps spread evenly over all classes, as PyTorch.
    """

    def __init__(self, reduction: str = "mean", ignore_index: int = -100, label_smoothing: float = 0.0):
        _reduce("CrossEntropy", Value(0.0), reduction)
        self.reduction = reduction
        self.ignore_index = _checks.whole("CrossEntropy", "ignore_index", ignore_index, least=-(2 ** 62))
        self.label_smoothing = _checks.number("CrossEntropy", "label_smoothing", label_smoothing, lo=0, hi=1)

    def forward(self, logits: Value, target: Any) -> Value:
        logits = _prediction("CrossEntropy", logits)
        if logits.ndim == 0:
            raise ValueError("CrossEntropy: logits must have a class axis, shape (..., classes), got a 0-d value")
        t = target if isinstance(target, Value) else _checks.numeric("CrossEntropy", "the target", target)
        k, eps = logits.shape[-1], self.label_smoothing
        if isinstance(t, np.ndarray) and t.shape == logits.shape[:-1] and t.dtype.kind == "f":  # labels from a CSV
            if not np.all(np.isfinite(t) & (t == np.round(t))):
                raise ValueError(f"CrossEntropy: the target of shape {t.shape} holds {t.dtype} numbers that are not "
                                 f"whole numbers; class labels are whole numbers from 0 to {k - 1} "
                                 f"(probabilities would have the logits' shape {logits.shape})")
            t = t.astype(np.int64)
        pytorch_layout = logits.shape[:1] + logits.shape[2:]  # (N, C, d...) with targets (N, d...), as PyTorch's
        if isinstance(t, np.ndarray) and t.dtype.kind in "iu" and t.shape != logits.shape[:-1] and \
                logits.ndim > 2 and t.shape == pytorch_layout:
            raise ValueError(f"CrossEntropy: logits of shape {logits.shape} with targets of shape {t.shape} look like "
                             "PyTorch's layout (N, C, ...), but here the class axis is last: give "
                             "logits.swapaxes(1, -1), of shape (N, ..., C)")
        if isinstance(t, np.ndarray) and t.shape == logits.shape[:-1] and t.dtype.kind in "iu":
            kept = t != self.ignore_index
            if t.size and not np.all((t[kept] >= 0) & (t[kept] < k)):
                bad = t[kept & ((t < 0) | (t >= k))]
                raise ValueError(f"CrossEntropy: class indices must be in [0, {k}) (or ignore_index "
                                 f"{self.ignore_index}), got {bad.min()} to {bad.max()}")
            if logits.size == 0:
                raise ValueError(f"CrossEntropy: the batch is empty (logits shape {logits.shape}); a loss needs at "
                                 "least one example")
            return logits.cross_entropy(t, self.ignore_index, eps, self.reduction)  # one op, t one of its inputs
        _check("CrossEntropy", logits, t)
        if eps:
            t = t * (1 - eps) + eps / k
        return _reduce("CrossEntropy", -(logits.log_softmax(axis=-1) * t).sum(axis=-1), self.reduction)

    def extra_repr(self) -> str:
        extra = (f", ignore_index={self.ignore_index}" if self.ignore_index != -100 else "") + \
            (f", label_smoothing={self.label_smoothing}" if self.label_smoothing else "")
        return f"reduction={self.reduction!r}{extra}"
