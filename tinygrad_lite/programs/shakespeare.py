"""A GPT writes Shakespeare: nanoGPT's character-level run with its CPU configuration (4 layers, 4 heads, 128-d,
context 64, batch 12, no dropout), AdamW (weight decay 0.1 on the matrices, betas 0.9 and 0.99), a warm-up then
cosine schedule from 1e-3 to 1e-4, gradient clipping at 1, float32 from end to end. The first 90% of the text
trains, the last 10% validates.

    shakespeare(iters=2000)                 nanoGPT's budget (its validation loss: 1.88)
    save_checkpoint(model, tok, "gpt.npz")  the weights, the sizes and the vocabulary in one .npz
    sample_text("gpt.npz", n=500, temperature=0.8, seed=1)
"""

from __future__ import annotations

import json
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .. import data, nn, optim
from ..modes import no_grad
from ..nn.archive import write_arrays
from .gpt import GPT
from .training import Run, progress

CONFIG: dict[str, Any] = {"block_size": 64, "n_layer": 4, "n_head": 4, "n_embd": 128}
BATCH, LR, MIN_LR = 12, 1e-3, 1e-4


def _splits() -> tuple[data.CharTokenizer, np.ndarray, np.ndarray]:
    text = data.shakespeare()
    tok = data.CharTokenizer(text)
    ids = tok.encode(text)
    n = int(0.9 * len(ids))
    return tok, ids[:n], ids[n:]


def _mean_loss(model: GPT, batches: Any) -> float:
    """The mean cross-entropy over every target of the (x, y) batches, in eval mode and recording nothing."""
    loss_fn, total, count = nn.CrossEntropy(reduction="sum"), 0.0, 0
    model.eval()
    with no_grad():
        for x, y in batches:
            total += loss_fn(model(x), y).item()
            count += y.size
    model.train()
    return total / count


def estimate_loss(model: GPT, ids: np.ndarray, batches: int, seed: int) -> float:
    """The mean loss over `batches` random (12, 64) windows of ids, drawn with `seed` (the same ones each time)."""
    rng = np.random.default_rng(seed)
    return _mean_loss(model, (data.text_batch(ids, BATCH, model.block_size, rng) for _ in range(batches)))


def split_loss(model: GPT, ids: np.ndarray, batch_size: int = 64, show_progress: bool = False) -> float:
    """The mean loss over every character of ids, cut into windows of block_size that do not overlap (the last,
    shorter, one left out): the whole split's figure, not an estimate from random windows."""
    T = model.block_size
    n = (len(ids) - 1) // T
    x, y = ids[:n * T].reshape((n, T)), ids[1:n * T + 1].reshape((n, T))
    starts = progress(range(0, n, batch_size), "validation loss (the whole text)", show_progress,
                      total=len(range(0, n, batch_size)))
    return _mean_loss(model, ((x[i:i + batch_size], y[i:i + batch_size]) for i in starts))


def shakespeare(seed: int = 0, iters: int = 250, show_progress: bool = False, save: str | Path | None = None,
                eval_batches: int = 40) -> Run:
    """Train the GPT for `iters` steps, report the losses (every 250 steps on 10 random batches of the validation
    text; at the end, the train loss on `eval_batches` random batches and the validation loss on the whole
    validation text) and 500 characters it writes; save a checkpoint if asked."""
    tok, train_ids, val_ids = _splits()
    model = GPT(tok.vocab_size, seed=seed, **CONFIG).to(np.float32)
    opt = model.optimizer(LR)
    schedule = optim.WarmupCosineLR(opt, warmup=min(100, iters // 10), total=iters, min_lr=MIN_LR)
    rng, loss_fn = np.random.default_rng(seed), nn.CrossEntropy()
    params = model.parameters()
    losses, evals = [], []
    start = time.perf_counter()
    for step in progress(range(iters), "shakespeare", show_progress):
        x, y = data.text_batch(train_ids, BATCH, model.block_size, rng)
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm(params, 1.0)
        opt.step()
        schedule.step()
        losses.append(loss.item())
        if (step + 1) % 250 == 0 and step + 1 < iters:
            evals.append({"step": step + 1, "val": estimate_loss(model, val_ids, 10, seed + 1)})
    seconds = time.perf_counter() - start
    train_loss = estimate_loss(model, train_ids, eval_batches, seed + 1)
    val_loss = split_loss(model, val_ids, show_progress=show_progress)
    evals.append({"step": iters, "val": val_loss})
    if show_progress:
        print("writing 500 characters with the trained model ...", file=sys.stderr, flush=True)
    text = tok.decode(model.generate(np.zeros((1, 1), np.int64), 500, temperature=0.8,
                                     rng=np.random.default_rng(seed + 1))[0, 1:])
    summary = {"iters": iters, "train_loss": train_loss, "val_loss": val_loss, "seconds": seconds,
               "parameters": sum(p.size for p in params), "evals": evals, "sample": text}
    line = tok.decode(val_ids[:48])  # a line of the validation text, and how the last block's first head reads it
    with no_grad():
        _, maps = model(val_ids[None, :48], need_weights=True)
    narration = [f"a GPT of {summary['parameters']:,} parameters (nanoGPT's CPU configuration), {iters} steps of "
                 f"batch {BATCH} x {model.block_size} characters, float32 (the seconds are in --json):",
                 f"  train loss {train_loss:.2f}, validation loss {val_loss:.2f} (nanoGPT reaches 1.88 at 2,000 "
                 "steps; a uniform guess over 65 characters is ln 65 = 4.17)", "  it writes (temperature 0.8):", ""]
    narration += ["    " + line for line in text.splitlines()] + [""]
    if save is not None:
        narration.append(f"checkpoint: {save_checkpoint(model, tok, save)}")
    return Run(summary, narration, {"loss": losses, "evals": evals,
                                    "attention": {"text": line, "weights": maps[-1][0, 0]}})


# ---- checkpoints and sampling ---------------------------------------------------------------------------------

def save_checkpoint(model: GPT, tok: data.CharTokenizer, path: str | Path) -> Path:
    """The weights, the model's sizes and the vocabulary, in one .npz written whole or not at all."""
    sizes = {"vocab_size": tok.vocab_size, "block_size": model.block_size, "n_layer": len(model.blocks),
             "n_head": model.n_head, "n_embd": model.wte.embedding_dim}
    meta = json.dumps({"format": "tinygrad-lite gpt 1", "config": sizes, "chars": tok.chars}).encode()
    return write_arrays(path, {**model.state_dict(), "__meta__": np.frombuffer(meta, dtype=np.uint8)})


class CheckpointError(ValueError):
    """A file that is not a checkpoint save_checkpoint wrote, said in one line."""


def load_checkpoint(path: str | Path) -> tuple[GPT, data.CharTokenizer]:
    """The model and the tokenizer from a checkpoint; anything else is one CheckpointError saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not a checkpoint of `tinygrad-lite demo shakespeare --save` (not an .npz "
                              "archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
        meta = json.loads(bytes(arrays.pop("__meta__")).decode())
        if meta.get("format") != "tinygrad-lite gpt 1":
            raise ValueError("it has no GPT checkpoint's description")
        config = dict(meta["config"])
        tok = data.CharTokenizer("".join(meta["chars"]))
        model = GPT(**config).to(np.float32)
        model.load_state_dict(arrays)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not a checkpoint of `tinygrad-lite demo shakespeare --save` ({e})") from None
    return model, tok


def sample_text(path: str | Path, n: int = 500, temperature: float = 0.8, seed: int = 0,
                prompt: str = "\n") -> str:
    """n characters the checkpoint's model writes after prompt (which must use its characters)."""
    model, tok = load_checkpoint(path)
    try:
        start = tok.encode(prompt)[None, :] if prompt else np.zeros((1, 1), np.int64)
    except ValueError as e:
        raise CheckpointError(str(e)) from None
    out: Any = model.generate(start, n, temperature=temperature, rng=np.random.default_rng(seed))
    return tok.decode(out[0, start.shape[1]:])
