"""Normalisation layers: BatchNorm1d (over the batch), LayerNorm and RMSNorm (over each example's features).
BatchNorm1d and RMSNorm are plain Value arithmetic; LayerNorm is one primitive, layer_norm (a few passes where the
arithmetic would make ten ops), with its exact rule beside it in the table. The names of the weights are
PyTorch's, so a state copied from PyTorch loads by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _checks
from ..value import Value, _write, layer_norm
from .layers import _flag
from .module import Module, _input


class BatchNorm1d(Module):
    """Batch normalisation per feature C: y = (x - mean) / sqrt(var + eps) * weight + bias, over inputs of shape
    (N, C), (N, C, L) as PyTorch's, or (B, T, C) as makemore's WaveNet (the features last).

    A 3-d input's layout is read from where num_features is: (N, C, L) when it is axis 1, (B, T, C) when it is
    the last axis; when it is both (T == C), features_last=True or False says which (a ValueError otherwise).
    In training the mean and the (biased) variance are the batch's, and the running statistics move towards
    them: running = (1 - momentum) * running + momentum * batch (the running variance uses the unbiased batch
    variance), as PyTorch does. In eval() the running statistics are used, so one example alone gets a
    deterministic answer. running_mean and running_var are buffers: saved with the parameters, never trained.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 features_last: bool | None = None):
        self.num_features = _checks.whole("BatchNorm1d", "num_features", num_features)
        self.eps = _checks.number("BatchNorm1d", "eps", eps, lo=0, lo_open=True)
        self.momentum = _checks.number("BatchNorm1d", "momentum", momentum, lo=0, hi=1)
        if features_last is not None and not isinstance(features_last, (bool, np.bool_)):
            raise TypeError(f"BatchNorm1d: features_last must be None, True or False, got {features_last!r}")
        self.features_last = features_last
        self.weight = Value(np.ones(self.num_features), name="weight")
        self.bias = Value(np.zeros(self.num_features), name="bias")
        self.running_mean = Value(np.zeros(self.num_features), name="running_mean", requires_grad=False)
        self.running_var = Value(np.ones(self.num_features), name="running_var", requires_grad=False)

    def _layout(self, shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The axes to take statistics over, and the shape that makes per-feature numbers broadcast."""
        c = self.num_features
        if len(shape) == 2 and shape[1] == c:
            return (0,), (-1,)
        if len(shape) == 3:
            last = self.features_last if self.features_last is not None else \
                (shape[2] == c if shape[1] != shape[2] else None)
            if last is None and shape[1] == c:
                raise ValueError(f"BatchNorm1d: input of shape {shape} could be (N, C, L) or (B, T, C) with C = "
                                 f"{c}; say which with BatchNorm1d({c}, features_last=False) or features_last=True")
            if last and shape[2] == c:
                return (0, 1), (-1,)
            if not last and shape[1] == c:
                return (0, 2), (-1, 1)
        raise ValueError(f"BatchNorm1d: expected input of shape (batch, {c}), (batch, {c}, length) or "
                         f"(batch, time, {c}), got shape {shape}")

    def forward(self, x: Any) -> Value:
        x = _input("BatchNorm1d", x)
        axes, along = self._layout(x.shape)
        if self.training:
            n = x.size // self.num_features
            if n < 2:
                raise ValueError(f"BatchNorm1d: training needs more than one number per feature to take a variance, "
                                 f"got input of shape {x.shape} (use eval() for single examples)")
            mean = x.mean(axis=axes, keepdims=True)
            var = x.var(axis=axes, keepdims=True)
            m = self.momentum
            _write(self.running_mean, (1 - m) * self.running_mean.data + m * mean.data.reshape(-1))
            _write(self.running_var, (1 - m) * self.running_var.data + m * var.data.reshape(-1) * n / (n - 1))
            normed = (x - mean) / (var + self.eps).sqrt()
        else:
            # the running statistics as constants of the graph (buffers, no gradient), read afresh by a replay
            normed = (x - self.running_mean.reshape(along)) / (self.running_var.reshape(along) + self.eps).sqrt()
        return normed * self.weight.reshape(along) + self.bias.reshape(along)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


def _trailing(layer: str, shape: Any) -> tuple[int, ...]:
    dims = (shape,) if not isinstance(shape, (tuple, list)) else tuple(shape)
    if not dims:
        raise ValueError(f"{layer}: normalized_shape must name at least one axis, got {shape!r}")
    return tuple(_checks.whole(layer, "normalized_shape", n) for n in dims)


def _check_last(layer: str, x: Value, dims: tuple[int, ...]) -> tuple[int, ...]:
    if x.ndim < len(dims) or x.shape[x.ndim - len(dims):] != dims:
        raise ValueError(f"{layer}: expected input whose last axes are {dims}, got shape {x.shape} (normalized_shape "
                         "is the size of the features, the last axis, such as the embedding size)")
    return tuple(range(-len(dims), 0))


class LayerNorm(Module):
    """Layer normalisation over each example's last axes (normalized_shape, an int or a tuple):
    y = (x - mean) / sqrt(var + eps) * weight + bias, the mean and biased variance over those axes, as PyTorch's.
    weight starts at ones, bias at zeros (bias=False: none)."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, bias: bool = True):
        self.normalized_shape = _trailing("LayerNorm", normalized_shape)
        self.eps = _checks.number("LayerNorm", "eps", eps, lo=0, lo_open=True)
        _flag("LayerNorm", "bias", bias)
        self.weight = Value(np.ones(self.normalized_shape), name="weight")
        self.bias = Value(np.zeros(self.normalized_shape), name="bias") if bias else None

    def forward(self, x: Any) -> Value:
        x = _input("LayerNorm", x)
        _check_last("LayerNorm", x, self.normalized_shape)
        out = layer_norm(x, self.weight, len(self.normalized_shape), self.eps)  # one op, with its own exact rule
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, bias={self.bias is not None}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the last axes: y = x / sqrt(mean(x^2) + eps) * weight, as PyTorch's
    RMSNorm (and LLaMA's); no mean is taken out and there is no bias. weight starts at ones. eps=None (the
    default, as PyTorch's) is the machine epsilon of the input's dtype: about 1.2e-7 in float32, 2.2e-16 in
    float64."""

    def __init__(self, normalized_shape: Any, eps: float | None = None):
        self.normalized_shape = _trailing("RMSNorm", normalized_shape)
        self.eps = None if eps is None else _checks.number("RMSNorm", "eps", eps, lo=0, lo_open=True)
        self.weight = Value(np.ones(self.normalized_shape), name="weight")

    def forward(self, x: Any) -> Value:
        x = _input("RMSNorm", x)
        axes = _check_last("RMSNorm", x, self.normalized_shape)
        eps = float(np.finfo(x.dtype).eps) if self.eps is None else self.eps
        return x / ((x * x).mean(axis=axes, keepdims=True) + eps).sqrt() * self.weight

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
