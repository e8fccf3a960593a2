'''Exercises on models: one attention head's backward, a GPT block's forward from its layers, and a training loop
that reaches a stated loss. Each check computes the answer with the engine (or trains with the learner's code).'''

from __future__ import annotations

from typing import Any

import numpy as np

from .. import data, nn
from ..programs.gpt import Block
from ..value import Value
from .checking import compare, engine_grads, run
from .exercise import Exercise, Wrong, solved

ATTENTION = '''"""Exercise 12: one attention head's backward. out = softmax(q @ k.T / sqrt(d)) @ v, with q and k of
shape (T, d) and v of shape (T, dv); the softmax is over each row (no mask).

Given dout = dL/dout, return (dq, dk, dv). Go backwards through the three steps: the product with v, the softmax
(for a row p with upstream gradient dp: p * (dp - sum(p * dp))), and the scaled product q @ k.T.
Check with `tinygrad-lite exercises check 12`.
"""
import numpy as np


def attention_backward(dout, q, k, v):
    """Return (dL/dq, dL/dk, dL/dv)."""
    raise NotImplementedError  # TODO
'''


def _attention_trial(m: Any, r: Any, t: int, d: int, dv: int) -> None:
    q, k, v, dout = (r.standard_normal(s) for s in ((t, d), (t, d), (t, dv), (t, dv)))
    dq, dk, dvv = engine_grads(lambda a, b, c: (a @ b.T / np.sqrt(d)).softmax(axis=-1) @ c, q, k, v, g=dout)
    s = q @ k.T / np.sqrt(d)
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dp = dout @ v.T
    ds = p * (dp - (p * dp).sum(1, keepdims=True))
    got = m.attention_backward(dout, q, k, v)
    compare("attention_backward", "dL/dv", got[2], dvv,
            ((p @ dout, "a missing transpose: dL/dv = p.T @ dout"),))
    compare("attention_backward", "dL/dq", got[0], dq, ((ds @ k, "the scale: dL/dq = ds @ k / sqrt(d)"),))
    compare("attention_backward", "dL/dk", got[1], dk, ((ds.T @ q, "the scale: dL/dk = ds.T @ q / sqrt(d)"),
                                                          (ds @ q / np.sqrt(d), "the transpose: ds.T @ q")))


def _check_attention(m: Any) -> None:
    run(m, _attention_trial, [(4, 3, 2), (5, 4, 4), (2, 2, 3)], seed=12,
        shapes=lambda st, hnp: st.tuples(*[st.integers(1, 5)] * 3))


BLOCK = '''"""Exercise 13: a GPT block's forward from its layers, as nanoGPT's: pre-norm residual blocks.

x has shape (B, T, C). ln_1 and ln_2 are LayerNorms, attn a CausalSelfAttention, mlp the MLP (C -> 4C -> GELU
-> C). The block adds attention of the normalised x to x, then adds the MLP of the normalised result to that.
Return the block's output, (B, T, C). Check with `tinygrad-lite exercises check 13`.
"""


def block_forward(x, ln_1, attn, ln_2, mlp):
    """x + attn(ln_1(x)), then that + mlp(ln_2(that))."""
    raise NotImplementedError  # TODO
'''


def _block_trial(m: Any, r: Any, b: int, t: int, c: int) -> None:
    block = Block(c, 2, 0.0, np.random.default_rng(int(r.integers(0, 1000))))
    for p in block.parameters():
        p.data = p.data + 0.1 * r.standard_normal(p.shape)  # LayerNorm's weights away from 1 and 0
    x = Value(r.standard_normal((b, t, c)))
    expected = block(x).data
    post = block.ln_1(x + block.attn(x))
    post = block.ln_2(post + block.mlp(post)).data
    no_residual = block.mlp(block.ln_2(block.attn(block.ln_1(x)))).data
    got = m.block_forward(x, block.ln_1, block.attn, block.ln_2, block.mlp)
    compare("block_forward", f"the output for x of shape {(b, t, c)}", getattr(got, "data", got), expected,
            ((post, "pre-norm: the LayerNorm comes before attention and the MLP, inside each residual branch"),
             (no_residual, "the residual connections: add each branch's output to its input")))


def _check_block(m: Any) -> None:
    run(m, _block_trial, [(2, 4, 8), (1, 6, 8)], seed=13, examples=10,
        shapes=lambda st, hnp: st.tuples(st.integers(1, 3), st.integers(1, 6), st.sampled_from([2, 4, 8])))


TRAIN = '''"""Exercise 14: a training loop that reaches a stated loss. Train a classifier of the two moons
(tl.data.moons(n=200, noise=0.1, seed=0): X of shape (200, 2), y of 0s and 1s) until its mean cross-entropy on them
is below 0.05, and return the model (a tl.nn.Module giving (200, 2) logits for X).

The usual loop: a model (tl.nn.Sequential of Linear and Tanh layers), an optimiser (tl.optim.Adam), and for each
step: zero the gradients, compute the loss, backward, step. Check with `tinygrad-lite exercises check 14`.
"""
import numpy as np
import tinygrad_lite as tl


def train(X, y):
    """Return a trained model whose mean cross-entropy on (X, y) is below 0.05."""
    raise NotImplementedError  # TODO
'''


def _check_train(m: Any) -> None:
    X, y = data.moons(n=200, noise=0.1, seed=0)
    model = m.train(X.copy(), y.copy())
    if not isinstance(model, nn.Module):
        raise Wrong(f"train returned {type(model).__name__}; return the model (a tl.nn.Module)")
    loss = float(nn.CrossEntropy()(model(X), y).item())
    if not np.isfinite(loss):
        raise Wrong("train: the loss is not a number. Likely mistake: a learning rate too large")
    if abs(loss - np.log(2)) < 0.02:
        raise Wrong(f"train: the loss is {loss:.3f}, log 2, a coin's: the weights never moved. Likely mistake: "
                    "the optimiser's step() after backward()")
    if loss >= 0.05:
        raise Wrong(f"train: the loss is {loss:.3f}, expected below 0.05. Likely mistake: too few steps or too "
                    "small a network or learning rate (64 tanh units, Adam at 0.01, 1,000 steps reach it)")


EXERCISES = [
    Exercise(12, "attention_backward", "one attention head's backward", ATTENTION,
             solved(ATTENTION, {"attention_backward":
                                   "    d = q.shape[-1]\n"
                                   "    s = q @ k.T / np.sqrt(d)\n"
                                   "    p = np.exp(s - s.max(axis=1, keepdims=True))\n"
                                   "    p /= p.sum(axis=1, keepdims=True)\n"
                                   "    dv = p.T @ dout\n"
                                   "    dp = dout @ v.T\n"
                                   "    ds = p * (dp - (p * dp).sum(axis=1, keepdims=True)) / np.sqrt(d)\n"
                                   "    return ds @ k, ds.T @ q, dv"}),
             ("dL/dv = p.T @ dout and dL/dp = dout @ v.T, p the softmax's output.",
              "Through the softmax, then ds / sqrt(d): dq = ds @ k and dk = ds.T @ q."), _check_attention),
    Exercise(13, "gpt_block", "a GPT block's forward from the layers", BLOCK,
             solved(BLOCK, {"block_forward": "    x = x + attn(ln_1(x))\n    return x + mlp(ln_2(x))"}),
             ("Each branch starts from a LayerNorm of the running x, and its output is added to x.",
              "Two lines: x = x + attn(ln_1(x)), then x + mlp(ln_2(x))."), _check_block),
    Exercise(14, "training_loop", "a training loop that reaches a stated loss", TRAIN,
             solved(TRAIN, {"train":
                               "    model = tl.nn.Sequential(tl.nn.Linear(2, 64, rng=0), tl.nn.Tanh(),\n"
                               "                             tl.nn.Linear(64, 2, rng=1))\n"
                               "    opt, loss_fn = tl.optim.Adam(model.parameters(), lr=0.01), tl.nn.CrossEntropy()\n"
                               "    for step in range(1000):\n"
                               "        opt.zero_grad()\n"
                               "        loss = loss_fn(model(X), y)\n"
                               "        loss.backward()\n"
                               "        opt.step()\n"
                               "    return model"}),
             ("The loop: opt.zero_grad(), loss = loss_fn(model(X), y), loss.backward(), opt.step().",
              "64 tanh units and Adam at lr=0.01 for 1,000 steps reach it."), _check_train),
]
