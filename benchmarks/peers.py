"""tinygrad_lite beside its peers: PyTorch (eager, CPU), HIPS autograd and micrograd, on the workloads W1-W6
of bench.py, against hand-written numpy.

    python benchmarks/peers.py               # every engine that is installed; `make bench-peers` installs them
    python benchmarks/peers.py --quick       # a few repetitions: checks that it runs and that engines agree

Each engine runs in its own subprocess, on the same float64 data (made in bench.py), and each workload's
result is first compared with numpy's (to 1e-7) before it is timed. micrograd works on Python floats one
scalar at a time: W3 is timed on 4 rows instead of 256 (its numpy reference too); its recursive backward
needs a raised recursion limit for W4's 1,000-deep chain and cannot go 100,000 deep (W5: n/a). The ops
micrograd lacks (exp, log, tanh, sigmoid) are added in its own style. autograd and micrograd have no
convolution: W6 is numpy, tinygrad_lite and PyTorch. The rows through tl.replay (W1r, W3r-W6r) repeat each other
engine's eager figure of the same workload. Results: a Markdown table on stdout and JSON in benchmarks/results/.

Each engine runs with the memory settings its own users get, and no variable is set: tinygrad_lite's process
calls tl.memory.tune() (glibc's top pad at 64 MB, as `tinygrad-lite demo` does; tinygrad_lite.memory says why),
and every other engine's process runs with glibc's defaults. With the defaults the heap a step has freed may be
handed back to the kernel when the step ends and faulted in again by the next, a 4 kB page at a time; the
JSON records each workload's page faults per call. `MALLOC_TOP_PAD_=67108864 python benchmarks/peers.py`
gives every engine the pad, for the engines' arithmetic alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402  (the workloads' data, and the numpy and tinygrad_lite versions)

ENGINES = ["numpy", "tinygrad_lite", "torch", "autograd", "micrograd"]
MICRO_ROWS = 4  # micrograd's W3 batch


# ---- PyTorch --------------------------------------------------------------------------------------------

def torch_workloads() -> dict[str, Callable[[], Any]]:
    import torch

    T = lambda a: torch.tensor(a, dtype=torch.float64)
    X1, Y1 = T(bench.X1), T(bench.Y1)

    def w1() -> Any:
        w = T(bench.W1_INIT).requires_grad_()
        for _ in range(10_000):
            loss = 0.5 * ((torch.sigmoid(X1 @ w) - Y1) ** 2).sum()
            loss.backward()
            with torch.no_grad():
                w -= w.grad
            w.grad = None
        return w.detach().numpy()

    X2, Y2 = T(bench.X2), T(bench.Y2)

    def w2() -> Any:
        a, b = T(bench.W2A).requires_grad_(), T(bench.W2B).requires_grad_()
        yhat = torch.sigmoid(torch.sigmoid(X2 @ a) @ b)
        (0.5 * ((Y2 - yhat) ** 2).sum()).backward()
        return a.grad.numpy(), b.grad.numpy()

    X3, onehot = T(bench.X3), T(bench.ONEHOT3)
    params = [T(p).requires_grad_() for pair in bench.W3 for p in pair]

    def w3() -> Any:
        for p in params:
            p.grad = None
        A, a, B, b, C, c = params
        logits = torch.relu(torch.tanh(X3 @ A + a) @ B + b) @ C + c
        loss = -(torch.log_softmax(logits, dim=1) * onehot).sum() / len(X3)
        loss.backward()
        return [(p - 0.1 * p.grad).detach().numpy() for p in params]

    X4 = T(bench.X4)

    def w4() -> Any:
        x0 = X4.clone().requires_grad_()
        x = x0
        for _ in range(bench.N4 // 3):
            x = torch.tanh((x + 0.1) * 0.9)
        x.backward(torch.ones(4, dtype=torch.float64))
        return x0.grad.numpy()

    def w5() -> Any:
        x0 = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        x = x0
        for _ in range(bench.N5 // 2):
            x = x * 1.0 + 0.0
        x.backward()
        return float(x0.grad)

    F = torch.nn.functional
    X6, onehot6 = T(bench.X6), T(bench.ONEHOT6)
    params6 = [T(p).requires_grad_() for p in bench.W6]

    def w6() -> Any:
        for p in params6:
            p.grad = None
        k1, b1, k2, b2, w3, b3 = params6
        h = F.max_pool2d(torch.relu(F.conv2d(X6, k1, b1, padding=1)), 2)
        h = F.max_pool2d(torch.relu(F.conv2d(h, k2, b2, padding=1)), 2)
        logits = h.reshape(len(X6), -1) @ w3 + b3
        loss = -(torch.log_softmax(logits, dim=1) * onehot6).sum() / len(X6)
        loss.backward()
        return [(p - 0.1 * p.grad).detach().numpy() for p in params6]

    return {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6}


# ---- HIPS autograd --------------------------------------------------------------------------------------

def autograd_workloads() -> dict[str, Callable[[], Any]]:
    import autograd
    import autograd.numpy as anp

    sig = lambda z: 1 / (1 + anp.exp(-z))
    w1_grad = autograd.grad(lambda w: 0.5 * anp.sum((sig(bench.X1 @ w) - bench.Y1) ** 2))

    def w1() -> Any:
        w = bench.W1_INIT.copy()
        for _ in range(10_000):
            w = w - w1_grad(w)
        return w

    w2_grad = autograd.grad(lambda a, b: 0.5 * anp.sum((bench.Y2 - sig(sig(bench.X2 @ a) @ b)) ** 2), argnum=[0, 1])

    def w2() -> Any:
        return w2_grad(bench.W2A, bench.W2B)

    def w3_loss(params: list[Any]) -> Any:
        A, a, B, b, C, c = params
        logits = anp.maximum(anp.tanh(bench.X3 @ A + a) @ B + b, 0) @ C + c
        s = logits - anp.max(logits, axis=1, keepdims=True)
        logp = s - anp.log(anp.sum(anp.exp(s), axis=1, keepdims=True))
        return -anp.sum(logp * bench.ONEHOT3) / len(bench.X3)

    w3_grad = autograd.grad(w3_loss)
    flat = [p for pair in bench.W3 for p in pair]

    def w3() -> Any:
        return [p - 0.1 * g for p, g in zip(flat, w3_grad(flat))]

    def w4_f(x: Any) -> Any:
        for _ in range(bench.N4 // 3):
            x = anp.tanh((x + 0.1) * 0.9)
        return anp.sum(x)

    w4_grad = autograd.grad(w4_f)

    def w4() -> Any:
        return w4_grad(bench.X4)

    def w5_f(x: Any) -> Any:
        for _ in range(bench.N5 // 2):
            x = x * 1.0 + 0.0
        return x

    w5_grad = autograd.grad(w5_f)

    def w5() -> Any:
        return float(w5_grad(0.5))

    return {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5}


# ---- micrograd ------------------------------------------------------------------------------------------

def micrograd_workloads() -> dict[str, Callable[[], Any]]:
    import math

    from micrograd.engine import Value as MV

    # micrograd sorts the graph recursively: W4's 1,000-deep chain needs more than Python's default limit of
    # 1,000 frames (safe here: Python 3.11 does not grow the C stack for Python-to-Python calls). W5's
    # 100,000 would not be: it is left out.
    sys.setrecursionlimit(10_000)

    def unary(x: MV, f: Callable[[float], float], df: Callable[[float, float], float], name: str) -> MV:
        """An op in micrograd's own style: the result and a closure that adds the local derivative."""
        out = MV(f(x.data), (x,), name)

        def _backward() -> None:
            x.grad += df(x.data, out.data) * out.grad
        out._backward = _backward
        return out

    sigmoid = lambda x: unary(x, lambda v: 1 / (1 + math.exp(-v)), lambda v, o: o * (1 - o), "sigmoid")
    tanh = lambda x: unary(x, math.tanh, lambda v, o: 1 - o * o, "tanh")
    exp = lambda x: unary(x, math.exp, lambda v, o: o, "exp")
    log = lambda x: unary(x, math.log, lambda v, o: 1 / v, "log")

    def matmul(X: list[list[Any]], W: list[list[Any]]) -> list[list[Any]]:
        return [[sum((X[i][k] * W[k][j] for k in range(len(W))), MV(0.0)) for j in range(len(W[0]))]
                for i in range(len(X))]

    wrap = lambda a: [[MV(float(v)) for v in row] for row in np.atleast_2d(a)]

    def w1() -> Any:
        w = wrap(bench.W1_INIT)
        for _ in range(10_000):
            out = [sigmoid(z) for (z,) in matmul(bench.X1.tolist(), w)]
            loss = sum(((o - t) ** 2 for o, (t,) in zip(out, bench.Y1.tolist())), MV(0.0)) * 0.5
            for (p,) in w:
                p.grad = 0.0
            loss.backward()
            for (p,) in w:
                p.data -= p.grad
        return np.array([[p.data] for (p,) in w])

    def w2() -> Any:
        a, b = wrap(bench.W2A), wrap(bench.W2B)
        hidden = [[sigmoid(z) for z in row] for row in matmul(bench.X2.tolist(), a)]
        yhat = [sigmoid(z) for (z,) in matmul(hidden, b)]
        loss = sum(((t - o) ** 2 for o, (t,) in zip(yhat, bench.Y2.tolist())), MV(0.0)) * 0.5
        loss.backward()
        return np.array([[p.grad for p in row] for row in a]), np.array([[p.grad for p in row] for row in b])

    def w3() -> Any:
        params = [wrap(p) for pair in bench.W3 for p in pair]  # biases as 1-row matrices
        A, a, B, b, C, c = params
        X = bench.X3[:MICRO_ROWS].tolist()
        add_bias = lambda Z, bias: [[z + bb for z, bb in zip(row, bias[0])] for row in Z]
        h1 = [[tanh(z) for z in row] for row in add_bias(matmul(X, A), a)]
        h2 = [[z.relu() for z in row] for row in add_bias(matmul(h1, B), b)]
        logits = add_bias(matmul(h2, C), c)
        total = MV(0.0)
        for row, target in zip(logits, bench.Y3[:MICRO_ROWS]):
            top = max(z.data for z in row)
            shifted = [z - top for z in row]
            total = total + (log(sum((exp(s) for s in shifted), MV(0.0))) - shifted[int(target)])
        (total * (1 / MICRO_ROWS)).backward()
        return [np.array([[p.data - 0.1 * p.grad for p in r] for r in m]).reshape(np.shape(orig))
                for m, orig in zip(params, [p for pair in bench.W3 for p in pair])]

    def w4() -> Any:
        xs = [MV(float(v)) for v in bench.X4]
        grads = []
        for x0 in xs:
            x = x0
            for _ in range(bench.N4 // 3):
                x = tanh((x + 0.1) * 0.9)
            x.backward()
            grads.append(x0.grad)
        return np.array(grads)

    return {"W1": w1, "W2": w2, "W3": w3, "W4": w4}


def numpy_w3_small() -> list[np.ndarray]:
    """numpy's W3 on micrograd's 4 rows, for the agreement check."""
    X3, onehot = bench.X3, bench.ONEHOT3
    bench.X3, bench.ONEHOT3 = X3[:MICRO_ROWS], onehot[:MICRO_ROWS]
    try:
        return bench.w3_numpy()
    finally:
        bench.X3, bench.ONEHOT3 = X3, onehot


def workloads(engine: str) -> dict[str, Callable[[], Any]]:
    if engine == "numpy":
        return {name: w[1] for name, w in bench.WORKLOADS.items()}
    if engine == "tinygrad_lite":
        return {name: w[2] for name, w in bench.WORKLOADS.items()}
    return {"torch": torch_workloads, "autograd": autograd_workloads, "micrograd": micrograd_workloads}[engine]()


# ---- one engine, in its own process ---------------------------------------------------------------------

def _agree(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_agree(x, y) for x, y in zip(a, b))
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-7, atol=1e-10))


def run_engine(engine: str, quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if engine == "tinygrad_lite":
        bench.tl.memory.tune()
    if engine in ("numpy", "tinygrad_lite"):
        out["memory"] = memory(engine)  # first: the W5 chain's resident memory is a peak, measured once
    for name, fn in workloads(engine).items():
        reference = numpy_w3_small() if engine == "micrograd" and name == "W3" else bench.WORKLOADS[name][1]()
        if not _agree(fn(), reference):
            out[name] = {"error": "result differs from numpy"}
            continue
        t0 = time.perf_counter()
        fn()
        once = time.perf_counter() - t0
        reps = 3 if quick else max(5, min(100, int(3.0 / max(once, 1e-6))))
        times = []
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / reps
        n_ops = bench.WORKLOADS[name][3]
        scale = 1 / n_ops if n_ops else 1.0
        out[name] = {"median_s": statistics.median(times) * scale, "min_s": min(times) * scale,
                     "max_s": max(times) * scale, "repetitions": reps, "page_faults_per_call": round(faults, 1)}
    return out


def memory(engine: str) -> dict[str, int]:
    """Peak traced memory of one W3 step, and resident memory added by the W5 chain (forward + backward)."""
    fns = workloads(engine)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fns["W5"]()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fns["W3"]()
    tracemalloc.start()
    fns["W3"]()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"w3_peak_traced_bytes": peak, "w5_resident_added_kib": after - before}


# ---- the parent: every engine, the table ----------------------------------------------------------------

def available(engine: str) -> bool:
    module = {"tinygrad_lite": "tinygrad_lite"}.get(engine, engine)
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0


def _fmt(s: float) -> str:
    return f"{s * 1e6:.2f} us" if s < 1e-3 else f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def table(results: dict[str, dict[str, Any]]) -> str:
    engines = [e for e in ENGINES if e in results]
    head = "| workload | " + " | ".join(engines) + " |"
    lines = [head, "|---" * (len(engines) + 1) + "|"]
    notes = {"W3": {"micrograd": " (4 rows)"}, "W3r": {"micrograd": " (4 rows)"}}
    for name, (desc, *_rest) in bench.WORKLOADS.items():
        cells = []
        base = results["numpy"].get(name, {}).get("median_s")
        for e in engines:
            r = results[e].get(name)
            eager = r is None and name.endswith("r") and e not in ("numpy", "tinygrad_lite")
            if eager:  # a replayed row: the other engines' own step, as their users run it
                r = results[e].get(name[:-1])
            if r is None:
                cells.append("n/a")
            elif "error" in r:
                cells.append(r["error"])
            else:
                ratio = f", {r['median_s'] / base:.2f}x" if base and e != "numpy" and not (
                    e == "micrograd" and name.startswith("W3")) else ""
                cells.append(f"{_fmt(r['median_s'])} ({_fmt(r['min_s'])}-{_fmt(r['max_s'])}){ratio}"
                             + notes.get(name, {}).get(e, "") + (" (eager, as above)" if eager else ""))
        lines.append(f"| {name} {desc} | " + " | ".join(cells) + " |")
    mem = {e: results[e]["memory"] for e in ("numpy", "tinygrad_lite") if "memory" in results.get(e, {})}
    if len(mem) == 2:
        n, t = mem["numpy"], mem["tinygrad_lite"]
        lines += ["", "| memory | numpy | tinygrad_lite | ratio |", "|---|---|---|---|",
                  f"| W3 one step, peak traced | {n['w3_peak_traced_bytes'] / 1e6:.2f} MB | "
                  f"{t['w3_peak_traced_bytes'] / 1e6:.2f} MB | "
                  f"{t['w3_peak_traced_bytes'] / n['w3_peak_traced_bytes']:.2f}x |",
                  f"| W5 chain, resident added | {n['w5_resident_added_kib'] / 1024:.1f} MB | "
                  f"{t['w5_resident_added_kib'] / 1024:.1f} MB | - |"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three repetitions each: checks, not figures")
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--json", metavar="PATH", help="where to save the results (default: benchmarks/results/)")
    args = parser.parse_args()
    if args.engine:
        print(json.dumps(run_engine(args.engine, args.quick)))
        return
    results, versions = {}, {}
    for engine in ENGINES:
        if not available(engine):
            print(f"({engine} is not installed: skipped; `make bench-peers` installs it)", file=sys.stderr)
            continue
        cmd = [sys.executable, __file__, "--engine", engine] + (["--quick"] if args.quick else [])
        done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
        if done.returncode != 0:
            raise SystemExit(f"{engine} failed:\n{done.stderr}")
        results[engine] = json.loads(done.stdout)
        version = subprocess.run([sys.executable, "-c", f"import importlib.metadata as m; print(m.version("
                                  f"{ {'tinygrad_lite': 'tinygrad-lite'}.get(engine, engine)!r}))"],
                                 capture_output=True, text=True).stdout.strip()
        versions[engine] = version
    disagree = [f"{e} {w}" for e, r in results.items() for w, v in r.items() if isinstance(v, dict) and "error" in v]
    meta = {"date": time.strftime("%Y-%m-%d"), "machine": platform.platform(), "processor": platform.machine(),
            "python": platform.python_version(), "versions": versions, "quick": args.quick,
            "top_pad": os.environ.get("MALLOC_TOP_PAD_", "64 MB for tinygrad_lite (tune()), glibc's default "
                                                             "for the rest")}
    print(f"{meta['date']}, {meta['machine']}, Python {meta['python']}; "
          + ", ".join(f"{e} {v}" for e, v in versions.items()) + f"; glibc top pad: {meta['top_pad']}")
    print("Each cell: median (min-max), and the ratio of medians to numpy's.\n")
    print(table(results))
    path = Path(args.json) if args.json else HERE / "results" / f"{meta['date']}-peers.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    if disagree:
        raise SystemExit("engines disagree with numpy: " + ", ".join(disagree))


if __name__ == "__main__":
    main()
