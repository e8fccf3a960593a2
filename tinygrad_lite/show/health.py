"""The health of a training run: each layer's activations and their gradients, how many tanh units are
saturated, and each weight's update-to-data ratio over the steps (makemore's third lecture, as one call)::

    health = tl.health(model, every=100)   # starts recording
    for step in range(steps):
        loss = ...; loss.backward(); opt.step()
        health.step()                      # after each optimiser step
    print(health)                          # the statistics of the last recorded step and a verdict in words
    health.plot("health.png")              # histograms per layer and the update ratios with the 1e-3 guide

Recording wraps the forward of the watched layers of this model only (the activations, and every other leaf
layer but Dropout), so nothing else pays for it, and close() (or the end of a `with` block) unwraps them. On a
recorded step it keeps each layer's output and its gradient and copies the weights once; on the others it does
nothing but count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import _checks, backward
from ..nn import GELU, Dropout, LeakyReLU, Module, ReLU, Sigmoid, Tanh
from ..value import Value

SATURATED = 0.97  # |tanh| above this: the unit's gradient, 1 - t^2, is below 6% (makemore's threshold)
ACTIVATIONS = (Tanh, Sigmoid, ReLU, LeakyReLU, GELU)
ACTIVATION_OPS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "ReLU", "leaky_relu": "LeakyReLU", "gelu": "GELU"}


class Health:
    """Statistics of a model's layers and weights while it trains; made by tl.health(model, every).

    What it watches: the model's activation layers (Tanh, ReLU, ...) if it has any; otherwise the activations its
    own forward computes (`x.tanh()` in a Module a learner wrote, named "tanh 1", "tanh 2", ... in the order they
    ran), and failing those its layers' outputs, or the model's output. Each recorded step keeps what the forward
    that needs a gradient made (a validation forward under no_grad() in the same step does not replace it)."""

    def __init__(self, model: Module, every: int = 100):
        if not isinstance(model, Module):
            raise TypeError(f"health: give the model (a tl.nn.Module), got {_checks.describe(model)}")
        self.every = _checks.whole("health", "every", every)
        self.model, self.count = model, 0
        named = [(n, m) for n, m in model.named_modules() if not any(True for _ in m.children())]
        active: list[tuple[str, Module]] = [(n, m) for n, m in named if isinstance(m, ACTIVATIONS)]
        self.layers = active or [(n, m) for n, m in named if not isinstance(m, Dropout) and n]
        params = list(model.named_parameters())
        self.weights = [(n, p) for n, p in params if p.ndim >= 2] or params  # a scalar network's weights are 0-d
        self.history: list[dict[str, Any]] = []  # one entry per recorded step
        self._outputs: dict[str, Value] = {}  # the watched layers' outputs on this step
        self._found: dict[str, Value] = {}  # without activation layers: the activations the model's forward made
        self._kinds = {name: type(layer).__name__ for name, layer in self.layers}
        self._before: dict[str, np.ndarray] = {}
        for name, layer in self.layers:
            layer.forward = self._watching(name, type(layer).forward.__get__(layer))  # type: ignore[method-assign]
        self._graph = not active
        if self._graph:
            model.forward = self._watching_graph(type(model).forward.__get__(model))  # type: ignore[method-assign]

    def _recording(self, out: Any, kept: dict[str, Value]) -> bool:
        """Whether this forward's output is this step's: a recorded step, and a forward with a gradient (or the
        first one of the step)."""
        if self.count % self.every or not isinstance(out, Value) or (kept and not out.requires_grad):
            return False
        if not self._before:  # the weights before this step's update
            self._before = {n: p.data.copy() for n, p in self.weights}
        return True

    def _watching(self, name: str, forward: Any) -> Any:
        def watched(*args: Any, **kwargs: Any) -> Any:
            out = forward(*args, **kwargs)
            if self._recording(out, self._outputs):
                if out.requires_grad:
                    out.retain_grad()
                self._outputs[name] = out
            return out
        return watched

    def _watching_graph(self, forward: Any) -> Any:
        def watched(*args: Any, **kwargs: Any) -> Any:
            out = forward(*args, **kwargs)
            if self._recording(out, self._found):
                found: dict[str, Value] = {}
                if out.requires_grad:
                    made_here = [v for v in backward.order(out, view=True) if v._op is not None and
                                 v._op.name in ACTIVATION_OPS and any(m is self.model for m in _made_in(v))]
                    for i, v in enumerate(made_here, 1):
                        name = f"{v._op.name} {i}"
                        v.retain_grad()
                        found[name], self._kinds[name] = v, ACTIVATION_OPS[v._op.name]
                    if not found:
                        out.retain_grad()
                if not found:
                    found["output"], self._kinds["output"] = out, type(self.model).__name__
                self._found = found
            return out
        return watched

    def step(self) -> None:
        """Call once after each optimiser step: on a recorded step it takes the statistics."""
        if self.count % self.every == 0 and (self._outputs or self._found):
            self.history.append(self._measure())
        self._outputs, self._found, self._before = {}, {}, {}
        self.count += 1

    def _measure(self) -> dict[str, Any]:
        outputs = self._outputs
        if self._found and ("output" not in self._found or not outputs):  # activations the forward made come first
            outputs = self._found
        layers = {}
        for name, out in outputs.items():
            a = out.data
            g = out.grad if isinstance(out.grad, np.ndarray) else None
            kind = self._kinds[name]
            stats = {"kind": kind, "mean": float(a.mean()), "std": float(a.std()),
                     "values": a.ravel()[:20000].copy(), "grad_std": float(g.std()) if g is not None else None,
                     "grads": g.ravel()[:20000].copy() if g is not None else None}
            if kind == "Tanh":
                stats["saturated"] = float((np.abs(a) > SATURATED).mean())
            if kind == "ReLU" and a.ndim >= 2:
                stats["dead"] = float((a.reshape(-1, a.shape[-1]) <= 0).all(axis=0).mean())  # never on in the batch
            layers[name] = stats
        weights = {}
        for name, p in self.weights:
            before = self._before.get(name, p.data)
            spread = float(before.std()) or float(np.abs(before).mean()) or 1.0
            g = p.grad if isinstance(p.grad, np.ndarray) else None
            weights[name] = {"update_ratio": float((p.data - before).std()) / spread,
                             "grad_to_data": float(g.std()) / spread if g is not None else None,
                             "shape": p.shape}
        return {"step": self.count, "layers": layers, "weights": weights}

    def close(self) -> None:
        """Stop recording: the layers' own forwards again."""
        for _, layer in self.layers:
            vars(layer).pop("forward", None)
        if self._graph:
            vars(self.model).pop("forward", None)

    def __enter__(self) -> Health:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def verdict(self) -> list[str]:
        """What the last recorded step says, in words: saturated or dead units, activations or gradients that
        shrink or grow from layer to layer, updates too small or too large for the weights."""
        if not self.history:
            return ["nothing recorded yet: call health.step() after each optimiser step"]
        last, words = self.history[-1], []
        for i, (name, s) in enumerate(last["layers"].items(), 1):
            if s.get("saturated", 0) > 0.05:
                words.append(f"layer {i} ({name}, Tanh): {s['saturated']:.0%} of tanh units saturated (|t| > "
                             f"{SATURATED}); scale the initial weights down or add BatchNorm before it")
            if s.get("dead", 0) > 0.05:
                words.append(f"layer {i} ({name}, ReLU): {s['dead']:.0%} of its units are off for the whole batch "
                             "(dead); lower the learning rate or use LeakyReLU or GELU")
        stds = [s["std"] for s in last["layers"].values()]
        if len(stds) > 1 and min(stds) < 0.25 * max(stds):
            words.append(f"the activations' spread goes from {stds[0]:.2g} to {stds[-1]:.2g} across the layers; "
                         "a gain on the initial weights (5/3 for tanh) or BatchNorm keeps it even")
        grads = [s["grad_std"] for s in last["layers"].values() if s["grad_std"]]
        if len(grads) > 1 and max(grads) > 10 * min(grads):
            words.append(f"the gradients' spread differs {max(grads) / min(grads):.0f}x between layers (from "
                         f"{grads[0]:.2g} to {grads[-1]:.2g}): they vanish or explode; BatchNorm or a better "
                         "initialisation evens them")
        ratios = {n: w["update_ratio"] for n, w in last["weights"].items() if w["update_ratio"] > 0}
        for name, r in ratios.items():
            if r < 1e-4:
                words.append(f"{name}: updates are {r:.1e} of the weights (about 1e-3 is healthy): raise the "
                             "learning rate")
            elif r > 1e-2:
                words.append(f"{name}: updates are {r:.1e} of the weights (about 1e-3 is healthy): lower the "
                             "learning rate")
        return words or ["healthy: no saturated or dead units, even activations and gradients, updates near 1e-3 "
                         "of the weights"]

    def __repr__(self) -> str:
        if not self.history:
            return f"Health({len(self.layers)} layers, {len(self.weights)} weights, nothing recorded yet)"
        last = self.history[-1]
        rows = [f"step {last['step']}: layer            mean     std   saturated  grad std"]
        for name, s in last["layers"].items():
            sat = f"{s['saturated']:9.1%}" if "saturated" in s else "        -"
            gs = f"{s['grad_std']:9.2e}" if s["grad_std"] is not None else "        -"
            rows.append(f"  {name + ' (' + s['kind'] + ')':<22}{s['mean']:>7.3f} {s['std']:>7.3f} {sat}  {gs}")
        rows.append("  weight                 update/data   grad/data")
        for name, w in last["weights"].items():
            gd = f"{w['grad_to_data']:.2e}" if w["grad_to_data"] is not None else "-"
            rows.append(f"  {name:<22} {w['update_ratio']:>10.2e}   {gd}")
        return "\n".join(rows + ["verdict:"] + [f"  {v}" for v in self.verdict()])

    def plot(self, path: str | Path) -> Path:
        """A PNG: the last recorded step's activation and gradient histograms per layer, and every weight's
        update-to-data ratio over the recorded steps (log scale) with the 1e-3 guide line. Needs matplotlib."""
        if not self.history:
            raise ValueError("health.plot: nothing recorded yet: call health.step() after each optimiser step")
        import matplotlib
        matplotlib.use("Agg")  # a file, never a window
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        last = self.history[-1]
        for name, s in last["layers"].items():
            for ax, key in ((axes[0], "values"), (axes[1], "grads")):
                if s[key] is not None and s[key].size:
                    counts, edges = np.histogram(s[key], bins=50, density=True)
                    ax.plot((edges[:-1] + edges[1:]) / 2, counts, label=f"{name} ({s['kind']})")
        axes[0].set(title=f"activations at step {last['step']}", xlabel="value", ylabel="density")
        axes[1].set(title=f"their gradients at step {last['step']}", xlabel="gradient", ylabel="density")
        axes[1].ticklabel_format(style="sci", axis="x", scilimits=(-2, 2))
        steps = [h["step"] for h in self.history]
        for name, _ in self.weights:
            axes[2].semilogy(steps, [max(h["weights"][name]["update_ratio"], 1e-12) for h in self.history],
                             label=name)
        axes[2].axhline(1e-3, color="black", linestyle="--", linewidth=1, label="1e-3 (healthy)")
        axes[2].set(title="update / data per weight", xlabel="step", ylabel="std(update) / std(weight)")
        for ax in axes:
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        path = Path(path)
        fig.tight_layout()
        with _checks.atomic_file(path) as fh:  # whole or not at all
            fig.savefig(fh, format="png", dpi=100)
        plt.close(fig)
        return path


def _made_in(v: Value) -> tuple[Any, ...]:
    """The modules whose forward made v, outermost first (the kernel notes them while a Module's forward runs)."""
    return getattr(v, "_module", ())


def health(model: Module, every: int = 100) -> Health:
    """Start recording a model's health during training: see Health (call .step() after each optimiser step)."""
    return Health(model, every)
