"""A small GPT, nanoGPT's model in tinygrad_lite: token and position embeddings, blocks of (LayerNorm, causal
self-attention, LayerNorm, MLP) with residual connections, a final LayerNorm, and logits from the token
embedding's own weights (weight tying). nanoGPT's initialisation: normal(0, 0.02), the projections back into
the residual stream scaled by 1 / sqrt(2 n_layer); no biases.

    model = GPT(vocab_size=65)                 # nanoGPT's CPU configuration: 4 layers, 4 heads, 128-d, context 64
    logits = model(ids)                        # ids (B, T) -> logits (B, T, vocab)
    text_ids = model.generate(tok.encode("ROMEO:"), 200, temperature=0.8, rng=np.random.default_rng(1))
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .. import _checks, nn, optim
from ..modes import no_grad
from ..nn import bridge
from ..value import Value


class Block(nn.Module):
    """x + attention(LayerNorm(x)), then that + MLP(LayerNorm(that)): the MLP is C -> 4C -> GELU -> C."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, rng: np.random.Generator, bias: bool = False,
                 gelu: str = "none"):
        self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
        self.attn = nn.CausalSelfAttention(n_embd, n_head, dropout=dropout, bias=bias, rng=rng)
        self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd, bias=bias, rng=rng), nn.GELU(approximate=gelu),
                                 nn.Linear(4 * n_embd, n_embd, bias=bias, rng=rng), nn.Dropout(dropout, rng=rng))

    def forward(self, x: Value, need_weights: bool = False, cache: list[Any] | None = None) -> Any:
        """(B, T, C) -> (B, T, C); cache: the attention's keys and values of earlier positions (GPT.generate)."""
        attended = self.attn(self.ln_1(x), need_weights=need_weights, cache=cache)  # weights: (B, heads, T, T)
        attended, weights = attended if need_weights else (attended, None)
        x = x + attended
        x = x + self.mlp(self.ln_2(x))
        return (x, weights) if need_weights else x


class GPT(nn.Module):
    """A decoder-only transformer over a vocabulary of vocab_size tokens and contexts of up to block_size.
    bias=True gives the Linear layers and LayerNorms biases, and gelu="tanh" GELU's tanh form: GPT-2's layout
    (GPT.from_gpt2 loads its weights)."""

    def __init__(self, vocab_size: int, block_size: int = 64, n_layer: int = 4, n_head: int = 4, n_embd: int = 128,
                 dropout: float = 0.0, seed: int = 0, bias: bool = False, gelu: str = "none"):
        rng = np.random.default_rng(seed)
        self.block_size, self.n_head = block_size, n_head
        self.wte = nn.Embedding(vocab_size, n_embd, rng=rng)  # (vocab, C); also the output layer's weights
        self.wpe = nn.Embedding(block_size, n_embd, rng=rng)  # (T, C)
        self.drop = nn.Dropout(dropout, rng=rng)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, dropout, rng, bias, gelu) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, bias=bias)
        for name, p in self.named_parameters():  # nanoGPT's _init_weights
            if p.ndim == 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith(("proj.weight", "mlp.layers.2.weight")) else 0.02
                p.data[...] = rng.normal(0.0, std, p.shape)
            elif name.endswith("bias"):
                p.data[...] = 0.0

    def forward(self, ids: Any, need_weights: bool = False) -> Any:
        """ids (B, T) -> logits (B, T, vocab); with need_weights=True, (logits, each block's attention weights,
        (B, heads, T, T) arrays): attention maps."""
        ids = np.asarray(ids)
        B, T = ids.shape
        if T > self.block_size:
            raise ValueError(f"GPT: a context of {T} tokens is longer than block_size {self.block_size}")
        x = self.drop(self.wte(ids) + self.wpe.weight[:T])  # (B, T, C): positions 0..T-1 are wpe's first rows
        maps = []
        for block in self.blocks:
            if need_weights:
                x, weights = block(x, need_weights=True)
                maps.append(weights.data)
            else:
                x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.swapaxes(0, 1)  # (B, T, C) @ (C, vocab) -> (B, T, vocab)
        return (logits, maps) if need_weights else logits

    def optimizer(self, lr: float, weight_decay: float = 0.1, betas: tuple[float, float] = (0.9, 0.99)) -> Any:
        """AdamW with nanoGPT's two groups: the matrices decay, the LayerNorm weights do not."""
        params = self.parameters()
        decay = [p for p in params if p.ndim >= 2]
        rest = [p for p in params if p.ndim < 2]
        return optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}],
                           lr=lr, betas=betas)

    def generate(self, ids: Any, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        """ids followed by max_new_tokens sampled tokens, as nanoGPT's generate: each from softmax(logits /
        temperature) of the last block_size tokens (only the top_k most likely, if given). ids: (B, T) token ids, or
        one sequence (T,), which gives one sequence back; from a prompt, `model.generate(tok.encode("ROMEO:"), 200)`.
        The keys and values of earlier positions are kept (a cache), so that while the text fits in block_size
        each token costs one position's forward; the tokens are those of nanoGPT's loop for the same generator.
        """
        if isinstance(ids, str):
            raise TypeError("GPT.generate: give token ids, not text: encode the prompt first, "
                            "model.generate(tok.encode(prompt), max_new_tokens), and decode what comes back")
        a = np.asarray(ids)
        if a.dtype.kind not in "iu" or a.ndim not in (1, 2) or a.shape[-1] == 0:
            raise ValueError(f"GPT.generate: ids must be whole numbers of shape (T,) or (batch, T), T >= 1, got "
                             f"{_checks.describe(ids)}")
        vocab = self.wte.num_embeddings
        if a.min() < 0 or a.max() >= vocab:
            raise ValueError(f"GPT.generate: token ids must be in [0, {vocab}), got {a.min()} to {a.max()}")
        max_new_tokens = _checks.whole("GPT.generate", "max_new_tokens", max_new_tokens, least=0)
        temperature = _checks.number("GPT.generate", "temperature", temperature, lo=0, lo_open=True)
        if top_k is not None:
            top_k = min(_checks.whole("GPT.generate", "top_k", top_k), vocab)
        rng = rng if rng is not None else np.random.default_rng()
        out = np.array(a.reshape(1, -1) if a.ndim == 1 else a, dtype=np.int64)
        was_training = self.training
        self.eval()
        caches: list[list[Any]] = []  # each block's keys and values of the positions already seen
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    logits = self._next_logits(out, caches).data[:, -1, :] / temperature  # (B, vocab)
                    if top_k is not None:
                        cut = np.sort(logits, axis=-1)[:, -top_k][:, None]
                        logits = np.where(logits < cut, -np.inf, logits)
                    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
                    p /= p.sum(axis=-1, keepdims=True)
                    nxt = np.array([rng.choice(len(row), p=row) for row in p])
                    out = np.concatenate([out, nxt[:, None]], axis=1)
        finally:
            self.train(was_training)
        return out[0] if a.ndim == 1 else out

    def _next_logits(self, ids: np.ndarray, caches: list[list[Any]]) -> Value:
        """The logits after ids, from the cached keys and values of the positions seen before: one position's work
        per token while ids fit in block_size. Beyond it the window moves on, each position's place in it changes
        and with it every cached key (the positions are learned embeddings added at the input): there the window
        is run afresh, as nanoGPT's generate runs it for every token, so both give the same logits."""
        T = ids.shape[1]
        seen = caches[0][0].shape[2] if caches and caches[0] else 0
        if T > self.block_size or not caches or seen >= T:
            ids, seen = ids[:, -self.block_size:], 0
            caches[:] = [[] for _ in self.blocks] if T <= self.block_size else []
        x = self.wte(ids[:, seen:]) + self.wpe.weight[seen:ids.shape[1]]
        for i, block in enumerate(self.blocks):
            x = block(x, cache=caches[i] if caches else None)
        return self.ln_f(x[:, -1:]) @ self.wte.weight.swapaxes(0, 1)

    @classmethod
    def from_gpt2(cls, state_dict: dict[str, Any], n_head: int) -> GPT:
        """A GPT holding the weights of a Hugging Face GPT2LMHeadModel's state dict (its tensors, or arrays):
        `GPT.from_gpt2(GPT2LMHeadModel.from_pretrained("gpt2").state_dict(), n_head=12)`. Its Conv1D weights are
        (in, out), as Linear's here; c_attn makes the queries, keys and values, c_proj mixes the heads; biases
        everywhere; GELU's tanh form; the head is wte (tied). The sizes come from the weights, n_head from you
        (GPT-2 small: 12)."""
        if not isinstance(state_dict, dict):
            raise TypeError("GPT.from_gpt2: give a state dict (model.state_dict()), got "
                            f"{_checks.describe(state_dict)}")
        n_head = _checks.whole("GPT.from_gpt2", "n_head", n_head)
        sd = {str(k).removeprefix("transformer."): _array(v) for k, v in state_dict.items()}
        sd = {k: v for k, v in sd.items() if not k.endswith((".attn.bias", ".attn.masked_bias"))}  # causal masks
        if "wte.weight" not in sd or "wpe.weight" not in sd:
            raise ValueError("GPT.from_gpt2: no wte.weight and wpe.weight among the keys: give the state_dict() of a "
                             "transformers GPT2LMHeadModel or GPT2Model")
        (vocab, n_embd), block = sd["wte.weight"].shape, sd["wpe.weight"].shape[0]
        n_layer = len({k.split(".")[1] for k in sd if k.startswith("h.")})
        if n_embd % n_head:
            raise ValueError(f"GPT.from_gpt2: the embedding size {n_embd} is not a multiple of n_head {n_head}")
        head = sd.pop("lm_head.weight", None)
        if head is not None and not np.array_equal(head, sd["wte.weight"]):
            raise ValueError("GPT.from_gpt2: lm_head.weight differs from wte.weight; this GPT ties them (as GPT-2)")
        names = {"ln_1": "ln_1", "attn.c_attn": "attn.qkv", "attn.c_proj": "attn.proj", "ln_2": "ln_2",
                 "mlp.c_fc": "mlp.layers.0", "mlp.c_proj": "mlp.layers.2"}
        mine: dict[str, np.ndarray] = {}
        for k, v in sd.items():
            parts = k.split(".")
            if parts[0] == "h":
                inner = ".".join(parts[2:-1])
                if inner not in names:
                    raise ValueError(f"GPT.from_gpt2: an unknown weight {k!r} (not GPT-2's layout)")
                k = f"blocks.{parts[1]}.{names[inner]}.{parts[-1]}"
            mine[k] = v
        model = cls(vocab, block, n_layer, n_head, n_embd, bias=True, gelu="tanh").to(sd["wte.weight"].dtype)
        model.load_state_dict(mine)
        return model


def _array(x: Any) -> np.ndarray:
    """A numpy array of a torch tensor (on any device) or of an array."""
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)


# ---- its PyTorch twin (tl.nn.to_torch and from_torch; torch is imported only when they are called) --------------

@functools.cache
def _torch_classes() -> Any:
    import torch

    class TorchBlock(torch.nn.Module):
        tinygrad_lite_twin = "Block"

        def __init__(self, ln_1: Any, attn: Any, ln_2: Any, mlp: Any):
            super().__init__()
            self.ln_1, self.attn, self.ln_2, self.mlp = ln_1, attn, ln_2, mlp

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class TorchGPT(torch.nn.Module):
        """tinygrad_lite's GPT in PyTorch: ids (B, T) -> logits (B, T, vocab), the head tied to wte."""

        tinygrad_lite_twin = "GPT"

        def __init__(self, wte: Any, wpe: Any, drop: Any, blocks: Any, ln_f: Any):
            super().__init__()
            self.wte, self.wpe, self.drop, self.blocks, self.ln_f = wte, wpe, drop, blocks, ln_f
            self.block_size = wpe.num_embeddings

        def forward(self, ids: Any) -> Any:
            x = self.drop(self.wte(ids) + self.wpe.weight[:ids.shape[1]])
            for block in self.blocks:
                x = block(x)
            return self.ln_f(x) @ self.wte.weight.T

    return TorchBlock, TorchGPT


def _block_from_torch(t: Any, convert: Any) -> Block:
    block = Block.__new__(Block)
    block.ln_1, block.attn, block.ln_2, block.mlp = (convert(x) for x in (t.ln_1, t.attn, t.ln_2, t.mlp))
    return block


def _gpt_from_torch(t: Any, convert: Any) -> GPT:
    first = t.blocks[0]
    model = GPT(t.wte.num_embeddings, t.block_size, len(t.blocks), first.attn.num_heads, t.wte.embedding_dim,
                dropout=t.drop.p, bias=first.attn.qkv.bias is not None, gelu=first.mlp[1].approximate)
    model.wte, model.wpe, model.drop, model.ln_f = (convert(x) for x in (t.wte, t.wpe, t.drop, t.ln_f))
    model.blocks = convert(t.blocks)
    return model


bridge.register(Block, lambda m, convert: _torch_classes()[0](*map(convert, (m.ln_1, m.attn, m.ln_2, m.mlp))),
                "Block", _block_from_torch)
bridge.register(GPT, lambda m, convert: _torch_classes()[1](*map(convert, (m.wte, m.wpe, m.drop, m.blocks, m.ln_f))),
                "GPT", _gpt_from_torch)
