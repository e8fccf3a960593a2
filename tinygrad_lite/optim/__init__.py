"""Optimisers: SGD (with momentum and weight decay), Adam, AdamW, RMSprop, with PyTorch's parameter groups and
state_dict; learning-rate schedules (StepLR, CosineLR, WarmupCosineLR), clip_grad_norm, and minimize() (scipy's
BFGS and friends). Each update follows PyTorch's formula.

Scope: updating parameters' arrays in place from their gradients. Every gradient comes from
`backward()`; nothing here differentiates anything.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .. import _checks
from ..value import Value, _write
from .schedules import CosineLR, StepLR, WarmupCosineLR  # noqa: F401  (tl.optim.StepLR, ...)

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "StepLR", "CosineLR", "WarmupCosineLR", "clip_grad_norm",
           "minimize"]


def _parameters(name: str, params: Any) -> list[Value]:
    """The parameters an optimiser, clip_grad_norm or minimize is given: a list of Values, never one Value
    (iterating over one would give its rows, copies that nothing updates)."""
    if isinstance(params, Value):
        raise TypeError(f"{name}: give a list of parameters (model.parameters(), or [w] for one Value w), "
                        f"got one Value of shape {params.shape}")
    if callable(getattr(params, "parameters", None)):  # a model itself, as optim.SGD(model)
        raise TypeError(f"{name}: give the model's parameters, {name}(model.parameters(), ...), not the model "
                        f"({type(params).__name__}) itself")
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


def _groups(name: str, params: Any, defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """The parameter groups: one of every parameter with the defaults, or the user's groups (dicts with "params"
    and any settings that differ from the defaults), as PyTorch's. A parameter in two groups is an error."""
    items = list(params) if isinstance(params, (list, tuple)) else None
    if not items or not all(isinstance(g, dict) for g in items):
        return [{"params": _parameters(name, params), **defaults}]
    groups: list[dict[str, Any]] = []
    seen: set[int] = set()
    for k, group in enumerate(items):
        if "params" not in group:
            raise ValueError(f"{name}: parameter group {k} has no 'params' (give {{'params': [...], ...}})")
        unknown = group.keys() - defaults.keys() - {"params"}
        if unknown:
            raise TypeError(f"{name}: parameter group {k} sets {sorted(unknown)}; {name} takes "
                            f"{sorted(defaults)}")
        members = _parameters(f"{name}: parameter group {k}", group["params"])
        if any(id(p) in seen for p in members):
            raise ValueError(f"{name}: a parameter is in more than one group (group {k}); give each once")
        seen.update(id(p) for p in members)
        groups.append({**defaults, **group, "params": members})
    return groups


class Optimizer:
    """Holds parameter groups; `zero_grad()` clears the gradients, `step()` updates the parameters.

    params: a list of Values, or a list of groups as PyTorch's, each a dict with "params" and the settings that
    differ for it: `AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
    lr=3e-4)`. `state_dict()` and `load_state_dict()` save and restore the settings and every parameter's state
    (step counts, moving averages), so that training resumes exactly where it stopped.
    """

    defaults: dict[str, Any]

    def __init__(self, params: Any, **defaults: Any):
        name = type(self).__name__
        self.defaults = defaults
        self.param_groups = _groups(name, params, defaults)
        for group in self.param_groups:
            self._check(**{k: v for k, v in group.items() if k != "params"})
        self.state: dict[int, dict[str, Any]] = {}  # by the parameter's position in self.params

    @property
    def params(self) -> list[Value]:
        """Every parameter, group after group."""
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = value

    def _check(self, **settings: Any) -> None:
        """lr must be a finite number > 0; the others (momentum, weight_decay, eps) finite and >= 0."""
        for name, x in settings.items():
            _checks.number(type(self).__name__, name, x, lo=0, lo_open=name == "lr")

    def zero_grad(self) -> None:
        """Clear every parameter's gradient (to None), before the next backward()."""
        for p in self.params:
            p.zero_grad()

    def _grads(self) -> Iterator[tuple[dict[str, Any], dict[str, Any], Value, np.ndarray]]:
        """(group, the parameter's state, parameter, gradient) for each parameter with a gradient (one the loss
        did not reach is left alone)."""
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    g, state = p.grad.data if isinstance(p.grad, Value) else p.grad, self.state.setdefault(i, {})
                    if g.shape != p.shape or (state and any(type(v) is np.ndarray and v.shape != p.shape
                                                            for v in state.values())):
                        raise self._resized(i, p.shape, {".grad": g, **state})
                    yield group, state, p, g
                i += 1

    def _resized(self, i: int, shape: tuple[int, ...], arrays: dict[str, Any]) -> ValueError:
        """The error for parameter i, whose data changed shape since its .grad or its state was made."""
        k, v = next((k, v) for k, v in arrays.items() if type(v) is np.ndarray and v.shape != shape)
        return ValueError(f"{type(self).__name__}.step: parameter {i} has shape {shape}, but its {k} has shape "
                          f"{v.shape} (its data changed shape): make a new optimiser for the new shapes")

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Copies of the settings of each group (its parameters as positions) and of each parameter's state, in
        PyTorch's layout: {"state": {0: {"step": 3, "exp_avg": array, ...}}, "param_groups": [{"lr": ...,
        "params": [0, 1]}]}."""
        groups, i = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": list(range(i, i + n))})
            i += n
        state = {i: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()}
                 for i, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what state_dict() gave, all or nothing: the groups, their sizes, the settings and every array's
        shape are checked before anything is changed (ValueError otherwise)."""
        name = type(self).__name__
        try:
            groups, states = list(state_dict["param_groups"]), dict(state_dict["state"])
        except (TypeError, KeyError):
            raise ValueError(f"{name}.load_state_dict: give what state_dict() returned (a dict with 'state' and "
                             "'param_groups')") from None
        sizes = [len(g["params"]) for g in self.param_groups]
        if [len(g.get("params", ())) for g in groups] != sizes:
            given = [len(g.get("params", ())) for g in groups]
            raise ValueError(f"{name}.load_state_dict: the state has groups of {given} parameters, this optimiser "
                             f"{sizes}")
        params = self.params
        for g in groups:
            if g.keys() - {"params"} != self.defaults.keys():
                raise ValueError(f"{name}.load_state_dict: a group has settings {sorted(g.keys() - {'params'})}, "
                                 f"{name} takes {sorted(self.defaults)}")
            self._check(**{k: v for k, v in g.items() if k != "params"})
        new: dict[int, dict[str, Any]] = {}
        for i, s in states.items():
            if not (isinstance(i, (int, np.integer)) and 0 <= i < len(params)):
                raise ValueError(f"{name}.load_state_dict: the state names parameter {i!r}, which does not exist")
            new[int(i)] = {}
            for k, v in s.items():
                if isinstance(v, np.ndarray) and v.shape != params[i].shape:
                    raise ValueError(f"{name}.load_state_dict: {k} of parameter {i} has shape {v.shape}, the "
                                     f"parameter {params[i].shape}")
                new[int(i)][k] = v.astype(params[i].dtype) if isinstance(v, np.ndarray) else v
        for group, g in zip(self.param_groups, groups):
            group.update({k: v for k, v in g.items() if k != "params"})
        self.state = new


class SGD(Optimizer):
    """Stochastic gradient descent: p -= lr * v, where v = momentum * v + (grad + weight_decay * p)
    (v = grad + weight_decay * p on the first step and whenever momentum is 0), as in PyTorch."""

    def __init__(self, params: Any, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)

    def step(self) -> None:
        for group, state, p, g in self._grads():
            if group["weight_decay"]:
                g = g + group["weight_decay"] * p.data
            if group["momentum"]:
                v = state.get("momentum_buffer")
                g = g if v is None else group["momentum"] * v + g
                state["momentum_buffer"] = g
            p.data -= group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba): moving averages of the gradient and its square, bias-corrected;
    p -= lr * m_hat / (sqrt(v_hat) + eps). The step count is each parameter's own (PyTorch's state["step"])."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        super().__init__(params, lr=lr, betas=betas, eps=eps)

    def _check(self, betas: Any = (0.9, 0.999), **settings: Any) -> None:
        super()._check(**settings)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2
                and all(isinstance(b, numbers.Real) and 0 <= float(b) < 1 for b in betas)):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), such as (0.9, 0.999); "
                             f"got {betas!r}")

    def step(self) -> None:
        for group, state, p, g in self._grads():
            b1, b2 = group["betas"]
            if not state:
                state.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
            state["step"] += 1
            t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            step_size = group["lr"] / (1 - b1 ** t)  # PyTorch's order of operations, bias corrections apart
            update = np.sqrt(v)  # one array, made into step_size * m / (sqrt(v_hat) + eps) in place
            update /= math.sqrt(1 - b2 ** t)
            update += group["eps"]
            np.divide(m, update, out=update)
            update *= step_size
            p.data -= update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p -= lr * weight_decay * p, then the Adam step
    on the gradient alone, as PyTorch's AdamW. Give biases and norms a group with weight_decay 0 (see
    Optimizer)."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2):
        Optimizer.__init__(self, params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def step(self) -> None:
        for group, _, p, _ in self._grads():
            if group["weight_decay"]:
                p.data *= 1 - group["lr"] * group["weight_decay"]  # PyTorch's p.mul_(1 - lr * weight_decay)
        super().step()


class RMSprop(Optimizer):
    """RMSprop (Hinton): v = alpha v + (1 - alpha) g^2, p -= lr g / (sqrt(v) + eps), where g includes
    weight_decay * p, as PyTorch's RMSprop (without momentum or centering)."""

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)

    def _check(self, alpha: float = 0.99, **settings: Any) -> None:
        super()._check(**settings)
        _checks.number("RMSprop", "alpha", alpha, lo=0, hi=1, hi_open=True)

    def step(self) -> None:
        for group, state, p, g in self._grads():
            if group["weight_decay"]:
                g = g + group["weight_decay"] * p.data
            v = state.setdefault("square_avg", np.zeros_like(p.data))
            v *= group["alpha"]
            v += (1 - group["alpha"]) * g * g
            p.data -= group["lr"] * g / (np.sqrt(v) + group["eps"])


def clip_grad_norm(params: Iterable[Value], max_norm: float) -> float:
    """Scale the gradients of params together so that their overall norm, sqrt(sum of every squared number),
    is at most max_norm; returns the norm they had (as PyTorch's ``clip_grad_norm_``). Call after backward().
    params: a list of Values (one Value w is given as [w], as to the optimisers)."""
    if not (isinstance(max_norm, numbers.Real) and max_norm > 0):
        raise ValueError(f"clip_grad_norm: max_norm must be a number above 0, got {max_norm!r}")
    params = [p for p in _parameters("clip_grad_norm", params) if p.grad is not None]
    grads = [p.grad.data if isinstance(p.grad, Value) else p.grad for p in params]
    total = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))
    scale = float(max_norm) / (total + 1e-6)  # a Python float: a float32 gradient stays float32
    if not scale >= 1:  # a NaN norm makes every gradient NaN, as in PyTorch (never a silent no-op)
        for p in params:
            p.grad = p.grad * scale
    return total


MINIMIZE_METHODS = ("BFGS", "L-BFGS-B", "CG", "Newton-CG", "SLSQP")  # scipy's, with a gradient and no Hessian


def minimize(params: Iterable[Value], loss_fn: Callable[[], Value], method: str = "BFGS", maxiter: int = 200,
             callback: Callable[[int, float], Any] | None = None, **options: Any) -> Any:
    """Minimise `loss_fn()` over `params` with scipy.optimize.minimize (BFGS by default), using the engine's
    gradients (jac=True: cost and gradient in one call).

    The parameters are flattened in order into one vector, and the best point is written back into them.
    `callback(iteration, cost)` is called after each iteration. Returns scipy's OptimizeResult, with
    `history`: the cost at the start and after each iteration. Extra keywords go to scipy's `options`.
    method: one of MINIMIZE_METHODS (scipy's that use a gradient and need no Hessian).
    """
    known = {m.lower(): m for m in MINIMIZE_METHODS}
    if not isinstance(method, str) or method.lower() not in known:
        raise ValueError(f"minimize: method must be one of {', '.join(MINIMIZE_METHODS)} (scipy's methods that use "
                         f"the gradient and need no Hessian), got {method!r}")
    method = known[method.lower()]
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


def __getattr__(name: str) -> object:  # PyTorch's names (optim.lr_scheduler), answered with ours
    from ..pytorch_names import missing
    raise missing("tl.optim", "tinygrad_lite.optim", name) if not name.startswith("_") else AttributeError(name)
