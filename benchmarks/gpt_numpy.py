"""The floor for W7: the same GPT training step written by hand in numpy, as well as numpy allows (no graph, no
Values: each layer's forward keeps what its backward needs, the backward is written out, matrix products are
numpy's BLAS, the elementwise work numpy's vectorised ufuncs, float32 throughout). GELU uses the same vectorised
float32 Phi as tinygrad_lite (numpy has no erf; scipy's, one number at a time, would put the floor higher).

benchmarks/gpt_step.py runs it beside tinygrad_lite and PyTorch (the engine "numpy by hand"); its losses must
follow theirs (the first to float32's rounding, the 23rd to 1e-3), which checks the hand-written backward.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_lite.ops.erf import normal_cdf_float32

C, H, L, V, EPS = 128, 4, 4, 65, 1e-5


def _ln(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, tuple[Any, ...]]:
    d = x - x.mean(-1, keepdims=True)
    rstd = ((d * d).mean(-1, keepdims=True) + EPS) ** -0.5
    xhat = d * rstd
    return xhat * w, (xhat, rstd, w)


def _ln_back(g: np.ndarray, saved: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray]:
    xhat, rstd, w = saved
    dxhat = g * w
    dx = (dxhat - dxhat.mean(-1, keepdims=True) - xhat * (dxhat * xhat).mean(-1, keepdims=True)) * rstd
    return dx, (g * xhat).reshape(-1, C).sum(0)


def _gelu(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cdf = normal_cdf_float32(x)
    return x * cdf, cdf


def _gelu_back(g: np.ndarray, x: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    d = x * x
    d *= -0.5
    np.exp(d, out=d)
    d *= x
    d *= 1 / math.sqrt(2 * math.pi)
    d += cdf
    d *= g
    return d


class NumpyGPT:
    """nanoGPT's CPU configuration, its parameters in tinygrad_lite's layout (Linear weights (in, out))."""

    def __init__(self, state: dict[str, np.ndarray]):
        self.p = {k: np.array(v, dtype=np.float32) for k, v in state.items()}
        self.mask = np.tril(np.ones((64, 64), dtype=bool))

    def loss_and_grads(self, ids: np.ndarray, targets: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        p, (B, T) = self.p, ids.shape
        x = p["wte.weight"][ids] + p["wpe.weight"][:T]
        saved = []
        for i in range(L):
            b = f"blocks.{i}."
            h, ln1 = _ln(x, p[b + "ln_1.weight"])
            qkv = h @ p[b + "attn.qkv.weight"]  # (B, T, 3C)
            q, k, v = (qkv[..., j * C:(j + 1) * C].reshape(B, T, H, C // H).transpose(0, 2, 1, 3) for j in range(3))
            s = q @ k.transpose(0, 1, 3, 2) * (1 / math.sqrt(C // H))
            s = np.where(self.mask[:T, :T], s, np.float32(-np.inf))
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)  # the attention weights
            y = (s @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
            x = x + y @ p[b + "attn.proj.weight"]
            h2, ln2 = _ln(x, p[b + "ln_2.weight"])
            f = h2 @ p[b + "mlp.layers.0.weight"]
            a, cdf = _gelu(f)
            x = x + a @ p[b + "mlp.layers.2.weight"]
            saved.append((h, ln1, q, k, v, s, y, h2, ln2, f, a, cdf))
        hf, lnf = _ln(x, p["ln_f.weight"])
        logits = hf @ p["wte.weight"].T  # (B, T, V)
        z = logits - logits.max(-1, keepdims=True)
        e = np.exp(z)
        total = e.sum(-1, keepdims=True)
        rows = np.arange(B)[:, None], np.arange(T)[None, :], targets
        loss = float(np.mean(np.log(total[..., 0]) - z[rows]))

        grads = {k: np.zeros_like(w) for k, w in p.items()}
        dlogits = e / total
        dlogits[rows] -= 1
        dlogits *= 1 / (B * T)
        grads["wte.weight"] += dlogits.reshape(-1, V).T @ hf.reshape(-1, C)
        dx, grads["ln_f.weight"] = _ln_back(dlogits @ p["wte.weight"], lnf)
        for i in reversed(range(L)):
            b = f"blocks.{i}."
            h, ln1, q, k, v, s, y, h2, ln2, f, a, cdf = saved[i]
            w2, w1 = p[b + "mlp.layers.2.weight"], p[b + "mlp.layers.0.weight"]
            grads[b + "mlp.layers.2.weight"] = a.reshape(-1, 4 * C).T @ dx.reshape(-1, C)
            df = _gelu_back(dx @ w2.T, f, cdf)
            grads[b + "mlp.layers.0.weight"] = h2.reshape(-1, C).T @ df.reshape(-1, 4 * C)
            dh2, grads[b + "ln_2.weight"] = _ln_back(df @ w1.T, ln2)
            dx = dx + dh2
            wp = p[b + "attn.proj.weight"]
            grads[b + "attn.proj.weight"] = y.reshape(-1, C).T @ dx.reshape(-1, C)
            dy = (dx @ wp.T).reshape(B, T, H, C // H).transpose(0, 2, 1, 3)
            dv = s.transpose(0, 1, 3, 2) @ dy
            ds = dy @ v.transpose(0, 1, 3, 2)
            ds = s * (ds - (ds * s).sum(-1, keepdims=True))  # masked places: s is 0 there
            ds *= 1 / math.sqrt(C // H)
            dq, dk = ds @ k, ds.transpose(0, 1, 3, 2) @ q
            dqkv = np.concatenate([d.transpose(0, 2, 1, 3).reshape(B, T, C) for d in (dq, dk, dv)], axis=-1)
            grads[b + "attn.qkv.weight"] = h.reshape(-1, C).T @ dqkv.reshape(-1, 3 * C)
            dh, grads[b + "ln_1.weight"] = _ln_back(dqkv @ p[b + "attn.qkv.weight"].T, ln1)
            dx = dx + dh
        np.add.at(grads["wte.weight"], ids, dx)
        grads["wpe.weight"][:T] += dx.sum(0)
        return loss, grads


class NumpyAdamW:
    """nanoGPT's AdamW (lr 1e-3, betas (0.9, 0.99), the matrices decaying by 0.1) after clipping the gradients'
    norm to 1, in place."""

    def __init__(self, params: dict[str, np.ndarray], lr: float = 1e-3):
        self.p, self.lr, self.t = params, lr, 0
        self.m = {k: np.zeros_like(w) for k, w in params.items()}
        self.v = {k: np.zeros_like(w) for k, w in params.items()}

    def step(self, grads: dict[str, np.ndarray]) -> None:
        norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
        scale = min(1.0, 1.0 / (norm + 1e-6))
        self.t += 1
        b1, b2 = 0.9, 0.99
        for k, w in self.p.items():
            g = grads[k] * scale if scale < 1 else grads[k]
            if w.ndim >= 2:
                w *= 1 - self.lr * 0.1
            m, v = self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            update = np.sqrt(v)
            update /= math.sqrt(1 - b2 ** self.t)
            update += 1e-8
            np.divide(m, update, out=update)
            update *= self.lr / (1 - b1 ** self.t)
            w -= update
