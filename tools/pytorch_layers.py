"""Record what PyTorch's Conv2d, MaxPool2d, AvgPool2d and BatchNorm1d compute on fixed inputs: outputs, the
gradients of every input and parameter for a fixed output direction, and BatchNorm's running statistics.

    .venv-peers/bin/python tools/pytorch_layers.py > tests/data/pytorch_layers.json

Inputs and weights are drawn here with numpy's seeded generator and stored in the file, so the tests feed the
same numbers to tinygrad_lite. Not collected by pytest and never run in CI (PyTorch is not a test dependency).
"""

import json
import sys

import numpy as np
import torch

CONV = [  # (in, out, kernel, stride, padding, image height, width)
    (1, 2, 3, 1, 0, 5, 5), (2, 3, (2, 3), 2, 1, 6, 5), (3, 2, 1, (1, 2), (2, 0), 4, 4), (2, 4, 3, 1, 1, 8, 8)]
POOL = [("MaxPool2d", 2, None, 4, 6), ("MaxPool2d", 3, 1, 5, 5), ("AvgPool2d", 2, None, 4, 4),
        ("AvgPool2d", (2, 3), (1, 2), 5, 7), ("MaxPool2d", 2, None, 5, 7), ("AvgPool2d", 3, None, 7, 8)]


def t(a, grad=True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def main():
    rng = np.random.default_rng(0)
    records = {"torch": torch.__version__, "conv": [], "pool": [], "batchnorm": []}
    for cin, cout, k, s, p, h, w in CONV:
        conv = torch.nn.Conv2d(cin, cout, k, s, p).double()
        x, weight, bias = rng.standard_normal((2, cin, h, w)), rng.standard_normal(conv.weight.shape), \
            rng.standard_normal(cout)
        with torch.no_grad():
            conv.weight.copy_(t(weight, False))
            conv.bias.copy_(t(bias, False))
        xt = t(x)
        out = conv(xt)
        g = rng.standard_normal(out.shape)
        out.backward(t(g, False))
        records["conv"].append({"args": [cin, cout, k, s, p], "x": x.tolist(), "weight": weight.tolist(),
                                "bias": bias.tolist(), "g": g.tolist(), "out": out.tolist(),
                                "dx": xt.grad.tolist(), "dweight": conv.weight.grad.tolist(),
                                "dbias": conv.bias.grad.tolist()})
    for name, k, s, h, w in POOL:
        x = rng.permutation(2 * 3 * h * w).reshape(2, 3, h, w) / 10.0  # distinct numbers: no ties in a window
        xt = t(x)
        out = getattr(torch.nn, name)(k, s)(xt)
        g = rng.standard_normal(out.shape)
        out.backward(t(g, False))
        records["pool"].append({"layer": name, "args": [k, s], "x": x.tolist(), "g": g.tolist(),
                                "out": out.tolist(), "dx": xt.grad.tolist()})
    for shape in ((6, 3), (4, 3, 5)):
        bn = torch.nn.BatchNorm1d(3, momentum=0.2).double()
        weight, bias = rng.standard_normal(3), rng.standard_normal(3)
        with torch.no_grad():
            bn.weight.copy_(t(weight, False))
            bn.bias.copy_(t(bias, False))
        steps = []
        for _ in range(2):  # two training steps move the running statistics twice
            x = rng.standard_normal(shape) * 2 + 1
            xt = t(x)
            out = bn(xt)
            g = rng.standard_normal(out.shape)
            bn.zero_grad()
            out.backward(t(g, False))
            steps.append({"x": x.tolist(), "g": g.tolist(), "out": out.tolist(), "dx": xt.grad.tolist(),
                          "dweight": bn.weight.grad.tolist(), "dbias": bn.bias.grad.tolist()})
        bn.eval()
        x = rng.standard_normal(shape)
        records["batchnorm"].append({"shape": list(shape), "momentum": 0.2, "weight": weight.tolist(),
                                     "bias": bias.tolist(), "steps": steps,
                                     "running_mean": bn.running_mean.tolist(), "running_var": bn.running_var.tolist(),
                                     "eval_x": x.tolist(), "eval_out": bn(t(x, False)).tolist()})
    json.dump(records, sys.stdout)
    print()


if __name__ == "__main__":
    main()
