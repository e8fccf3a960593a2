"""The same model in PyTorch and back: `to_torch(module)` gives an equivalent torch.nn.Module with the weights
copied, `from_torch(torch_module)` the reverse. torch is imported only when one of them is called (pip install
tinygrad_lite[torch]); nothing else in the package knows of it.

Layouts: a Linear's weight is (in, out) here and (out, in) in PyTorch, and so are the recurrent cells' weights;
everything else (Conv2d's (out, in, kh, kw), embeddings, norms) is laid out alike. Each built-in layer and
container converts, and the GPT (its head tied to wte); a Module class of your own is refused with its name (its
forward is Python that cannot be carried over: convert its parts and write the forward again in PyTorch).
Both directions keep the dtype (float32 or float64) and the training flag; BatchNorm1d keeps its running
statistics.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _checks
from ..value import Value
from . import layers, norm, recurrent
from .attention import CausalSelfAttention
from .module import Module


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch and from_torch need PyTorch: pip install torch (or tinygrad_lite[torch])") from None
    return torch


@functools.cache
def _classes() -> Any:
    """PyTorch modules for the layers PyTorch has no twin of, made when first needed (torch is optional)."""
    torch = _torch()
    F = torch.nn.functional

    class CausalSelfAttention(torch.nn.Module):  # type: ignore[name-defined]
        """tinygrad_lite's CausalSelfAttention (nanoGPT's): qkv (C -> 3C), causal attention per head, proj."""

        def __init__(self, embed_dim: int, num_heads: int, dropout: float, bias: bool):
            super().__init__()
            self.num_heads, self.dropout = num_heads, dropout
            self.qkv = torch.nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
            self.proj = torch.nn.Linear(embed_dim, embed_dim, bias=bias)
            self.resid_dropout = torch.nn.Dropout(dropout)

        def forward(self, x: Any) -> Any:
            B, T, C = x.shape
            q, k, v = (z.view(B, T, self.num_heads, C // self.num_heads).transpose(1, 2)
                       for z in self.qkv(x).split(C, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                               dropout_p=self.dropout if self.training else 0.0)
            return self.resid_dropout(self.proj(y.transpose(1, 2).reshape(B, T, C)))

    class BatchNorm1d(torch.nn.BatchNorm1d):  # type: ignore[name-defined]
        """PyTorch's BatchNorm1d, which also takes (B, T, C) input with the features last, as tinygrad_lite's."""

        def __init__(self, num_features: int, eps: float, momentum: float, features_last: bool | None):
            super().__init__(num_features, eps=eps, momentum=momentum)
            self.features_last = features_last

        def forward(self, x: Any) -> Any:
            c = self.num_features
            last = x.dim() == 3 and (self.features_last if self.features_last is not None else
                                     x.shape[2] == c and x.shape[1] != c)
            return super().forward(x.transpose(1, 2)).transpose(1, 2) if last else super().forward(x)

    return CausalSelfAttention, BatchNorm1d


# ---- tinygrad_lite -> PyTorch ----------------------------------------------------------------------------------

def to_torch(module: Module) -> Any:
    """An equivalent torch.nn.Module, the weights copied (Linear's transposed), in the same dtype and mode."""
    if not isinstance(module, Module):
        raise TypeError(f"to_torch: give a tinygrad_lite Module, got {_checks.describe(module)}")
    torch = _torch()
    out = _to_torch(module, torch)
    dtype = next((p.dtype for p in module.parameters()), np.dtype(np.float32))
    out = out.to({np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)])
    return out.train(module.training)


def _to_torch(m: Any, torch: Any) -> Any:
    tnn = torch.nn
    TorchAttention, TorchBatchNorm = _classes()

    def copy(param: Any, value: Value | None, transpose: bool = False) -> None:
        if value is not None:
            a = value.data.T if transpose else value.data
            param.data = torch.from_numpy(np.array(a, dtype=np.float64))
    kind = type(m)
    if kind is layers.Linear:
        t = tnn.Linear(m.weight.shape[0], m.weight.shape[1], bias=m.bias is not None)
        copy(t.weight, m.weight, True)
        copy(t.bias, m.bias)
    elif kind is layers.Conv2d:
        t = tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, bias=m.bias is not None)
        copy(t.weight, m.weight)
        copy(t.bias, m.bias)
    elif kind in (layers.MaxPool2d, layers.AvgPool2d):
        t = (tnn.MaxPool2d if kind is layers.MaxPool2d else tnn.AvgPool2d)(m.kernel_size, m.stride)
    elif kind is norm.BatchNorm1d:
        t = TorchBatchNorm(m.num_features, m.eps, m.momentum, m.features_last)
        for name in ("weight", "bias", "running_mean", "running_var"):
            copy(getattr(t, name), getattr(m, name))
    elif kind is norm.LayerNorm:
        t = tnn.LayerNorm(m.normalized_shape, eps=m.eps, bias=m.bias is not None)
        copy(t.weight, m.weight)
        copy(t.bias, m.bias)
    elif kind is norm.RMSNorm:
        t = tnn.RMSNorm(m.normalized_shape, eps=m.eps)
        copy(t.weight, m.weight)
    elif kind is layers.Embedding:
        t = tnn.Embedding(m.num_embeddings, m.embedding_dim)
        copy(t.weight, m.weight)
    elif kind in _ACTIVATIONS:
        t = getattr(tnn, kind.__name__)()
    elif kind is layers.LeakyReLU:
        t = tnn.LeakyReLU(m.negative_slope)
    elif kind is layers.GELU:
        t = tnn.GELU(approximate=m.approximate)
    elif kind is layers.Softmax:
        t = tnn.Softmax(dim=m.axis)
    elif kind is layers.Dropout:
        t = tnn.Dropout(m.p)
    elif kind is CausalSelfAttention:
        t = TorchAttention(m.embed_dim, m.num_heads, m.attn_dropout.p, m.qkv.bias is not None)
        t.qkv, t.proj = _to_torch(m.qkv, torch), _to_torch(m.proj, torch)
    elif kind in (recurrent.RNNCell, recurrent.GRUCell, recurrent.LSTMCell):
        t = getattr(tnn, kind.__name__)(m.input_size, m.hidden_size, bias=m.bias_ih is not None)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            copy(getattr(t, name), getattr(m, name), name.startswith("weight"))
    elif kind is layers.Sequential:
        t = tnn.Sequential(*(_to_torch(x, torch) for x in m.layers))
    elif kind is layers.ModuleList:
        t = tnn.ModuleList([_to_torch(x, torch) for x in m])
    elif kind is layers.ModuleDict:
        t = tnn.ModuleDict({k: _to_torch(x, torch) for k, x in m.items()})
    elif kind in _TO:
        t = _TO[kind](m, lambda part: _to_torch(part, torch))
    else:
        raise TypeError(f"to_torch: {kind.__name__} is a Module class of your own (or one PyTorch has no twin of): "
                        "its forward is Python that cannot be carried over. Convert its parts, to_torch(model.part), "
                        "and write the same forward in a torch.nn.Module around them")
    return t.train(m.training)


_ACTIVATIONS = (layers.Sigmoid, layers.Tanh, layers.ReLU, layers.Flatten)
_TO: dict[type, Callable[[Any, Callable[[Any], Any]], Any]] = {}  # models made of these layers (the GPT)
_FROM: dict[str, Callable[[Any, Callable[[Any], Any]], Any]] = {}


def register(ours: type, to: Callable[[Any, Callable[[Any], Any]], Any], twin: str,
             back: Callable[[Any, Callable[[Any], Any]], Any]) -> None:
    """How a model made of these layers converts (the GPT registers itself so): to(module, convert) gives its
    PyTorch twin, each part converted by convert(part); back(torch_module, convert) the reverse, for the PyTorch
    modules whose class says tinygrad_lite_twin = twin."""
    _TO[ours], _FROM[twin] = to, back


# ---- PyTorch -> tinygrad_lite ----------------------------------------------------------------------------------

def from_torch(module: Any) -> Module:
    """The tinygrad_lite twin of a torch.nn.Module made of the layers to_torch makes (and of to_torch's own
    output), the weights copied, in the same dtype and mode: it trains here like any model of this library."""
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: give a torch.nn.Module, got {_checks.describe(module)}")
    dtype = next((p.dtype for p in module.parameters()), torch.float32)
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"from_torch: the parameters are {dtype}; tinygrad_lite computes in float32 and float64: "
                        "module.float() or module.double() first")
    out = _from_torch(module, torch)
    return out.to(np.float32 if dtype == torch.float32 else np.float64).train(module.training)


def _from_torch(t: Any, torch: Any) -> Any:
    tnn = torch.nn
    TorchAttention, TorchBatchNorm = _classes()

    def copy(value: Value | None, param: Any, transpose: bool = False) -> None:
        if value is not None and param is not None:
            a = param.detach().cpu().double().numpy()
            value.data = a.T.copy() if transpose else a.copy()

    def refuse(why: str) -> None:
        raise TypeError(f"from_torch: {type(t).__name__} {why}")
    kind = type(t)
    if kind is tnn.Linear:
        m: Any = layers.Linear(t.in_features, t.out_features, bias=t.bias is not None)
        copy(m.weight, t.weight, True)
        copy(m.bias, t.bias)
    elif kind is tnn.Conv2d:
        if t.groups != 1 or tuple(t.dilation) != (1, 1) or isinstance(t.padding, str) or t.padding_mode != "zeros":
            refuse("with groups, dilation, 'same' padding or a padding mode other than zeros has no twin here")
        m = layers.Conv2d(t.in_channels, t.out_channels, t.kernel_size, t.stride, t.padding, bias=t.bias is not None)
        copy(m.weight, t.weight)
        copy(m.bias, t.bias)
    elif kind in (tnn.MaxPool2d, tnn.AvgPool2d):
        if t.padding not in (0, (0, 0)) or t.ceil_mode or getattr(t, "dilation", 1) not in (1, (1, 1)):
            refuse("with padding, ceil_mode or dilation has no twin here")
        m = (layers.MaxPool2d if kind is tnn.MaxPool2d else layers.AvgPool2d)(t.kernel_size, t.stride)
    elif kind in (tnn.BatchNorm1d, TorchBatchNorm):
        if not (t.affine and t.track_running_stats) or t.momentum is None:
            refuse("without affine weights, running statistics or a momentum has no twin here")
        m = norm.BatchNorm1d(t.num_features, eps=t.eps, momentum=t.momentum,
                             features_last=getattr(t, "features_last", False))
        for name in ("weight", "bias", "running_mean", "running_var"):
            copy(getattr(m, name), getattr(t, name))
    elif kind is tnn.LayerNorm:
        if not t.elementwise_affine:
            refuse("without its weight has no twin here")
        m = norm.LayerNorm(t.normalized_shape, eps=t.eps, bias=t.bias is not None)
        copy(m.weight, t.weight)
        copy(m.bias, t.bias)
    elif kind is tnn.RMSNorm:
        if not t.elementwise_affine:
            refuse("without its weight has no twin here")
        m = norm.RMSNorm(t.normalized_shape, eps=t.eps)
        copy(m.weight, t.weight)
    elif kind is tnn.Embedding:
        if t.padding_idx is not None or t.max_norm is not None:
            refuse("with padding_idx or max_norm has no twin here")
        m = layers.Embedding(t.num_embeddings, t.embedding_dim)
        copy(m.weight, t.weight)
    elif kind.__name__ in ("Sigmoid", "Tanh", "ReLU") and kind.__module__.startswith("torch."):
        m = getattr(layers, kind.__name__)()
    elif kind is tnn.Flatten:
        if (t.start_dim, t.end_dim) != (1, -1):
            refuse("other than Flatten(1, -1) has no twin here")
        m = layers.Flatten()
    elif kind is tnn.LeakyReLU:
        m = layers.LeakyReLU(t.negative_slope)
    elif kind is tnn.GELU:
        m = layers.GELU(approximate=t.approximate)
    elif kind is tnn.Softmax:
        m = layers.Softmax(axis=-1 if t.dim is None else t.dim)
    elif kind is tnn.Dropout:
        m = layers.Dropout(t.p)
    elif kind is TorchAttention:
        C = t.qkv.in_features
        m = CausalSelfAttention(C, t.num_heads, dropout=t.dropout, bias=t.qkv.bias is not None)
        m.qkv, m.proj = _from_torch(t.qkv, torch), _from_torch(t.proj, torch)
        m.attn_dropout.p = m.resid_dropout.p = t.dropout
    elif kind in (tnn.RNNCell, tnn.GRUCell, tnn.LSTMCell):
        if kind is tnn.RNNCell and t.nonlinearity != "tanh":
            refuse("with a relu nonlinearity has no twin here (tanh only)")
        m = getattr(recurrent, kind.__name__)(t.input_size, t.hidden_size, bias=t.bias)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            copy(getattr(m, name), getattr(t, name, None), name.startswith("weight"))
    elif kind is tnn.Sequential:
        m = layers.Sequential(*(_from_torch(x, torch) for x in t))
    elif kind is tnn.ModuleList:
        m = layers.ModuleList([_from_torch(x, torch) for x in t])
    elif kind is tnn.ModuleDict:
        m = layers.ModuleDict({k: _from_torch(x, torch) for k, x in t.items()})
    elif getattr(kind, "tinygrad_lite_twin", None) in _FROM:
        m = _FROM[kind.tinygrad_lite_twin](t, lambda part: _from_torch(part, torch))
    else:
        raise TypeError(f"from_torch: {kind.__name__} is a module this library has no twin of (or a class of your "
                        "own, whose forward is Python that cannot be carried over): convert its parts and write the "
                        "same forward in a tinygrad_lite Module around them")
    return m.train(t.training)
