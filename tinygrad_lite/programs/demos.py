"""The demos after the tutorials: classifying points (two moons) and handwritten digits (an MLP, then a CNN).

    moons()    micrograd's demo done with tensors: a 2-16-16-1 network separates 100 two-moons points
    digits()   the 1,797 8x8 digits: a multilayer perceptron, then a small convolutional network

Each returns a tutorials.Run (summary, narration, curves), like the tutorials' programs; read them top to bottom.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .. import data, nn, optim
from ..modes import no_grad
from .training import Run, full_batch, progress


def _percent(fraction: float, n: int) -> str:
    return f"{fraction:.1%} ({round(fraction * n)} of {n})"


# ---- 1. two moons ------------------------------------------------------------------------------------

def moons(seed: int = 0, steps: int = 500, show_progress: bool = False) -> Run:
    """100 points on two interleaving half circles; a 2-16-16-1 tanh network trained with Adam on binary
    cross-entropy (on logits) over the whole set, until every point is on its side of the boundary."""
    X, y = data.moons(n=100, noise=0.1, seed=seed)
    rng = np.random.RandomState(seed)
    model = nn.Sequential(nn.Linear(2, 16, init="xavier", rng=rng), nn.Tanh(),
                          nn.Linear(16, 16, init="xavier", rng=rng), nn.Tanh(),
                          nn.Linear(16, 1, init="xavier", rng=rng))
    losses = full_batch(model, nn.BCEWithLogits(), X, y.reshape(-1, 1).astype(float), steps, 0.02, show_progress,
                        "moons")
    with no_grad():
        acc = data.accuracy(model(X).data, y, threshold=0)  # one logit per row: class 1 where it is above 0
    narration = [f"two moons, {len(X)} points, a 2-16-16-1 tanh network, {steps} Adam steps on the whole set:",
                 f"  training accuracy {_percent(acc, len(X))}; the plot shows the boundary it drew."]
    return Run({"train_accuracy": acc, "steps": steps}, narration,
               {"loss": losses, "X": X, "y": y, "model": model})


# ---- 2. handwritten digits ----------------------------------------------------------------------------

def _digits_split(seed: int) -> tuple[np.ndarray, ...]:
    """The digits scaled to [0, 1], split 75/25 with every digit in the same proportion on both sides."""
    images, labels = data.digits()
    return tuple(data.train_test_split(images / 16.0, labels, test_size=0.25, seed=seed, stratify=labels))


def mlp(rng: Any) -> nn.Module:
    """64 pixels -> 256 -> 128 -> 10 scores, ReLU between."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 256, init="he", rng=rng), nn.ReLU(),
                         nn.Linear(256, 128, init="he", rng=rng), nn.ReLU(), nn.Linear(128, 10, init="he", rng=rng))


def cnn(rng: Any) -> nn.Module:
    """(1, 8, 8) -> conv 3x3 to 32 channels -> max-pool to 4x4 -> conv 3x3 to 64 -> max-pool to 2x2 -> 10 scores."""
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),  # (N, 32, 4, 4)
                         nn.Conv2d(32, 64, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),  # (N, 64, 2, 2)
                         nn.Flatten(), nn.Linear(256, 10, init="he", rng=rng))


def _train(model: nn.Module, X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, epochs: int,
           lr: float, weight_decay: float, seed: int, show_progress: bool, name: str) -> dict[str, Any]:
    """Mini-batches of 32 in a new order each epoch, AdamW with a cosine schedule; after each epoch, the
    training loss (mean over the batches) and the test accuracy."""
    opt = optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = optim.CosineLR(opt, T_max=epochs)
    loss_fn, batches = nn.CrossEntropy(), data.DataLoader(X, y, batch_size=32, seed=seed)
    history: dict[str, list[float]] = {"loss": [], "test_accuracy": []}
    start = time.perf_counter()
    for _ in progress(range(epochs), name, show_progress):
        model.train()
        total = 0.0
        for xb, yb in batches:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        schedule.step()
        model.eval()
        with no_grad():
            history["test_accuracy"].append(data.accuracy(model(X_test).data, y_test))
        history["loss"].append(total / len(batches))
    seconds = time.perf_counter() - start
    with no_grad():
        scores = model(X_test).data
    return {"test_accuracy": history["test_accuracy"][-1], "seconds": seconds, "history": history,
            "predicted": scores.argmax(axis=1)}


def digits(seed: int = 0, mlp_epochs: int = 40, cnn_epochs: int = 30, show_progress: bool = False) -> Run:
    """The MLP, then the CNN, on the same stratified 75/25 split (seed 0 by default)."""
    X_train, X_test, y_train, y_test = _digits_split(seed)
    rng = np.random.RandomState(seed)
    results = {
        "mlp": _train(mlp(rng), X_train, y_train, X_test, y_test, mlp_epochs, 0.002, 0.01, seed, show_progress,
                      "MLP"),
        "cnn": _train(cnn(rng), X_train[:, None], y_train, X_test[:, None], y_test, cnn_epochs, 0.002, 1e-4, seed,
                      show_progress, "CNN"),  # images get a channel axis: (N, 1, 8, 8)
    }
    n = len(y_test)
    narration = [f"handwritten digits: {len(y_train)} images to train on, {n} to test on (stratified 75/25 split):"]
    for name, title in (("mlp", "MLP 64-256-128-10"), ("cnn", "CNN conv-pool-conv-pool-linear")):
        r = results[name]
        wrong = int(np.sum(r["predicted"] != y_test))
        narration.append(f"  {title + ':':32} test accuracy {_percent(r['test_accuracy'], n)}, {wrong} mistakes")
    summary = {name: {"test_accuracy": r["test_accuracy"], "seconds": round(r["seconds"], 2)}
               for name, r in results.items()}
    return Run(summary, narration, {"results": results, "X_test": X_test, "y_test": y_test})
