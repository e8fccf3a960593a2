"""Record what PyTorch computes at the edges of a language model: masks, padding and non-finite numbers.

    .venv-peers/bin/python tools/pytorch_masks.py > tests/data/pytorch_masks.json

- scaled_dot_product_attention with causal masks where the keys are more or fewer than the queries (top-left
  aligned, and causal_lower_right), boolean and float masks with a row that may attend to nothing, a causal and a
  boolean mask together, and an integer mask (refused); forward, the gradients for a random output direction, and
  the second order;
- attention written by hand with masked_fill(-inf), a fully masked row left out of the loss (finite gradients);
- for each op that picks or clips (where, relu, leaky_relu, clamp, maximum, minimum, abs, floor, ceil, round,
  sign, max over an axis, max and average pooling): its input's gradient for an upstream gradient holding NaN and
  inf, which says whether the rule selects (0 where not chosen) or multiplies (NaN * 0 = NaN);
- cross-entropy with every target ignored, each reduction: the loss and its gradient;
- softmax and log_softmax of rows holding inf, -inf and NaN;
- the shape of cumsum and cumprod of a 0-d tensor; RMSNorm's default eps in float32 and float64.

The numbers are written with JSON's NaN and Infinity (Python's json reads them). Not collected by pytest and never
run in CI (PyTorch is not a test dependency).
"""

import json
import sys

import numpy as np
import torch
import torch.nn.attention
import torch.nn.functional as F
from torch.nn.attention.bias import causal_lower_right

rng = np.random.default_rng(29)


def t(a, grad=True, dtype=torch.float64):
    return torch.tensor(np.asarray(a), dtype=dtype, requires_grad=grad)


def listed(x):
    return x.detach().tolist() if isinstance(x, torch.Tensor) else x


def record(fn, inputs, second=True, draw=None):
    """fn(*inputs): the output, each input's gradient for a random direction g, and <d(g . out)/d input0, h>."""
    draw = rng if draw is None else draw
    xs = [t(x) for x in inputs]
    out = fn(*xs)
    g = draw.standard_normal(out.shape)
    grads = torch.autograd.grad((out * t(g, False)).sum(), xs, create_graph=second, allow_unused=True)
    rec = {"inputs": [np.asarray(x).tolist() for x in inputs], "out": listed(out), "g": g.tolist(),
           "grads": [listed(gr) if gr is not None else np.zeros(np.shape(x)).tolist() for gr, x in zip(grads, inputs)]}
    if second:
        h = draw.standard_normal(xs[0].shape)
        (gg,) = torch.autograd.grad((grads[0] * t(h, False)).sum(), xs[0], allow_unused=True)
        rec["h"], rec["second"] = h.tolist(), listed(gg) if gg is not None else np.zeros(xs[0].shape).tolist()
    return rec


def attention():
    out = {}
    for T, S in ((2, 3), (3, 2), (2, 5), (4, 4)):
        q, k, v = rng.standard_normal((2, T, 3)), rng.standard_normal((2, S, 3)), rng.standard_normal((2, S, 2))
        out[f"causal_T{T}_S{S}"] = record(
            lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), [q, k, v])
    q, k, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))
    mask = rng.random((4, 5)) < 0.6
    mask[1] = False  # query 1 may attend to nothing
    mask[0, 0] = mask[2, 3] = mask[3, 4] = True
    rec = record(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=torch.tensor(mask)), [q, k, v])
    rec["mask"] = mask.tolist()
    out["bool_mask_empty_row"] = rec
    float_mask = np.where(mask, rng.standard_normal((4, 5)), -np.inf)
    rec = record(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=torch.tensor(float_mask)),
                 [q, k, v])
    rec["mask"] = float_mask.tolist()
    out["float_mask_empty_row"] = rec
    square = rng.random((4, 4)) < 0.7
    square[:, 0] = True
    qq, kk, vv = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 2))
    causal_and = square & np.tril(np.ones((4, 4), dtype=bool))
    rec = record(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=torch.tensor(causal_and)),
                 [qq, kk, vv])
    rec["mask"] = square.tolist()  # given with causal=True: PyTorch takes one or the other, so the two are joined
    out["causal_and_bool_mask"] = rec
    try:
        F.scaled_dot_product_attention(t(qq), t(kk), t(vv), attn_mask=torch.tensor(square.astype(np.int64)))
        out["int_mask_refused"] = False
    except RuntimeError:
        out["int_mask_refused"] = True

    def by_hand(a, b, c):  # a fully masked row of a hand-written attention, left out of the loss
        scores = (a @ b.transpose(-1, -2)) / np.sqrt(3)
        w = scores.masked_fill(~torch.tensor(mask), float("-inf")).softmax(-1)
        return (w @ c)[:, [0, 2, 3]]
    rec = record(by_hand, [q, k, v], second=False)
    rec["mask"], rec["rows_kept"] = mask.tolist(), [0, 2, 3]
    out["masked_fill_row_left_out"] = rec
    # PyTorch's causal_lower_right (tl's causal="lower_right"); its own generator, so the draws above stay as they were
    own = np.random.default_rng(291)
    for T, S in ((2, 5), (4, 4), (1, 3)):
        q, k, v = own.standard_normal((2, T, 3)), own.standard_normal((2, S, 3)), own.standard_normal((2, S, 2))
        out[f"lower_right_T{T}_S{S}"] = record(
            lambda a, b, c, T=T, S=S: F.scaled_dot_product_attention(a, b, c, attn_mask=causal_lower_right(T, S)),
            [q, k, v], draw=own)
    return out


def upstream_nan():
    """Each picking or clipping op's input gradient for an upstream gradient holding NaN and inf."""
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0, 3.0, -3.0, 1.5])
    y = np.array([1.0, -1.0, 0.0, 2.0, 2.0, -3.0, 0.0, 1.0])  # ties with x at 0.0 and 2.0
    g = np.array([np.nan, np.inf, 1.0, -np.inf, 2.0, np.nan, -1.0, np.nan])
    cond = np.array([True, False, True, False, True, False, False, True])
    out = {"x": x.tolist(), "y": y.tolist(), "g": g.tolist(), "cond": cond.tolist()}

    def grads(fn, n=1):
        xs = [t(x), t(y)][:n]
        res = fn(*xs)
        return [listed(gr) for gr in torch.autograd.grad(res, xs, t(g, False))]
    out["where"] = grads(lambda a, b: torch.where(torch.tensor(cond), a, b), 2)
    out["relu"] = grads(torch.relu)
    out["leaky_relu"] = grads(lambda a: F.leaky_relu(a, 0.2))
    out["clip"] = grads(lambda a: torch.clamp(a, -1.0, 1.0))
    out["maximum"] = grads(torch.maximum, 2)
    out["minimum"] = grads(torch.minimum, 2)
    out["abs"] = grads(torch.abs)
    for name in ("floor", "ceil", "round", "sign"):
        out[name] = grads(getattr(torch, name))
    # over an axis, with a NaN upstream for one of the two groups: max(dim) and the pools hand it to one element
    x2, g2 = x.reshape(2, 4), np.array([np.nan, 1.0])
    a = t(x2)
    out["max_axis"] = {"x": x2.tolist(), "g": g2.tolist(),
                       "grad": listed(torch.autograd.grad(a.max(dim=1).values, a, t(g2, False))[0])}
    img, gp = x.reshape(1, 1, 2, 4), np.array([[[[np.nan, 1.0]]]])
    a = t(img)
    out["max_pool"] = {"x": img.tolist(), "g": gp.tolist(),
                       "grad": listed(torch.autograd.grad(F.max_pool2d(a, 2), a, t(gp, False))[0])}
    out["avg_pool"] = {"x": img.tolist(), "g": gp.tolist(),
                       "grad": listed(torch.autograd.grad(F.avg_pool2d(a, 2), a, t(gp, False))[0])}
    return out


def everything_ignored():
    out = {}
    logits = rng.standard_normal((2, 3, 4))
    targets = np.full((2, 3), -100)
    for reduction in ("mean", "sum", "none"):
        a = t(logits)
        loss = F.cross_entropy(a.permute(0, 2, 1), torch.tensor(targets), reduction=reduction)
        (grad,) = torch.autograd.grad(loss.sum(), a)
        out[reduction] = {"loss": listed(loss), "grad": listed(grad)}
    out["logits"], out["targets"] = logits.tolist(), targets.tolist()
    return out


def softmax_rows():
    rows = [[np.inf, 0.0, 1.0], [np.inf, np.inf, 0.0], [-np.inf, -np.inf, 0.0], [-np.inf, -np.inf, -np.inf],
            [np.nan, 0.0, 1.0], [np.inf, -np.inf, 0.0], [-np.inf, 2.0, 1.0]]
    out = []
    for row in rows:
        rec = {"x": row}
        for name in ("softmax", "log_softmax"):
            a = t(row)
            res = getattr(a, name)(0)
            g = np.array([0.5, -1.0, 2.0])
            rec[name] = listed(res)
            rec[name + "_grad"] = listed(torch.autograd.grad(res, a, t(g, False))[0])
        out.append(rec)
    return out


def main():
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "attention": attention(), "upstream_nan": upstream_nan(),
           "cross_entropy_all_ignored": everything_ignored(), "softmax_rows": softmax_rows()}
    out["cumulative_0d_shape"] = {"cumsum": list(torch.tensor(2.0).cumsum(0).shape),
                                  "cumprod": list(torch.tensor(2.0).cumprod(0).shape)}
    x = rng.standard_normal((2, 4)) * 1e-4  # a spread where eps counts
    out["rmsnorm_default_eps"] = {"x": x.tolist()}
    for dtype, name in ((torch.float32, "float32"), (torch.float64, "float64")):
        norm = torch.nn.RMSNorm(4).to(dtype)
        out["rmsnorm_default_eps"][name] = listed(norm(torch.tensor(x, dtype=dtype)))
    json.dump(out, sys.stdout, allow_nan=True)
    print()


if __name__ == "__main__":
    with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):  # the kernel with a second order
        main()
