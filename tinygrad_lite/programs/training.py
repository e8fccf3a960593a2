"""What the programs share: a Run (what a program found), a progress bar, and the training loops.

Scope: helpers for the tutorials, the demos, fit and the plots, kept apart so that each program reads top to bottom.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import data, nn, optim
from ..modes import no_grad


@dataclass
class Run:
    """A program's results: `summary` (the numbers, as --json prints them), `narration` (lines for a person) and
    `curves` (what the plots draw)."""

    summary: dict[str, Any]
    narration: list[str] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)


def progress(steps: Iterable[int], desc: str, enabled: bool = True, total: int | None = None) -> Iterator[int]:
    """A tqdm progress bar on stderr when tqdm is installed (the `progress` extra) and enabled."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            yield from tqdm(steps, desc=desc, total=total, file=sys.stderr, leave=False, mininterval=0.2)
            return
    yield from steps


def full_batch(model: nn.Module, loss_fn: nn.Module, X: np.ndarray, y: Any, steps: int, lr: float,
               show_progress: bool = False, desc: str = "training") -> list[float]:
    """Train with Adam on the whole set at every step; the loss at each step."""
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in progress(range(steps), desc, show_progress):
        loss = loss_fn(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def fit_classifier(net: nn.Module, X: np.ndarray, y: np.ndarray, steps: int, show_progress: bool,
                   desc: str) -> tuple[float, list[float]]:
    """Train a sigmoid classifier with Adam on binary cross-entropy; its accuracy on X and its losses."""
    losses = full_batch(net, nn.BCE(), X, y, steps, 0.05, show_progress, desc)
    with no_grad():
        accuracy = data.accuracy(net(X).data, y, threshold=0.5)  # a sigmoid's probabilities
    return accuracy, losses
