"""The programs: the tutorials (read top to bottom), the demos, fit, and their plots, with one registry.

    tutorials.py  the perceptron, the 2-3-1 regressor, 3-bit parity
    demos.py      two moons, handwritten digits (an MLP, then a CNN)
    names.py      makemore's path on names: bigrams, an MLP, BatchNorm, a WaveNet-style hierarchy
    gpt.py        a small GPT (nanoGPT's model)
    shakespeare.py  the GPT trained on tiny Shakespeare; checkpoints and sampling
    fit.py        a small network on a learner's own CSV table, saved and used again (predict)
    plots.py      the pictures of each program's run (matplotlib)
    training.py   what they share: Run, the progress bar, the training loops

PROGRAMS is the one list the command line reads: `tinygrad-lite demo NAME`, `explain NAME`, `graph NAME`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..value import Value
from . import demos, names, shakespeare, tutorials
from .training import Run


@dataclass(frozen=True)
class Program:
    """A demo: its title, how to run it, and (for the tutorials) one step's loss to draw and explain."""

    title: str
    run: Callable[..., Run]  # run(seed=..., show_progress=...)
    loss: Callable[[], Value] | None = None  # one step's loss, for graph and explain
    quiet: bool = False  # run takes no show_progress (it is quick)
    options: tuple[str, ...] = ()  # the command line's options it takes besides --seed (steps, iters, save)
    short: dict[str, Any] | None = None  # the budget `demo all` gives it (a short version of a long demo)

    def __call__(self, seed: int | None = None, show_progress: bool = False, **options: Any) -> Run:
        kwargs: dict[str, Any] = {} if seed is None else {"seed": seed}
        if not self.quiet:
            kwargs["show_progress"] = show_progress
        return self.run(**kwargs, **{k: v for k, v in options.items() if k in self.options and v is not None})


PROGRAMS = {
    "perceptron": Program("The perceptron (How to Make a Neural Network)", tutorials.perceptron,
                          tutorials.perceptron_loss),
    "regressor": Program("The 2-3-1 regressor (Neural Networks Demystified, parts 1-7)", tutorials.regressor,
                         tutorials.regressor_loss, quiet=True),
    "xor": Program("3-bit parity: one neuron against a hidden layer", tutorials.xor),
    "moons": Program("Two moons: a 2-16-16-1 network draws a decision boundary", demos.moons),
    "digits": Program("Handwritten digits: an MLP, then a convolutional network", demos.digits),
    "names": Program("Names: from counting bigrams to a WaveNet-style network (makemore)", names.names,
                     options=("steps",), short={"steps": 500}),
    "shakespeare": Program("A small GPT writes Shakespeare (nanoGPT's CPU configuration)", shakespeare.shakespeare,
                           options=("iters", "save"), short={"iters": 40}),
}
LOSSES = {name: p.loss for name, p in PROGRAMS.items() if p.loss is not None}  # the programs with a drawn loss

__all__ = ["LOSSES", "PROGRAMS", "Program", "Run"]
