"""Record what PyTorch computes for the language-model layers: Embedding, LayerNorm, RMSNorm, GELU (both forms),
scaled_dot_product_attention (causal, a boolean mask, a float mask with -inf), a nanoGPT attention block, RNNCell,
GRUCell, LSTMCell (ordinary and saturated), BatchNorm1d over (B, T, C) and cross-entropy with ignore_index,
label_smoothing and reduction="none" on (B, T, vocab) logits, a -inf logit among them.

    .venv-peers/bin/python tools/pytorch_language.py > tests/data/pytorch_language.json

For each: the inputs and weights (drawn here with numpy's seeded generator, float64), the output, the gradient of
every input and weight for a random output direction g, and the second order: the gradient with respect to the
first input of <d(g . out)/d(input), h> for another random direction h. Weights are stored as PyTorch holds them
((out, in) for a Linear); the tests transpose them for tinygrad_lite's (in, out). Not collected by pytest and
never run in CI (PyTorch is not a test dependency).
"""

import json
import sys

import numpy as np
import torch
import torch.nn.attention
import torch.nn.functional as F

rng = np.random.default_rng(0)


def t(a, grad=True):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def listed(x):
    return x.detach().tolist() if isinstance(x, torch.Tensor) else x


def record(fn, inputs, weights=None, second=True):
    """fn(*input tensors) with weights (name -> tensor) already in place: out, grads, and second order."""
    xs = [t(x) for x in inputs]
    out = fn(*xs)
    g = rng.standard_normal(out.shape)
    leaves = xs + list((weights or {}).values())
    grads = torch.autograd.grad((out * t(g, False)).sum(), leaves, create_graph=second, allow_unused=True)
    rec = {"inputs": [x.tolist() for x in inputs], "out": listed(out), "g": g.tolist(),
           "grads": [listed(gr) if gr is not None else None for gr in grads[:len(xs)]],
           "weight_grads": {k: listed(gr) for k, gr in zip(weights or {}, grads[len(xs):])},
           "weights": {k: listed(w) for k, w in (weights or {}).items()}}
    if second:
        h = rng.standard_normal(xs[0].shape)
        (gg,) = torch.autograd.grad((grads[0] * t(h, False)).sum(), xs[0], allow_unused=True)
        rec["h"], rec["second"] = h.tolist(), listed(gg) if gg is not None else np.zeros(xs[0].shape).tolist()
    return rec


def module_weights(m):
    return dict(m.named_parameters())


def main():
    torch.manual_seed(0)
    out = {"torch": torch.__version__}

    emb = torch.nn.Embedding(7, 4).double()
    ids = np.array([[1, 3, 3], [6, 0, 3]])
    out["embedding"] = record(lambda: emb(torch.tensor(ids)), [], module_weights(emb), second=False)
    out["embedding"]["ids"] = ids.tolist()

    out["layernorm"] = []
    for shape, norm in (((2, 3, 8), (8,)), ((2, 4, 6), (4, 6))):
        ln = torch.nn.LayerNorm(norm, eps=1e-5).double()
        with torch.no_grad():
            ln.weight.copy_(t(rng.standard_normal(norm), False))
            ln.bias.copy_(t(rng.standard_normal(norm), False))
        rec = record(ln, [rng.standard_normal(shape) * 2 + 1], module_weights(ln))
        rec["normalized_shape"] = list(norm)
        out["layernorm"].append(rec)

    rms = torch.nn.RMSNorm(8, eps=1e-6).double()
    with torch.no_grad():
        rms.weight.copy_(t(rng.standard_normal(8), False))
    out["rmsnorm"] = record(rms, [rng.standard_normal((2, 3, 8))], module_weights(rms))

    x = np.concatenate([np.linspace(-6, 6, 13), rng.standard_normal(7)])
    out["gelu"] = record(lambda a: F.gelu(a), [x])
    out["gelu_tanh"] = record(lambda a: F.gelu(a, approximate="tanh"), [x])

    q, k, v = (rng.standard_normal((2, 2, 5, 4)) for _ in range(3))
    out["attention_causal"] = record(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                                     [q, k, v])
    mask = rng.random((5, 5)) < 0.7
    mask[:, 0] = True  # every query may attend somewhere
    out["attention_bool_mask"] = record(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=torch.tensor(mask)), [q, k, v])
    out["attention_bool_mask"]["mask"] = mask.tolist()
    float_mask = np.where(rng.random((5, 5)) < 0.3, -np.inf, rng.standard_normal((5, 5)))
    float_mask[:, 1] = 0.5
    out["attention_float_mask"] = record(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=torch.tensor(float_mask)), [q, k, v])
    out["attention_float_mask"]["mask"] = [[None if np.isinf(m) else m for m in row] for row in float_mask]

    C, heads = 8, 2
    c_attn, c_proj = torch.nn.Linear(C, 3 * C).double(), torch.nn.Linear(C, C).double()

    def block(a):  # nanoGPT's CausalSelfAttention.forward, dropout 0
        B, T, _ = a.shape
        qq, kk, vv = c_attn(a).split(C, dim=2)
        qq, kk, vv = (z.view(B, T, heads, C // heads).transpose(1, 2) for z in (qq, kk, vv))
        y = F.scaled_dot_product_attention(qq, kk, vv, is_causal=True)
        return c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
    out["self_attention"] = record(block, [rng.standard_normal((2, 5, C))],
                                   {"qkv.weight": c_attn.weight, "qkv.bias": c_attn.bias,
                                    "proj.weight": c_proj.weight, "proj.bias": c_proj.bias})
    out["self_attention"]["heads"] = heads

    for name, cls in (("rnn", torch.nn.RNNCell), ("gru", torch.nn.GRUCell)):
        cell = cls(3, 4).double()
        out[name] = record(cell, [rng.standard_normal((2, 3)), rng.standard_normal((2, 4))], module_weights(cell))

    bn = torch.nn.BatchNorm1d(4, momentum=0.2).double()
    with torch.no_grad():
        bn.weight.copy_(t(rng.standard_normal(4), False))
        bn.bias.copy_(t(rng.standard_normal(4), False))
    out["batchnorm_btc"] = record(lambda a: bn(a.transpose(1, 2)).transpose(1, 2), [rng.standard_normal((3, 5, 4))],
                                  module_weights(bn))
    out["batchnorm_btc"]["running_mean"] = bn.running_mean.tolist()
    out["batchnorm_btc"]["running_var"] = bn.running_var.tolist()

    logits = rng.standard_normal((2, 3, 5))
    logits[0, 1, 2] = -np.inf  # a masked class that is not the target
    targets = np.array([[1, 4, -100], [0, 3, 3]])
    out["cross_entropy"] = []
    for kw in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1},
               {"ignore_index": 3}, {"ignore_index": 3, "reduction": "none", "label_smoothing": 0.2}):
        kw = {"ignore_index": -100, **kw}
        smooth = logits.copy()
        if kw.get("label_smoothing"):
            smooth[0, 1, 2] = -30.0  # with smoothing every class counts: a -inf logit would give inf, as PyTorch
        tt = np.where(targets == -100, kw["ignore_index"], targets) if kw["ignore_index"] != -100 else targets
        rec = record(lambda a, tt=tt, kw=kw: F.cross_entropy(a.permute(0, 2, 1), torch.tensor(tt), **kw),
                     [smooth])
        rec.update(targets=tt.tolist(), kwargs=kw)
        rec["inputs"] = [[[[None if np.isinf(v) else v for v in row] for row in m] for m in rec["inputs"][0]]]
        out["cross_entropy"].append(rec)
    probs = rng.dirichlet(np.ones(5), size=(2, 3))
    rec = record(lambda a: F.cross_entropy(a.permute(0, 2, 1), torch.tensor(probs).permute(0, 2, 1),
                                           label_smoothing=0.1), [rng.standard_normal((2, 3, 5))])
    rec["probs"] = probs.tolist()
    out["cross_entropy_probabilities"] = rec

    # LSTMCell (recorded last, so that the draws above stay as they were): h' and c' side by side, an ordinary state
    # and a saturated one
    out["lstm"] = []
    for scale in (1.0, 40.0):
        cell = torch.nn.LSTMCell(3, 4).double()
        rec = record(lambda a, b, c: torch.cat(cell(a, (b, c)), dim=1),
                     [rng.standard_normal((2, 3)) * scale, rng.standard_normal((2, 4)), rng.standard_normal((2, 4))],
                     module_weights(cell))
        rec["scale"] = scale
        out["lstm"].append(rec)

    json.dump(out, sys.stdout, allow_nan=False)
    print()


if __name__ == "__main__":
    # PyTorch's math kernel for attention: the flash kernel has no second derivative on the CPU
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
        main()
