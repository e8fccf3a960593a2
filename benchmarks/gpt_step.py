"""W7: one training step of a GPT (nanoGPT's CPU configuration: 4 layers, 4 heads, 128-d, context 64, batch 12,
no biases, weight tying), float32, forward + backward + gradient clipping + AdamW, in tinygrad_lite (eager, and
through tl.replay) and in PyTorch. W8: 500 tokens sampled after a 6-token prompt, tinygrad_lite's GPT.generate
(which keeps the keys and values of earlier positions) against nanoGPT's own generate loop in PyTorch (no cache:
the whole window at every token), float32.

    python benchmarks/gpt_step.py                    # both, if PyTorch is installed (`make bench-peers` installs it)
    python benchmarks/gpt_step.py --glibc-defaults   # tinygrad_lite without tl.memory.tune()

Each engine runs in its own process with the threads it picks by default (both use every core), from the same
weights (tinygrad_lite's GPT(65, seed=0), copied into PyTorch's modules, Linear weights transposed) and the same
batches of tiny Shakespeare, with the memory settings its users get (tinygrad_lite's process calls
tl.memory.tune(), as `tinygrad-lite demo` does; glibc's defaults for PyTorch). The two losses of the first step
are compared before anything is timed. The engines take turns, three processes each (the machine's noise moves a
single run by tens of percent); reported: the lowest of the three medians of a step over 20 (after 3 to warm up),
and the peak resident memory the steps added; for W8 the lowest of three runs' times.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

STEPS, WARMUP = 20, 3  # --quick: 2 and 1 (it runs and the engines agree; no figures)
ROUNDS = 3
SAMPLED = 500  # --quick: 20
PROMPT = "ROMEO:"
TUNE = True  # --glibc-defaults: False


def _batches() -> list[tuple[np.ndarray, np.ndarray]]:
    import tinygrad_lite as tl

    text = tl.data.shakespeare()
    ids = tl.data.CharTokenizer(text).encode(text)
    rng = np.random.default_rng(0)
    return [tl.data.text_batch(ids, 12, 64, rng) for _ in range(STEPS + WARMUP)]


def _tinygrad_lite_model(block: int = 64) -> Any:
    import tinygrad_lite as tl
    from tinygrad_lite.programs.gpt import GPT

    if TUNE:
        tl.memory.tune()  # as `tinygrad-lite demo shakespeare` does
    return GPT(65, block_size=block, seed=0).to(np.float32)


def tinygrad_lite_steps(replayed: bool = False) -> dict[str, Any]:
    import tinygrad_lite as tl

    model = _tinygrad_lite_model()
    opt, loss_fn, params = model.optimizer(1e-3), tl.nn.CrossEntropy(), model.parameters()
    loss_of = tl.replay(lambda x, y: loss_fn(model(x), y)) if replayed else None

    def step(x: np.ndarray, y: np.ndarray) -> float:
        opt.zero_grad()
        if loss_of is not None:
            loss = loss_of(x, y)  # forward and backward
        else:
            loss = loss_fn(model(x), y)
            loss.backward()
        tl.optim.clip_grad_norm(params, 1.0)
        opt.step()
        return loss.item()
    return _time(step)


def numpy_steps() -> dict[str, Any]:
    from gpt_numpy import NumpyAdamW, NumpyGPT

    import tinygrad_lite as tl
    from tinygrad_lite.programs.gpt import GPT

    if TUNE:
        tl.memory.tune()  # the same memory settings as tinygrad_lite's run
    model = NumpyGPT(GPT(65, seed=0).state_dict())
    opt = NumpyAdamW(model.p)

    def step(x: np.ndarray, y: np.ndarray) -> float:
        loss, grads = model.loss_and_grads(x, y)
        opt.step(grads)
        return loss
    return _time(step)


def tinygrad_lite_sample(block: int = 64) -> dict[str, Any]:
    import tinygrad_lite as tl

    model = _tinygrad_lite_model(block)
    tok = tl.data.CharTokenizer(tl.data.shakespeare())
    t0 = time.perf_counter()
    model.generate(tok.encode(PROMPT), SAMPLED if block == 64 else block - len(PROMPT), rng=np.random.default_rng(0))
    return {"seconds": time.perf_counter() - t0}


def _torch_model(block: int = 64) -> Any:
    import torch
    import torch.nn.functional as F

    from tinygrad_lite.programs.gpt import GPT

    C, H = 128, 4
    state = {k: torch.tensor(v, dtype=torch.float32) for k, v in GPT(65, block, seed=0).state_dict().items()}

    class Block(torch.nn.Module):
        def __init__(self, i: int):
            super().__init__()
            p = f"blocks.{i}."
            self.ln_1, self.ln_2 = torch.nn.LayerNorm(C, bias=False), torch.nn.LayerNorm(C, bias=False)
            self.c_attn, self.c_proj = torch.nn.Linear(C, 3 * C, bias=False), torch.nn.Linear(C, C, bias=False)
            self.fc, self.proj = torch.nn.Linear(C, 4 * C, bias=False), torch.nn.Linear(4 * C, C, bias=False)
            pairs = ((self.ln_1, "ln_1.weight"), (self.ln_2, "ln_2.weight"), (self.c_attn, "attn.qkv.weight"),
                     (self.c_proj, "attn.proj.weight"), (self.fc, "mlp.layers.0.weight"),
                     (self.proj, "mlp.layers.2.weight"))
            with torch.no_grad():
                for mine, theirs in pairs:  # a Linear's weight is (out, in) in PyTorch, (in, out) here
                    w = state[p + theirs]
                    mine.weight.copy_(w.T if w.dim() == 2 else w)

        def forward(self, x: Any) -> Any:
            B, T, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
            q, k, v = (z.view(B, T, H, C // H).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).contiguous().view(B, T, C)
            x = x + self.c_proj(y)
            return x + self.proj(F.gelu(self.fc(self.ln_2(x))))

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte, self.wpe = torch.nn.Embedding(65, C), torch.nn.Embedding(block, C)
            self.blocks = torch.nn.ModuleList([Block(i) for i in range(4)])
            self.ln_f = torch.nn.LayerNorm(C, bias=False)
            with torch.no_grad():
                self.wte.weight.copy_(state["wte.weight"])
                self.wpe.weight.copy_(state["wpe.weight"])
                self.ln_f.weight.copy_(state["ln_f.weight"])

        def forward(self, idx: Any) -> Any:
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            return self.ln_f(x) @ self.wte.weight.T

    return Model()


def torch_steps() -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    model = _torch_model()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))

    def step(x: np.ndarray, y: np.ndarray) -> float:
        logits = model(torch.from_numpy(x))
        loss = F.cross_entropy(logits.view(-1, 65), torch.from_numpy(y).view(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()
    return _time(step)


def torch_sample(block: int = 64) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    import tinygrad_lite as tl

    model = _torch_model(block).eval()
    tok = tl.data.CharTokenizer(tl.data.shakespeare())
    idx = torch.tensor(tok.encode(PROMPT))[None]
    torch.manual_seed(0)
    t0 = time.perf_counter()
    with torch.no_grad():  # nanoGPT's generate: the last block_size tokens, the last position's logits, a draw
        for _ in range(SAMPLED if block == 64 else block - len(PROMPT)):
            logits = model(idx[:, -block:])[:, -1, :]
            nxt = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
            idx = torch.cat((idx, nxt), dim=1)
    return {"seconds": time.perf_counter() - t0}


def _time(step: Any) -> dict[str, Any]:
    """The losses of every step, the step times after the warm-up, and the resident memory the steps added."""
    batches = _batches()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    losses, times = [], []
    for i, (x, y) in enumerate(batches):
        t0 = time.perf_counter()
        losses.append(step(x, y))
        if i >= WARMUP:
            times.append(time.perf_counter() - t0)
    added = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return {"losses": losses, "median_s": statistics.median(times), "min_s": min(times), "peak_added_mb": added}


ENGINES = {"tinygrad_lite": tinygrad_lite_steps, "tinygrad_lite, tl.replay": lambda: tinygrad_lite_steps(True),
           "numpy by hand (benchmarks/gpt_numpy.py)": numpy_steps, "torch": lambda: torch_steps()}
SAMPLERS = {"tinygrad_lite": tinygrad_lite_sample, "torch": lambda: torch_sample(),
            "tinygrad_lite, block 256": lambda: tinygrad_lite_sample(256),
            "torch, block 256": lambda: torch_sample(256)}


def _run(flag: str, engine: str, args: argparse.Namespace) -> dict[str, Any] | None:
    extra = [*(["--quick"] if args.quick else []), *(["--glibc-defaults"] if args.glibc_defaults else [])]
    done = subprocess.run([sys.executable, __file__, flag, engine, *extra], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"({engine}: {(done.stderr.strip().splitlines() or ['failed'])[-1]})", file=sys.stderr)
        return None
    return json.loads(done.stdout)


def main() -> None:
    global STEPS, WARMUP, SAMPLED, TUNE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=list(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--sampler", choices=list(SAMPLERS), help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="two steps after one, 20 tokens: checks, not figures")
    parser.add_argument("--glibc-defaults", action="store_true", help="tinygrad_lite without tl.memory.tune()")
    args = parser.parse_args()
    if args.quick:
        STEPS, WARMUP, SAMPLED = 2, 1, 20
    TUNE = not args.glibc_defaults
    if args.engine or args.sampler:
        print(json.dumps(ENGINES[args.engine]() if args.engine else SAMPLERS[args.sampler]()))
        return
    results: dict[str, Any] = {}
    sampled: dict[str, Any] = {}
    for _ in range(1 if args.quick else ROUNDS):
        for engine in ENGINES:
            run = _run("--engine", engine, args)
            if run and (engine not in results or run["median_s"] < results[engine]["median_s"]):
                results[engine] = run
        for engine in SAMPLERS:
            run = _run("--sampler", engine, args)
            if run and (engine not in sampled or run["seconds"] < sampled[engine]["seconds"]):
                sampled[engine] = run
    reference = results.get("torch", results.get("tinygrad_lite"))
    for engine, r in results.items():  # the same step: the same first loss, and the same path for 23 steps
        if not (np.isclose(r["losses"][0], reference["losses"][0], rtol=1e-5)
                and np.isclose(r["losses"][-1], reference["losses"][-1], atol=1e-3)):
            raise SystemExit(f"W7: the losses differ: {engine} {r['losses'][0]} ... {r['losses'][-1]}, against "
                             f"{reference['losses'][0]} ... {reference['losses'][-1]}")
    print("| W7 GPT step (nanoGPT CPU config, float32) | median | min | peak memory added | against PyTorch |")
    print("|---|---|---|---|---|")
    for engine, r in results.items():
        ratio = f"{r['median_s'] / results['torch']['median_s']:.2f}x" if "torch" in results else "-"
        print(f"| {engine} | {r['median_s'] * 1e3:.1f} ms | {r['min_s'] * 1e3:.1f} ms | {r['peak_added_mb']:.0f} MB "
              f"| {ratio} |")
    if "torch" in results:
        t, p = results["tinygrad_lite"], results["torch"]
        print(f"\nfirst loss {t['losses'][0]:.5f} (PyTorch {p['losses'][0]:.5f}), loss after {STEPS + WARMUP} steps "
              f"{t['losses'][-1]:.4f} (PyTorch {p['losses'][-1]:.4f})")
    print("\n| W8 sampling (float32) | seconds | against PyTorch |\n|---|---|---|")
    for engine, r in sampled.items():
        theirs = sampled.get("torch" + engine[len("tinygrad_lite"):]) if engine.startswith("tinygrad_lite") else r
        mine = engine.startswith("tinygrad_lite")
        what = (f"{SAMPLED} tokens, block_size 64" + (" (mostly past the window: run afresh)" if mine else "")
                if "256" not in engine else
                f"{256 - len(PROMPT)} tokens, block_size 256" + (" (within the window: the cache)" if mine else ""))
        who = "tinygrad_lite GPT.generate" if mine else "nanoGPT's loop (no cache) in PyTorch"
        ratio = f"{r['seconds'] / theirs['seconds']:.2f}x" if theirs else "-"
        print(f"| {who}, {what} | {r['seconds']:.2f} s | {ratio} |")


if __name__ == "__main__":
    main()
