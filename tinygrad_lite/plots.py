"""Pictures of the tutorials' runs, written as PNG files (matplotlib, the `plot` extra; no screen needed).

Each function takes a tutorials.Run and a folder, and returns the paths it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .functional import grad
from .tutorials import Run
from .value import Value, no_grad


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files, never a window: works on a server and in CI
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
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
    ax.set(xlabel="z", title="The activation and its derivative")
    ax.legend()
    ax.grid(True, alpha=0.3)
    paths.append(_save(fig, folder, "regressor_sigmoid.png"))

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(c["cost"], marker=".")
    ax.set(xlabel="BFGS iteration", ylabel="J", title="Regressor: cost during training (part 6)")
    ax.grid(True, alpha=0.3)
    paths.append(_save(fig, folder, "regressor_cost.png"))

    fig, ax = plt.subplots(figsize=(6, 3.5))
    rows = np.arange(len(c["y_raw"]))
    ax.bar(rows - 0.2, c["y_raw"].ravel(), width=0.4, label="target score")
    ax.bar(rows + 0.2, c["predicted"], width=0.4, label="predicted score")
    ax.set_xticks(rows, [f"sleep {s:g} h\nstudy {t:g} h" for s, t in c["X_raw"]])
    ax.set(ylabel="test score", title="Predictions against targets")
    ax.legend(loc="lower right")
    paths.append(_save(fig, folder, "regressor_predictions.png"))

    sleep, study = np.meshgrid(np.linspace(0, 11, 60), np.linspace(0, 5.5, 60))
    grid = np.column_stack([sleep.ravel(), study.ravel()])
    with no_grad():
        score = c["y_scale"].inverse_transform(c["net"](c["x_scale"].transform(grid)).data).reshape(sleep.shape)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    filled = ax.contourf(sleep, study, score, levels=20, cmap="viridis")
    fig.colorbar(filled, label="predicted score")
    ax.scatter(c["X_raw"][:, 0], c["X_raw"][:, 1], c="white", edgecolors="black", label="training data")
    ax.set(xlabel="hours of sleep", ylabel="hours of study", title="Predicted score over sleep x study")
    ax.legend(loc="upper left")
    paths.append(_save(fig, folder, "regressor_grid.png"))

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, (name, curve) in zip(axes, c["part7"].items()):
        ax.semilogy(curve["train"], label="train")
        ax.semilogy(curve["test"], label="test")
        ax.set(xlabel="BFGS iteration", title=f"Part 7, {name}")
        ax.grid(True, alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("mean squared error (scaled)")
    paths.append(_save(fig, folder, "regressor_overfitting.png"))
    return paths


def xor(run: Run, folder: Path) -> list[Path]:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.semilogy(run.curves["single"], label="one neuron")
    ax.semilogy(run.curves["hidden"], label="8 hidden units")
    ax.set(xlabel="Adam step", ylabel="binary cross-entropy", title="3-bit parity")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return [_save(fig, folder, "xor_loss.png")]


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True
