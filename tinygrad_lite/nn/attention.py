"""Attention: the function a learner can call on queries, keys and values, and CausalSelfAttention, the multi-head
block of a GPT (nanoGPT's layout: one Linear makes the queries, keys and values, another mixes the heads).
Plain Value arithmetic, so every gradient comes from the engine; a masked position is a -inf score, which
softmax turns into a weight of exactly 0 and whose gradient is 0, as in PyTorch.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .. import _checks
from ..value import concatenate, where
from .layers import Dropout, Linear, _flag
from .module import Module, _generator, _input


def attention(query: Any, key: Any, value: Any, causal: bool | str = False, mask: Any = None,
              scale: float | None = None, dropout: Dropout | None = None, need_weights: bool = False) -> Any:
    """softmax(query @ key^T * scale + mask) @ value, over inputs of shape (..., T, d) (keys and values: (..., S, d)),
    as PyTorch's scaled_dot_product_attention.

    scale defaults to 1 / sqrt(d). causal=True lets query t attend to keys 0..t only, aligned at the top left
    (PyTorch's is_causal: with more keys than queries, the later keys are seen by no query); causal="lower_right"
    aligns the last query with the last key instead (PyTorch's causal_lower_right), so that query t sees keys up to
    t + S - T: the form for queries that come after S - T cached keys. mask (broadcast to (..., T, S)): booleans,
    True where attention is allowed (PyTorch's convention), or floats added to the scores (-inf to forbid); integers
    are refused (say mask.astype(bool)). A query that may attend to nothing gives 0 and passes no gradient back, as
    scaled_dot_product_attention (softmax alone would give NaN). dropout: a Dropout module applied to the attention
    weights (training only). need_weights=True returns (output, weights), the weights of shape (..., T, S) before
    dropout, each row summing to 1 (0 for a query that may attend to nothing), as PyTorch's MultiheadAttention."""
    if not (isinstance(causal, (bool, np.bool_)) or (isinstance(causal, str) and causal == "lower_right")):
        raise ValueError(f"attention: causal must be True, False or 'lower_right', got {_checks.describe(causal)}")
    _flag("attention", "need_weights", need_weights)
    if scale is not None:
        scale = _checks.number("attention", "scale", scale)
    if dropout is not None and not isinstance(dropout, Dropout):
        raise TypeError(f"attention: dropout must be None or a Dropout module, got {_checks.describe(dropout)}")
    q, k, v = (_input("attention", x, what) for x, what in ((query, "query"), (key, "key"), (value, "value")))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"attention: expected query (..., T, d), key (..., S, d) and value (..., S, dv), got shapes "
                         f"{q.shape}, {k.shape} and {v.shape}")
    d = q.shape[-1]
    scores = q @ k.swapaxes(-1, -2) * (1 / math.sqrt(d) if scale is None else float(scale))  # (..., T, S)
    T, S = q.shape[-2], k.shape[-2]
    # What may be attended to goes to masked_softmax as an input (so that a replayed step reads a mask passed in
    # afresh); the causal mask is one read-only array per shape. A row with nothing allowed gives weights of 0.
    allowed: Any = _causal(T, S, S - T if isinstance(causal, str) else 0) if causal else 1.0
    if mask is not None:
        m = _checks.numeric("attention", "mask", mask)
        if m.dtype.kind in "iu":
            raise TypeError(f"attention: the mask holds integers ({m.dtype}), which PyTorch refuses too: give "
                            "booleans, True where attention is allowed (mask.astype(bool)), or floats to add to "
                            "the scores (-inf to forbid)")
        try:
            np.broadcast_shapes(m.shape, scores.shape)
        except ValueError:
            raise ValueError(f"attention: mask of shape {m.shape} does not broadcast to the scores' shape "
                             f"{scores.shape} (..., T, S)") from None
        if m.dtype != bool:
            scores = scores + m.astype(scores.dtype, copy=False)
        elif causal:
            scores, allowed = where(allowed, scores, -np.inf), m
        else:
            allowed = m
    weights = scores.masked_softmax(allowed, axis=-1)
    out = (weights if dropout is None else dropout(weights)) @ v  # (..., T, dv)
    return (out, weights) if need_weights else out


@functools.lru_cache(maxsize=32)
def _causal(T: int, S: int, offset: int) -> np.ndarray:
    """Query t sees keys 0..t + offset: one read-only array per shape, the same object at every call (so that a
    replayed step keeps it as a constant of its graph)."""
    allowed = np.tril(np.ones((T, S), dtype=bool), offset)
    allowed.flags.writeable = False
    return allowed


class CausalSelfAttention(Module):
    """Multi-head causal self-attention on (B, T, C) input, C = embed_dim split into num_heads heads of
    C / num_heads: qkv = x @ W_qkv (C -> 3C), each head attends to the positions up to its own, and the heads,
    joined, go through proj (C -> C). dropout: on the attention weights and on the output, in training only.
    Its Linear weights are (in, out), the transposes of PyTorch's."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True, rng: Any = None):
        self.embed_dim = _checks.whole("CausalSelfAttention", "embed_dim", embed_dim)
        self.num_heads = _checks.whole("CausalSelfAttention", "num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"CausalSelfAttention: embed_dim {embed_dim} is not a multiple of num_heads {num_heads}")
        dropout = _checks.number("CausalSelfAttention", "dropout (a probability)", dropout, lo=0, hi=1)
        _flag("CausalSelfAttention", "bias", bias)
        gen = _generator("CausalSelfAttention", rng)  # one stream for all the parts: no two draw the same numbers
        self.qkv = Linear(self.embed_dim, 3 * self.embed_dim, bias=bias, rng=gen)
        self.proj = Linear(self.embed_dim, self.embed_dim, bias=bias, rng=gen)
        self.attn_dropout, self.resid_dropout = Dropout(dropout, rng=gen), Dropout(dropout, rng=gen)

    def forward(self, x: Any, need_weights: bool = False, cache: list[Any] | None = None) -> Any:
        """(B, T, C) -> (B, T, C); with need_weights=True, (output, weights), the weights (B, heads, T, T): how much
        each position of each head attends to each earlier one (an attention map).

        cache (for sampling, under no_grad): a list, empty at first, in which the keys and values of the positions
        seen so far are kept; x then holds only the positions after them, whose queries attend to the cached keys
        and their own (causal="lower_right"), so each new token costs one position's work."""
        x = _input("CausalSelfAttention", x)
        C, h = self.embed_dim, self.num_heads
        if x.ndim != 3 or x.shape[2] != C:
            raise ValueError(f"CausalSelfAttention: expected input of shape (batch, time, {C}), got shape {x.shape}")
        B, T, _ = x.shape
        qkv = self.qkv(x)  # (B, T, 3C)
        q, k, v = (qkv[..., i * C:(i + 1) * C].reshape((B, T, h, C // h)).swapaxes(1, 2)  # (B, h, T, C/h)
                   for i in range(3))
        _flag("CausalSelfAttention", "need_weights", need_weights)
        causal: bool | str = True
        if cache is not None:  # earlier positions' keys and values first: (B, h, S, C/h), S = cached + T
            if cache:
                k, v = concatenate([cache[0], k], axis=2), concatenate([cache[1], v], axis=2)
            cache[:] = [k, v]
            causal = "lower_right"
        heads, weights = attention(q, k, v, causal=causal, dropout=self.attn_dropout, need_weights=True)
        out = self.resid_dropout(self.proj(heads.swapaxes(1, 2).reshape((B, T, C))))
        return (out, weights) if need_weights else out

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
