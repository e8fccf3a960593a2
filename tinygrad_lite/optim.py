"""Optimisers: SGD (with momentum and weight decay), Adam, AdamW, RMSprop, learning-rate schedules (StepLR,
CosineLR), clip_grad_norm, and minimize() (scipy's BFGS and friends). Each update follows PyTorch's formula.

Scope: updating parameters' arrays in place from their gradients. Every gradient comes from
`backward()`; nothing here differentiates anything.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import _checks
from .value import Value, _whole, _write

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "StepLR", "CosineLR", "clip_grad_norm", "minimize"]


def _parameters(name: str, params: Any) -> list[Value]:
    """The parameters an optimiser, clip_grad_norm or minimize is given: a list of Values, never one Value
    (iterating over one would give its rows, copies that nothing updates)."""
    if isinstance(params, Value):
        raise TypeError(f"{name}: give a list of parameters (model.parameters(), or [w] for one Value w), "
                        f"got one Value of shape {params.shape}")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{name}: give a list of parameters (model.parameters(), or [w] for one Value w), "
                        f"got {type(params).__name__}") from None
    if not params:
        raise ValueError(f"{name}: got no parameters to optimise")
    for p in params:
        if not isinstance(p, Value):
            raise TypeError(f"{name}: parameters must be Values, got {type(p).__name__}")
    return params


class Optimizer:
    """Holds a list of parameters; `zero_grad()` clears their gradients, `step()` updates them."""

    lr: float  # every optimiser has a learning rate, which the schedules set

    def __init__(self, params: Iterable[Value]):
        self.params = _parameters(type(self).__name__, params)

    def zero_grad(self) -> None:
        """Clear every parameter's gradient (to None), before the next backward()."""
        for p in self.params:
            p.zero_grad()

    def _grads(self) -> Iterable[tuple[int, Value, np.ndarray]]:
        for i, p in enumerate(self.params):
            if p.grad is not None:  # a parameter the loss did not reach is left alone
                yield i, p, p.grad.data if isinstance(p.grad, Value) else p.grad

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        raise NotImplementedError


def _check(optimizer: str, **settings: float) -> None:
    """lr must be a finite number > 0; the others (momentum, weight_decay, eps) finite and >= 0."""
    for name, x in settings.items():
        _checks.number(optimizer, name, x, lo=0, lo_open=name == "lr")


class SGD(Optimizer):
    """Stochastic gradient descent: p -= lr * v, where v = momentum * v + (grad + weight_decay * p)
    (v = grad + weight_decay * p on the first step and whenever momentum is 0), as in PyTorch."""

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params)
        _check("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        for i, p, g in self._grads():
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                v = self.velocity[i]
                g = g if v is None else self.momentum * v + g
                self.velocity[i] = g
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba): moving averages of the gradient and its square, bias-corrected;
    p -= lr * m_hat / (sqrt(v_hat) + eps)."""

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        super().__init__(params)
        _check(type(self).__name__, lr=lr, eps=eps)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2
                and all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), such as (0.9, 0.999); "
                             f"got {betas!r}")
        self.lr, self.betas, self.eps = lr, betas, eps
        self.t = [0] * len(self.params)  # steps taken by each parameter (one whose gradient was None skipped one)
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        b1, b2 = self.betas
        for i, p, g in self._grads():
            self.t[i] += 1  # counted per parameter, as PyTorch's state["step"]
            t = self.t[i]
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            m_hat = self.m[i] / (1 - b1 ** t)
            v_hat = self.v[i] / (1 - b2 ** t)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p -= lr * weight_decay * p, then the Adam step
    on the gradient alone, as PyTorch's AdamW."""

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps)
        _check("AdamW", weight_decay=weight_decay)
        self.weight_decay = weight_decay

    def step(self) -> None:
        for _, p, _ in self._grads():
            p.data -= self.lr * self.weight_decay * p.data
        super().step()


class RMSprop(Optimizer):
    """RMSprop (Hinton): v = alpha v + (1 - alpha) g^2, p -= lr g / (sqrt(v) + eps), where g includes
    weight_decay * p, as PyTorch's RMSprop (without momentum or centering)."""

    def __init__(self, params: Iterable[Value], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params)
        _check("RMSprop", lr=lr, eps=eps, weight_decay=weight_decay)
        _checks.number("RMSprop", "alpha", alpha, lo=0, hi=1, hi_open=True)
        self.lr, self.alpha, self.eps, self.weight_decay = lr, alpha, eps, weight_decay
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        for i, p, g in self._grads():
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            self.v[i] = self.alpha * self.v[i] + (1 - self.alpha) * g * g
            p.data -= self.lr * g / (np.sqrt(self.v[i]) + self.eps)


class _Schedule:
    """A learning-rate schedule: step() once per epoch, after the optimiser's steps, sets the optimiser's lr
    to rate(epoch), from the lr it had when the schedule was made."""

    def __init__(self, optimizer: Any):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: give the optimiser whose learning rate to schedule (such as "
                            f"tl.optim.SGD(...)), got {_checks.describe(optimizer)}")
        self.optimizer, self.base_lr, self.epoch = optimizer, optimizer.lr, 0

    def rate(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        self.epoch += 1
        self.optimizer.lr = self.rate(self.epoch)


class StepLR(_Schedule):
    """Multiply the optimiser's learning rate by gamma every step_size epochs: call step() once per epoch,
    after the optimiser's steps. lr = initial lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self.step_size = _whole("StepLR", "step_size", step_size)
        self.gamma = _checks.number("StepLR", "gamma", gamma, lo=0)

    def rate(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineLR(_Schedule):
    """Lower the learning rate along half a cosine from its initial value to eta_min over T_max epochs:
    lr = eta_min + (initial lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 (PyTorch's CosineAnnealingLR).
    Call step() once per epoch."""

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        self.T_max = _whole("CosineLR", "T_max", T_max)
        self.eta_min = _checks.number("CosineLR", "eta_min", eta_min, lo=0)

    def rate(self, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine


def clip_grad_norm(params: Iterable[Value], max_norm: float) -> float:
    """Scale the gradients of params together so that their overall norm, sqrt(sum of every squared number),
    is at most max_norm; returns the norm they had (as PyTorch's ``clip_grad_norm_``). Call after backward().
    params: a list of Values (one Value w is given as [w], as to the optimisers)."""
    if not (isinstance(max_norm, numbers.Real) and max_norm > 0):
        raise ValueError(f"clip_grad_norm: max_norm must be a number above 0, got {max_norm!r}")
    params = [p for p in _parameters("clip_grad_norm", params) if p.grad is not None]
    grads = [p.grad.data if isinstance(p.grad, Value) else p.grad for p in params]
    total = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))
    scale = max_norm / (total + 1e-6)
    if not scale >= 1:  # a NaN norm makes every gradient NaN, as in PyTorch (never a silent no-op)
        for p in params:
            p.grad = p.grad * scale
    return total


def minimize(params: Iterable[Value], loss_fn: Callable[[], Value], method: str = "BFGS", maxiter: int = 200,
             callback: Callable[[int, float], Any] | None = None, **options: Any) -> Any:
    """Minimise `loss_fn()` over `params` with scipy.optimize.minimize (BFGS by default), using the engine's
    gradients (jac=True: cost and gradient in one call).

    The parameters are flattened in order into one vector, and the best point is written back into them.
    `callback(iteration, cost)` is called after each iteration. Returns scipy's OptimizeResult, with
    `history`: the cost at the start and after each iteration. Extra keywords go to scipy's `options`.
    """
    try:
        import scipy.optimize
    except ImportError:
        raise ImportError('minimize needs scipy: pip install "tinygrad-lite[optim]" (or pip install scipy)') from None
    params = _parameters("minimize", params)
    sizes = [p.size for p in params]
    splits = np.cumsum(sizes)[:-1]

    def load(x: np.ndarray) -> None:
        for p, chunk in zip(params, np.split(x, splits)):
            _write(p, chunk.reshape(p.shape))

    evaluated: dict[bytes, float] = {}

    def cost_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        load(x)
        for p in params:
            p.zero_grad()
        loss = loss_fn()
        if not isinstance(loss, Value) or loss.size != 1:
            raise TypeError("minimize: loss_fn must return a scalar Value")
        loss.backward()
        grad = np.concatenate([np.zeros(p.size) if p.grad is None else np.ravel(p.grad) for p in params])
        evaluated.clear()  # scipy reports an iteration at the point it evaluated last
        evaluated[x.tobytes()] = loss.item()
        return loss.item(), grad.astype(np.float64)

    x0 = np.concatenate([p.data.ravel() for p in params]).astype(np.float64)
    history = [cost_and_grad(x0)[0]]

    def on_iteration(xk: np.ndarray) -> None:
        cost = evaluated.get(xk.tobytes())
        history.append(cost if cost is not None else cost_and_grad(xk)[0])
        if callback is not None:
            callback(len(history) - 1, history[-1])

    result = scipy.optimize.minimize(cost_and_grad, x0, jac=True, method=method, callback=on_iteration,
                                     options={"maxiter": maxiter, **options})
    load(result.x)
    result.history = history
    return result
