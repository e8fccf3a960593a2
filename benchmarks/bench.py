"""Benchmark tinygrad_lite against the same math written by hand in numpy, in one process.

    python benchmarks/bench.py            # the full run (about a minute), a Markdown table on stdout
    python benchmarks/bench.py --quick    # a few repetitions, to check that it runs and that results agree
    python benchmarks/bench.py --json out.json

Each workload is first run once in both forms and the results compared (they must agree to 1e-9),
then timed: the median, min and max over repetitions, and the ratio of medians. Run as a user runs a training: no
variable is set and the process calls tl.memory.tune() (glibc's top pad, as `tinygrad-lite demo` does); the
hand-written numpy shares the process and its allocator. `--glibc-defaults` leaves the allocator as it is.

W1 the perceptron tutorial: 10,000 full-batch steps on 4 x 3 inputs
W2 the 2-3-1 regressor: one forward + backward (cost and gradient)
W3 an MLP 64-128-64-10 (tanh, relu), softmax cross-entropy, batch 256: one SGD step
W4 a chain of 1,000 elementwise ops (add, mul, tanh) on a (4,) array, forward + backward; time per op
W5 a 100,000-deep chain of scalar ops, forward + backward (numpy column: the same chain by hand)
W6 the digits CNN of `tinygrad-lite demo digits` (conv 3x3 to 32, max-pool, conv 3x3 to 64, max-pool, linear),
   batch 64 of 8x8 digits: one SGD step (numpy column: the same network by hand, with im2col)
W1r, W3r-W6r the same steps through tl.replay (recorded on their first two calls, then run as plain numpy calls):
   W1r records inside each timed call, as a user's loop does; the others are recorded by the check and the
   warm-up call before timing. W4r and W5r end with a sum, as replay wants a scalar loss (the same gradient as
   W4's and W5's seed of ones). W6r's loss takes the labels as class probabilities (one-hot): replay refuses an
   index made from the labels inside the step.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tinygrad_lite as tl  # noqa: E402

# The workloads' data are this module's arrays on purpose, never rebound: the replays keep them, as they warn.
warnings.filterwarnings("ignore", message="replay: .* neither an argument nor a module's attribute")

# ---- W1: perceptron -------------------------------------------------------------------------------
X1 = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
Y1 = np.array([[0, 1, 1, 0]], dtype=float).T
W1_INIT = 2 * np.random.default_rng(1).random((3, 1)) - 1


def w1_numpy(steps: int = 10_000) -> np.ndarray:
    w = W1_INIT.copy()
    for _ in range(steps):
        out = 1 / (1 + np.exp(-(X1 @ w)))
        w += X1.T @ ((Y1 - out) * out * (1 - out))  # -dL/dw of L = 0.5 * sum((out - y)^2)
    return w


def w1_tl(steps: int = 10_000, replayed: bool = False) -> np.ndarray:
    w = tl.Value(W1_INIT)
    loss = lambda: 0.5 * (((X1 @ w).sigmoid() - Y1) ** 2).sum()  # noqa: E731
    step = tl.replay(loss) if replayed else lambda: loss().backward()
    for _ in range(steps):
        w.grad = None
        step()
        w.data -= w.grad
    return w.data


# ---- W2: 2-3-1 regressor --------------------------------------------------------------------------
X2 = np.array([[3, 5], [5, 1], [10, 2]], dtype=float) / np.array([10, 5])
Y2 = np.array([[75], [82], [93]], dtype=float) / 100
_r = np.random.default_rng(0)
W2A, W2B = _r.standard_normal((2, 3)), _r.standard_normal((3, 1))


def _sig(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def w2_numpy() -> tuple[np.ndarray, np.ndarray]:
    a2 = _sig(X2 @ W2A)
    yhat = _sig(a2 @ W2B)
    delta3 = -(Y2 - yhat) * yhat * (1 - yhat)
    dW2 = a2.T @ delta3
    delta2 = (delta3 @ W2B.T) * a2 * (1 - a2)
    return X2.T @ delta2, dW2


def w2_tl() -> tuple[np.ndarray, np.ndarray]:
    w1, w2 = tl.Value(W2A), tl.Value(W2B)
    yhat = ((X2 @ w1).sigmoid() @ w2).sigmoid()
    (0.5 * ((Y2 - yhat) ** 2).sum()).backward()
    return w1.grad, w2.grad


# ---- W3: MLP with softmax cross-entropy -----------------------------------------------------------
_r = np.random.default_rng(3)
X3 = _r.standard_normal((256, 64))
Y3 = _r.integers(0, 10, 256)
W3 = [(_r.standard_normal((a, b)) / np.sqrt(a), np.zeros(b)) for a, b in ((64, 128), (128, 64), (64, 10))]
ONEHOT3 = np.eye(10)[Y3]


def w3_numpy() -> list[np.ndarray]:
    (A, a), (B, b), (C, c) = W3
    h1 = np.tanh(X3 @ A + a)                      # (256, 128)
    z2 = h1 @ B + b
    h2 = np.maximum(z2, 0)                        # (256, 64)
    logits = h2 @ C + c                           # (256, 10)
    s = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    d_logits = (p - ONEHOT3) / len(X3)            # d mean(-log p_y) / d logits
    dC, dc = h2.T @ d_logits, d_logits.sum(0)
    d_z2 = (d_logits @ C.T) * (z2 > 0)
    dB, db = h1.T @ d_z2, d_z2.sum(0)
    d_h1 = (d_z2 @ B.T) * (1 - h1 * h1)
    dA, da = X3.T @ d_h1, d_h1.sum(0)
    lr = 0.1
    return [A - lr * dA, a - lr * da, B - lr * dB, b - lr * db, C - lr * dC, c - lr * dc]


W3_PARAMS = [tl.Value(p) for pair in W3 for p in pair]  # made once, as a training loop keeps its parameters


def _w3_loss() -> tl.Value:
    A, a, B, b, C, c = W3_PARAMS
    logits = ((X3 @ A + a).tanh() @ B + b).relu() @ C + c
    return -(logits.log_softmax(axis=1) * ONEHOT3).sum() * (1 / len(X3))


def w3_tl(step: Callable[[], object] = lambda: _w3_loss().backward()) -> list[np.ndarray]:
    for p in W3_PARAMS:
        p.zero_grad()
    step()
    return [p.data - 0.1 * p.grad for p in W3_PARAMS]


# ---- W4: a chain of 1,000 elementwise ops on a (4,) array ----------------------------------------
X4 = np.array([0.1, -0.2, 0.3, 0.05])
N4 = 1000


def w4_numpy() -> np.ndarray:
    xs, x = [], X4
    for _ in range(N4 // 3):              # add, mul, tanh: 3 ops per round
        xs.append(x)
        x = np.tanh((x + 0.1) * 0.9)
    g = np.ones_like(x)
    for x in reversed(xs):                # backward: tanh' = 1 - t^2, then * 0.9, then add passes g
        t = np.tanh((x + 0.1) * 0.9)
        g = g * (1 - t * t) * 0.9
    return g


def _w4_chain(x: tl.Value) -> tl.Value:
    for _ in range(N4 // 3):
        x = ((x + 0.1) * 0.9).tanh()
    return x


def w4_tl() -> np.ndarray:
    x0 = tl.Value(X4)
    _w4_chain(x0).backward(np.ones(4))
    return x0.grad


# ---- W5: a 100,000-deep chain ---------------------------------------------------------------------
N5 = 100_000


def w5_numpy() -> float:
    x = np.float64(0.5)
    g = np.float64(1.0)
    for _ in range(N5):  # y = x * 1.0 + 0.0, forward and the chain rule by hand
        x = x * 1.0 + 0.0
    for _ in range(N5):
        g = g * 1.0
    return float(g)


def _w5_chain(x: tl.Value) -> tl.Value:
    for _ in range(N5 // 2):  # two ops per round: 100,000 nodes
        x = x * 1.0 + 0.0
    return x


def w5_tl() -> float:
    x0 = tl.Value(0.5)
    _w5_chain(x0).backward()
    return float(x0.grad)


# ---- W6: the digits CNN, one step on a batch of 64 -----------------------------------------------------
_r = np.random.default_rng(6)
X6 = tl.data.digits()[0][:64, None] / 16.0  # (64, 1, 8, 8)
Y6 = tl.data.digits()[1][:64]
W6 = [_r.standard_normal((32, 1, 3, 3)) / 3, np.zeros(32), _r.standard_normal((64, 32, 3, 3)) / np.sqrt(288),
      np.zeros(64), _r.standard_normal((256, 10)) / 16, np.zeros(10)]
ONEHOT6 = np.eye(10)[Y6]


def _im2col(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N * H * W, C * 9): the 3x3 windows of the zero-padded image, one per row."""
    n, c, h, w = x.shape
    win = np.lib.stride_tricks.sliding_window_view(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3))
    return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(n * h * w, c * 9)


def _col2im(cols: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    n, c, h, w = shape
    out = np.zeros((n, c, h + 2, w + 2))
    patches = cols.reshape(n, h, w, c, 3, 3).transpose(0, 3, 4, 5, 1, 2)
    for i in range(3):
        for j in range(3):
            out[:, :, i:i + h, j:j + w] += patches[:, :, i, j]
    return out[:, :, 1:-1, 1:-1]


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, _, h, wd = x.shape
    cols = _im2col(x)
    return (cols @ w.reshape(len(w), -1).T + b).reshape(n, h, wd, len(w)).transpose(0, 3, 1, 2), cols


def _conv_back(g: np.ndarray, cols: np.ndarray, w: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    g2 = g.transpose(0, 2, 3, 1).reshape(-1, len(w))  # (N*H*W, out)
    return _col2im(g2 @ w.reshape(len(w), -1), shape), (g2.T @ cols).reshape(w.shape), g2.sum(0)


def _pool(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = blocks.max(axis=(3, 5))
    wins = blocks == out[:, :, :, None, :, None]
    return out, wins / wins.sum(axis=(3, 5), keepdims=True)  # ties share the gradient, as max does


def _pool_back(g: np.ndarray, share: np.ndarray) -> np.ndarray:
    n, c, h2, _, w2, _ = share.shape
    return (share * g[:, :, :, None, :, None]).reshape(n, c, 2 * h2, 2 * w2)


def w6_numpy() -> list[np.ndarray]:
    k1, b1, k2, b2, w3, b3 = W6
    z1, cols1 = _conv(X6, k1, b1)                 # (64, 32, 8, 8)
    p1, share1 = _pool(np.maximum(z1, 0))         # (64, 32, 4, 4)
    z2, cols2 = _conv(p1, k2, b2)                 # (64, 64, 4, 4)
    p2, share2 = _pool(np.maximum(z2, 0))         # (64, 64, 2, 2)
    logits = p2.reshape(64, -1) @ w3 + b3         # (64, 10)
    s = logits - logits.max(axis=1, keepdims=True)
    prob = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    d_logits = (prob - ONEHOT6) / 64
    dw3, db3 = p2.reshape(64, -1).T @ d_logits, d_logits.sum(0)
    d_z2 = _pool_back((d_logits @ w3.T).reshape(p2.shape), share2) * (z2 > 0)
    d_p1, dk2, db2 = _conv_back(d_z2, cols2, k2, p1.shape)
    d_z1 = _pool_back(d_p1, share1) * (z1 > 0)
    _, dk1, db1 = _conv_back(d_z1, cols1, k1, X6.shape)
    return [p - 0.1 * d for p, d in zip(W6, (dk1, db1, dk2, db2, dw3, db3))]


def _w6_model() -> tl.nn.Module:
    model = tl.nn.Sequential(tl.nn.Conv2d(1, 32, 3, padding=1), tl.nn.ReLU(), tl.nn.MaxPool2d(2),
                             tl.nn.Conv2d(32, 64, 3, padding=1), tl.nn.ReLU(), tl.nn.MaxPool2d(2),
                             tl.nn.Flatten(), tl.nn.Linear(256, 10))
    model.load_state_dict(dict(zip((n for n, _ in model.named_parameters()), W6)))
    return model


W6_MODEL, W6_LOSS = _w6_model(), tl.nn.CrossEntropy()


def w6_tl(step: Callable[[], object] = lambda: W6_LOSS(W6_MODEL(X6), Y6).backward()) -> list[np.ndarray]:
    W6_MODEL.zero_grad()
    step()
    return [p.data - 0.1 * p.grad for p in W6_MODEL.parameters()]


# ---- the same steps through tl.replay ---------------------------------------------------------------------

W3_STEP, X4_LEAF, X5_LEAF = tl.replay(_w3_loss), tl.Value(X4), tl.Value(0.5)
W4_STEP = tl.replay(lambda: _w4_chain(X4_LEAF).sum())
W5_STEP = tl.replay(lambda: _w5_chain(X5_LEAF))


def w4_replay() -> np.ndarray:
    X4_LEAF.grad = None
    W4_STEP()
    return X4_LEAF.grad


def w5_replay() -> float:
    X5_LEAF.grad = None
    W5_STEP()
    return float(X5_LEAF.grad)


W6_STEP = tl.replay(lambda: W6_LOSS(W6_MODEL(X6), ONEHOT6))  # class probabilities: an index made from labels is refused



WORKLOADS: dict[str, tuple[str, Callable[[], object], Callable[[], object], int]] = {
    # name: (description, numpy, tinygrad_lite, ops per call for per-op figures (0: per call))
    "W1": ("perceptron, 10,000 steps", w1_numpy, w1_tl, 0),
    "W2": ("2-3-1 regressor, forward+backward", w2_numpy, w2_tl, 0),
    "W3": ("MLP 64-128-64-10, batch 256, one step", w3_numpy, w3_tl, 0),
    "W4": ("1,000 elementwise ops on (4,), per op", w4_numpy, w4_tl, N4 // 3 * 3),
    "W5": ("100,000-deep chain, forward+backward", w5_numpy, w5_tl, 0),
    "W6": ("digits CNN, batch 64, one step", w6_numpy, w6_tl, 0),
    "W1r": ("perceptron, 10,000 steps, tl.replay", w1_numpy, functools.partial(w1_tl, replayed=True), 0),
    "W3r": ("MLP step, tl.replay", w3_numpy, functools.partial(w3_tl, W3_STEP), 0),
    "W4r": ("1,000 elementwise ops, per op, tl.replay", w4_numpy, w4_replay, N4 // 3 * 3),
    "W5r": ("100,000-deep chain, tl.replay", w5_numpy, w5_replay, 0),
    "W6r": ("digits CNN step, tl.replay", w6_numpy, functools.partial(w6_tl, W6_STEP), 0),
}


def _agree(a: object, b: object) -> bool:
    if isinstance(a, (list, tuple)):
        return all(_agree(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    return bool(np.allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12))


def _time(fn: Callable[[], object], reps: int) -> list[float]:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def run(quick: bool = False) -> dict[str, dict[str, object]]:
    results = {}
    for name, (desc, f_np, f_tl, n_ops) in WORKLOADS.items():
        if not _agree(f_np(), f_tl()):
            raise SystemExit(f"{name}: tinygrad_lite and numpy disagree")
        f_tl()  # a warm-up call (a replayed step's second recording)
        budget = 0.5 if quick else 3.0  # seconds per engine
        t1 = time.perf_counter()
        f_np()
        reps = max(3, min(200, int(budget / max(time.perf_counter() - t1, 1e-9) / 2)))
        reps = 3 if quick else reps
        t_np, t_tl = [], []
        for _ in range(reps):  # interleaved, so that both see the same machine load
            t_np += _time(f_np, 1)
            t_tl += _time(f_tl, 1)
        scale = 1.0 / n_ops if n_ops else 1.0
        results[name] = {
            "workload": desc, "repetitions": reps, "unit": "per op" if n_ops else "per call",
            "numpy_median_s": statistics.median(t_np) * scale, "numpy_min_s": min(t_np) * scale,
            "numpy_max_s": max(t_np) * scale,
            "tl_median_s": statistics.median(t_tl) * scale, "tl_min_s": min(t_tl) * scale,
            "tl_max_s": max(t_tl) * scale,
            "ratio": statistics.median(t_tl) / statistics.median(t_np),
        }
    return results


def top_pad() -> str:
    """The glibc top pad this process runs with (peers.py records it too)."""
    if "MALLOC_TOP_PAD_" in os.environ:
        return f"MALLOC_TOP_PAD_={os.environ['MALLOC_TOP_PAD_']}"
    return "64 MB (tl.memory.tune())" if tl.memory.tuned() else "glibc's default"


def _fmt(s: float) -> str:
    return f"{s * 1e6:.2f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def table(results: dict[str, dict[str, object]]) -> str:
    lines = [f"numpy {np.__version__}, Python {platform.python_version()}, {platform.machine()}, "
             f"tinygrad_lite {tl.__version__}, glibc top pad: {top_pad()}", "",
             "| workload | numpy median (min-max) | tinygrad_lite median (min-max) | ratio |",
             "|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} {r['workload']} | {_fmt(r['numpy_median_s'])} ({_fmt(r['numpy_min_s'])}-"  # type: ignore
                     f"{_fmt(r['numpy_max_s'])}) | {_fmt(r['tl_median_s'])} ({_fmt(r['tl_min_s'])}-"  # type: ignore
                     f"{_fmt(r['tl_max_s'])}) | {r['ratio']:.2f}x |")  # type: ignore
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three repetitions each: checks, not figures")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--glibc-defaults", action="store_true", help="leave the allocator as it is (no tune())")
    args = parser.parse_args()
    if not args.glibc_defaults:
        tl.memory.tune()
    results = run(args.quick)
    print(table(results))
    if args.json:
        meta = {"date": time.strftime("%Y-%m-%d"), "machine": platform.platform(), "python": platform.python_version(),
                "numpy": np.__version__, "top_pad": top_pad()}
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2))


if __name__ == "__main__":
    main()
