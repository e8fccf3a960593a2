"""Pictures of the tutorials' runs, written as PNG files (matplotlib, the `plot` extra; no screen needed).

Each function takes a tutorials.Run and a folder, and returns the paths it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..data import confusion_matrix
from ..functional import grad
from ..modes import no_grad
from ..value import Value
from .training import Run


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files, never a window: works on a server and in CI
    import matplotlib.pyplot as plt

    return plt


def _legend_outside(ax: Any, ncol: int = 2) -> None:
    """The legend under the axes, beside the x label, never over a curve, a bar or a point."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol, frameon=False)


def _save(fig: Any, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")  # "tight": legends outside the axes stay in the picture
    _pyplot().close(fig)
    return path


def perceptron(run: Run, folder: Path) -> list[Path]:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(run.curves["loss"])
    ax.set(xlabel="step", ylabel="L = 0.5 * sum((out - y)^2)", title="Perceptron: loss during training")
    ax.grid(True, alpha=0.3)
    return [_save(fig, folder, "perceptron_loss.png")]


def regressor(run: Run, folder: Path) -> list[Path]:
    plt = _pyplot()
    c = run.curves
    paths = []

    # the sigmoid and its derivative; the derivative comes from the engine, not from a formula
    z = np.linspace(-6, 6, 200)
    dsig = np.array([grad(lambda v: v.sigmoid())(float(zi)) for zi in z])
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(z, Value(z).sigmoid().data, label="sigmoid(z)")
    ax.plot(z, dsig, label="d sigmoid / dz (by backward)")
    ax.set(xlabel="z (a unit's weighted input)", ylabel="value", title="The activation and its derivative")
    _legend_outside(ax)
    ax.grid(True, alpha=0.3)
    paths.append(_save(fig, folder, "regressor_sigmoid.png"))

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(c["cost"], marker=".")
    ax.set(xlabel="BFGS iteration", ylabel="J", title="Regressor: cost during training (part 6)")
    ax.grid(True, alpha=0.3)
    paths.append(_save(fig, folder, "regressor_cost.png"))

    fig, ax = plt.subplots(figsize=(6, 3.5))
    rows = np.arange(len(c["y_raw"]))
    ax.bar(rows - 0.2, c["y_raw"].ravel(), width=0.4, label="actual exam score")
    ax.bar(rows + 0.2, c["predicted"], width=0.4, label="predicted exam score")
    ax.set_xticks(rows, [f"sleep {s:g} h\nstudy {t:g} h" for s, t in c["X_raw"]])
    ax.set(ylabel="exam score (out of 100)", title="The network's predictions for the three students")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)  # under the two-line labels
    paths.append(_save(fig, folder, "regressor_predictions.png"))

    sleep, study = np.meshgrid(np.linspace(0, 11, 60), np.linspace(0, 5.5, 60))
    grid = np.column_stack([sleep.ravel(), study.ravel()])
    with no_grad():
        score = c["y_scale"].inverse_transform(c["net"](c["x_scale"].transform(grid)).data).reshape(sleep.shape)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    filled = ax.contourf(sleep, study, score, levels=20, cmap="viridis")
    fig.colorbar(filled, label="predicted exam score")
    ax.scatter(c["X_raw"][:, 0], c["X_raw"][:, 1], c="white", edgecolors="black", label="the three students")
    ax.set(xlabel="hours of sleep", ylabel="hours of study", title="Predicted exam score for any sleep and study")
    _legend_outside(ax, ncol=1)
    paths.append(_save(fig, folder, "regressor_grid.png"))

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, (name, curve) in zip(axes, c["part7"].items()):
        ax.semilogy(curve["train"], label="train")
        ax.semilogy(curve["test"], label="test")
        ax.set(xlabel="BFGS iteration", title=f"Part 7, {name}")
        ax.grid(True, alpha=0.3)
        _legend_outside(ax)
    axes[0].set_ylabel("mean squared error (scaled)")
    paths.append(_save(fig, folder, "regressor_overfitting.png"))
    return paths


def xor(run: Run, folder: Path) -> list[Path]:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(run.curves["single"], label="one neuron")
    ax.semilogy(run.curves["hidden"], label="8 hidden units")
    ax.set(xlabel="Adam step", ylabel="binary cross-entropy", title="3-bit parity")
    _legend_outside(ax)
    ax.grid(True, alpha=0.3)
    return [_save(fig, folder, "xor_loss.png")]


def moons(run: Run, folder: Path) -> list[Path]:
    """The decision boundary: the network's probability of class 1 over the plane, the 0.5 line, the points."""
    plt = _pyplot()
    c = run.curves
    X, y = c["X"], c["y"]
    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    with no_grad():
        prob = c["model"](np.column_stack([gx.ravel(), gy.ravel()])).sigmoid().data.reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    filled = ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, prob, levels=[0.5], colors="black", linewidths=1.2)
    for label, color in ((0, "tab:blue"), (1, "tab:red")):
        ax.scatter(*X[y == label].T, c=color, edgecolors="black", s=25, label=f"class {label}")
    fig.colorbar(filled, label="predicted probability of class 1")
    ax.set(xlabel="x1", ylabel="x2", title="Two moons: the decision boundary (black line)")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.12), ncol=2, frameon=False)
    return [_save(fig, folder, "moons_boundary.png")]


def digits(run: Run, folder: Path) -> list[Path]:
    """Loss and test accuracy per epoch for both networks, the CNN's confusion matrix, and the test digits
    the CNN got wrong with what it predicted."""
    plt = _pyplot()
    results, X_test, y_test = run.curves["results"], run.curves["X_test"], run.curves["y_test"]
    paths = []

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, label in (("mlp", "MLP"), ("cnn", "CNN")):
        history = results[name]["history"]
        epochs = np.arange(1, len(history["loss"]) + 1)
        left.semilogy(epochs, history["loss"], label=label)
        right.plot(epochs, 100 * np.array(history["test_accuracy"]), label=label)
    left.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="Loss")
    right.set(xlabel="epoch", ylabel="test images classified right (%)", title="Test accuracy")
    lowest = min(100 * min(results[name]["history"]["test_accuracy"]) for name in ("mlp", "cnn"))
    right.set_ylim(min(90.0, 5 * np.floor((lowest - 1) / 5)), 100)  # every epoch's point shown, the first too
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    paths.append(_save(fig, folder, "digits_curves.png"))

    predicted = results["cnn"]["predicted"]
    matrix = confusion_matrix(predicted[:, None] == np.arange(10), y_test, classes=10)
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black",
                    fontsize=8)
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit",
           title="CNN: confusion matrix (test set)")
    paths.append(_save(fig, folder, "digits_confusion.png"))

    wrong = np.flatnonzero(predicted != y_test)[:16]
    columns = max(min(len(wrong), 8), 1)
    rows = max(-(-len(wrong) // columns), 1)
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.6 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(X_test[i], cmap="gray_r")
        ax.set_title(f"said {predicted[i]}\nwas {y_test[i]}", fontsize=8)
    fig.suptitle(f"CNN: the {len(wrong)} test digits it got wrong" if len(wrong) else "CNN: no test digit wrong")
    paths.append(_save(fig, folder, "digits_mistakes.png"))
    return paths


def _smoothed(losses: list[float], window: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean of each run of `window` steps (a minibatch's loss is noisy), and the step each run ends at."""
    n = len(losses) // window
    if n == 0:
        return np.arange(1, len(losses) + 1), np.array(losses)
    return np.arange(1, n + 1) * window, np.array(losses[:n * window]).reshape(n, window).mean(axis=1)


def names(run: Run, folder: Path) -> list[Path]:
    """Each network's training loss (the mean of every 1% of the steps; the bigram's descent, on the whole set,
    is not a minibatch curve and is left out), and the MLP's letter embeddings on their two main directions."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, losses in run.curves["loss"].items():
        if not name.startswith("bigram"):
            ax.plot(*_smoothed(losses, max(len(losses) // 100, 1)), label=name)
    ax.set(xlabel="step", ylabel="training loss (nats per character)", title="Names: training loss")
    ax.grid(True, alpha=0.3)
    _legend_outside(ax, ncol=3)
    paths = [_save(fig, folder, "names_loss.png")]
    weights, chars = run.curves["embedding"]
    centred = weights - weights.mean(axis=0)
    xy = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T  # the two main directions
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(*xy.T, s=250, c="tab:blue", alpha=0.3)
    for (x, y), c in zip(xy, chars):
        ax.text(x, y, c, ha="center", va="center", fontsize=11)
    ax.set(title="MLP: the letters' embeddings (2 main directions)", xlabel="direction 1", ylabel="direction 2")
    ax.grid(True, alpha=0.3)
    paths.append(_save(fig, folder, "names_embedding.png"))
    return paths


def shakespeare(run: Run, folder: Path) -> list[Path]:
    """The GPT's training loss (smoothed) and its validation loss at each evaluation."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    losses = run.curves["loss"]
    ax.plot(*_smoothed(losses, max(len(losses) // 50, 1)), label="training (batch mean)")
    evals = run.curves["evals"]
    ax.plot([e["step"] for e in evals], [e["val"] for e in evals], "o-", label="validation")
    ax.axhline(1.88, color="gray", linestyle="--", linewidth=1, label="nanoGPT at 2,000 steps (1.88)")
    ax.set(xlabel="step", ylabel="loss (nats per character)", title="A small GPT on tiny Shakespeare")
    ax.grid(True, alpha=0.3)
    _legend_outside(ax, ncol=3)
    return [_save(fig, folder, "shakespeare_loss.png"), attention_map(run.curves["attention"]["weights"],
                                                                      run.curves["attention"]["text"], folder)]


def attention_map(weights: Any, text: str, folder: Path, name: str = "shakespeare_attention.png") -> Path:
    """One head's attention weights (T, T) over a line of text: row t, how much the character at t attends to
    each character up to it (darker is more)."""
    plt = _pyplot()
    weights = np.asarray(weights)
    shown = [c if c.strip() else "␣" for c in text]  # a space as a visible mark
    fig, ax = plt.subplots(figsize=(8.5, 8))
    ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=max(float(weights.max()), 1e-9))
    ax.set_xticks(range(len(shown)), shown, fontsize=7, family="monospace")
    ax.set_yticks(range(len(shown)), shown, fontsize=7, family="monospace")
    ax.set(xlabel="attends to (keys)", ylabel="character (queries)",
           title="The last block's first attention head over a line of Shakespeare")
    return _save(fig, folder, name)


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True
