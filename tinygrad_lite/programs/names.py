"""makemore's path on 32,033 names, read top to bottom: count bigrams, learn the same bigram model by gradient
descent, then an MLP on three characters of context (Bengio et al. 2003), the MLP with BatchNorm, and a
WaveNet-style hierarchy on eight characters. Every model is scored on the same 80/10/10 split (seed 0) in nats
per character, and samples 10 names.

    names(steps=4000)          the default: each network trains 4,000 steps (16 seconds in all on 2 cores)
    names(steps=200_000)       makemore's budget (`tinygrad-lite demo names --full`)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .. import data, nn, optim
from ..modes import no_grad
from ..value import Value
from .training import Run, progress

BATCH = 32
FULL = 100_000  # from this many steps on, the train loss is over every training example (below: as many as dev has)


def _split(seed: int) -> tuple[data.CharTokenizer, list[list[str]]]:
    words = data.names()
    return data.CharTokenizer("".join(words), boundary="."), data.split_words(words, seed=seed)


def _nll(log_probs: np.ndarray, y: np.ndarray) -> float:
    """The mean negative log-likelihood of the targets y under rows of log-probabilities."""
    return float(-log_probs[np.arange(len(y)), y].mean())


# ---- 1. counting bigrams, and the same model by gradient descent --------------------------------------------

def pair_counts(X: np.ndarray, Y: np.ndarray, vocab: int) -> np.ndarray:
    """N[a, b]: how often b follows a in the examples (a the last character of each context)."""
    counts = np.zeros((vocab, vocab))
    np.add.at(counts, (X[:, -1], Y), 1)
    return counts


def bigram_counts(X: np.ndarray, Y: np.ndarray, vocab: int) -> np.ndarray:
    """P[a, b], the probability that b follows a: the counts of each pair plus one (smoothing), row-normalised."""
    counts = pair_counts(X, Y, vocab) + 1
    return counts / counts.sum(axis=1, keepdims=True)


def bigram_descent(X: np.ndarray, Y: np.ndarray, vocab: int, steps: int, seed: int) -> tuple[np.ndarray, list[float]]:
    """The same model as logits W (vocab, vocab), W[a] the logits of what follows a, learnt by gradient descent
    (Adam) on the mean cross-entropy over every training example, plus a little L2 on W (which plays the part of
    the counts' +1). The mean over the n examples is summed pair by pair, each pair (a, b) once with its count
    N[a, b]: the same loss and gradient as the 182,000 rows one at a time, at the cost of a 27 x 27 table."""
    weights = pair_counts(X, Y, vocab) / len(Y)  # N[a, b] / n
    W = Value(np.random.default_rng(seed).standard_normal((vocab, vocab)) * 0.01, name="W")
    opt, losses = optim.Adam([W], lr=0.1), []
    for _ in range(steps):
        loss = -(W.log_softmax(axis=1) * weights).sum() + 1e-4 * (W * W).mean()  # mean -log P(b | a)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    z = W.data - W.data.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True)), losses


# ---- 2. the networks -----------------------------------------------------------------------------------------

class FlattenConsecutive(nn.Module):
    """(B, T, C) -> (B, T / n, n C): n neighbours side by side, so the next layer fuses pairs (WaveNet's tree)."""

    def __init__(self, n: int):
        self.n = n

    def forward(self, x: Value) -> Value:
        B, T, C = x.shape
        x = x.reshape((B, T // self.n, C * self.n))
        return x.reshape((B, C * self.n)) if T == self.n else x


def mlp(vocab: int, block: int, emb: int, hidden: int, batchnorm: bool, rng: np.random.Generator) -> nn.Sequential:
    """Embedding -> flatten -> Linear -> (BatchNorm) -> tanh -> Linear, with makemore's initialisation: the hidden
    layer's weights scaled by the tanh gain 5/3 over sqrt(fan-in), the output layer's by 0.1, so the first loss is
    near ln(27) = 3.30 and few tanh units start saturated."""
    hidden_layer = nn.Linear(block * emb, hidden, bias=not batchnorm, init="normal", rng=rng)
    hidden_layer.weight.data *= (5 / 3) / np.sqrt(block * emb)
    out = nn.Linear(hidden, vocab, rng=rng)
    out.weight.data *= 0.1
    layers: list[Any] = [nn.Embedding(vocab, emb, rng=rng), nn.Flatten(), hidden_layer]
    return nn.Sequential(*layers, *([nn.BatchNorm1d(hidden)] if batchnorm else []), nn.Tanh(), out)


def wavenet(vocab: int, emb: int, hidden: int, rng: np.random.Generator) -> nn.Sequential:
    """makemore part 5: 8 characters fused two at a time in three levels, each Linear -> BatchNorm -> tanh."""
    layers: list[Any] = [nn.Embedding(vocab, emb, rng=rng)]
    width = emb
    for _ in range(3):
        lin = nn.Linear(2 * width, hidden, bias=False, init="normal", rng=rng)
        lin.weight.data *= (5 / 3) / np.sqrt(2 * width)
        layers += [FlattenConsecutive(2), lin, nn.BatchNorm1d(hidden), nn.Tanh()]
        width = hidden
    out = nn.Linear(hidden, vocab, rng=rng)
    out.weight.data *= 0.1
    return nn.Sequential(*layers, out)


def train(model: nn.Module, X: np.ndarray, Y: np.ndarray, steps: int, rng: np.random.Generator,
          show_progress: bool, desc: str) -> list[float]:
    """makemore's loop: minibatches of 32, SGD at 0.1, then 0.01 for the last quarter; the loss of each step."""
    params = model.parameters()
    opt, loss_fn, losses = optim.SGD(params, lr=0.1), nn.CrossEntropy(), []
    model.train()
    for step in progress(range(steps), desc, show_progress):
        opt.lr = 0.1 if step < 0.75 * steps else 0.01
        rows = rng.integers(0, len(X), BATCH)
        loss = loss_fn(model(X[rows]), Y[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def evaluate(model: nn.Module, X: np.ndarray, Y: np.ndarray) -> float:
    """The mean loss over the examples X, Y, in eval mode (BatchNorm's running statistics), in chunks."""
    model.eval()
    total = 0.0
    with no_grad():
        for i in range(0, len(X), 20000):
            total += nn.CrossEntropy(reduction="sum")(model(X[i:i + 20000]), Y[i:i + 20000]).item()
    return total / len(X)


def sample(next_log_probs: Any, block: int, tok: data.CharTokenizer, n: int, rng: np.random.Generator) -> list[str]:
    """n names: start from a context of boundaries, draw each next character from the model's probabilities
    until the boundary comes again (at most 30 characters)."""
    names = []
    for _ in range(n):
        context, out = [0] * block, []
        for _ in range(30):
            p = np.exp(next_log_probs(np.array([context])))[0]
            ix = int(rng.choice(len(p), p=p / p.sum()))
            if ix == 0:
                break
            out.append(ix)
            context = context[1:] + [ix]
        names.append(tok.decode(out))
    return names


def _network_log_probs(model: nn.Module) -> Any:
    def next_log_probs(ctx: np.ndarray) -> np.ndarray:
        with no_grad():
            return model(ctx).log_softmax(axis=-1).data
    return next_log_probs


# ---- the demo ------------------------------------------------------------------------------------------------

def names(seed: int = 0, steps: int = 4000, show_progress: bool = False) -> Run:
    """Every model of makemore's path, each scored on train and dev and sampling 10 names."""
    tok, (train_w, dev_w, _test_w) = _split(seed)
    summary: dict[str, Any] = {"steps": steps, "split": [len(train_w), len(dev_w), len(_test_w)], "models": {}}
    narration = [f"names: {len(train_w)} train, {len(dev_w)} dev and {len(_test_w)} test names (80/10/10, seed "
                 f"{seed}); losses in nats per character (a uniform guess: ln 27 = 3.30); each network trains "
                 f"{steps:,} steps" + ("" if steps >= FULL else " (its train loss is over a random sample of training "
                                        "examples as large as dev)")]
    curves: dict[str, Any] = {"loss": {}}

    def report(name: str, train_loss: float, dev_loss: float, names_: list[str], seconds: float) -> None:
        summary["models"][name] = {"train": train_loss, "dev": dev_loss, "seconds": seconds, "samples": names_}
        narration.append(f"  {name:<18} train {train_loss:.3f}  dev {dev_loss:.3f}  " + " ".join(names_))

    # 1. bigrams, counted and learnt
    X1, Y1 = data.next_char_examples(train_w, 1, tok)
    Xd1, Yd1 = data.next_char_examples(dev_w, 1, tok)
    t = time.perf_counter()
    P = np.log(bigram_counts(X1, Y1, tok.vocab_size))
    report("bigram (counts)", _nll(P[X1[:, -1]], Y1), _nll(P[Xd1[:, -1]], Yd1),
           sample(lambda c: P[c[:, -1]], 1, tok, 10, np.random.default_rng(seed)), time.perf_counter() - t)
    t = time.perf_counter()
    L, losses = bigram_descent(X1, Y1, tok.vocab_size, 500, seed)
    curves["loss"]["bigram (descent)"] = losses
    report("bigram (descent)", _nll(L[X1[:, -1]], Y1), _nll(L[Xd1[:, -1]], Yd1),
           sample(lambda c: L[c[:, -1]], 1, tok, 10, np.random.default_rng(seed)), time.perf_counter() - t)

    # 2. the networks
    rng = np.random.default_rng(seed)
    for name, block, make in (
            ("MLP", 3, lambda: mlp(tok.vocab_size, 3, 10, 200, False, rng)),
            ("MLP + BatchNorm", 3, lambda: mlp(tok.vocab_size, 3, 10, 200, True, rng)),
            ("WaveNet-style", 8, lambda: wavenet(tok.vocab_size, 24, 128, rng))):
        X, Y = data.next_char_examples(train_w, block, tok)
        Xd, Yd = data.next_char_examples(dev_w, block, tok)
        model = make()
        t = time.perf_counter()
        curves["loss"][name] = train(model, X, Y, steps, rng, show_progress, name)
        seen = slice(None) if steps >= FULL else np.random.default_rng(seed).permutation(len(X))[:len(Xd)]
        train_loss, dev_loss = evaluate(model, X[seen], Y[seen]), evaluate(model, Xd, Yd)
        report(name, train_loss, dev_loss, sample(_network_log_probs(model), block, tok, 10,
                                                  np.random.default_rng(seed)), time.perf_counter() - t)
        summary["models"][name]["parameters"] = sum(p.size for p in model.parameters())
        if name == "MLP":
            embedding: Any = model.layers[0]
            curves["embedding"] = (embedding.weight.data.copy(), tok.chars)
    narration.append("  (published at 200,000 steps: MLP dev 2.17, with BatchNorm 2.11, WaveNet-style 1.99; "
                     "run `tinygrad-lite demo names --full` for that budget)")
    return Run(summary, narration, curves)
