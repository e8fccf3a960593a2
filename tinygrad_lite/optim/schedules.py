"""Learning-rate schedules: StepLR, CosineLR and WarmupCosineLR, each setting every parameter group's lr from the
step count, as PyTorch's lr_scheduler."""

from __future__ import annotations

import math
from typing import Any

from .. import _checks


class _Schedule:
    """A learning-rate schedule: step() once per epoch (or per step, as the schedule says), after the optimiser's
    steps, sets each group's lr to rate(count, the lr the group had when the schedule was made)."""

    def __init__(self, optimizer: Any):
        if not isinstance(getattr(optimizer, "param_groups", None), list):  # an Optimizer (its groups)
            raise TypeError(f"{type(self).__name__}: give the optimiser whose learning rate to schedule (such as "
                            f"tl.optim.SGD(...)), got {_checks.describe(optimizer)}")
        self.optimizer, self.epoch = optimizer, 0
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]

    def rate(self, epoch: int, base: float) -> float:
        raise NotImplementedError

    def _set(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.rate(self.epoch, base)

    def step(self) -> None:
        self.epoch += 1
        self._set()

    def state_dict(self) -> dict[str, Any]:
        """The count of steps taken and the initial learning rates: load_state_dict() resumes from them."""
        return {"epoch": self.epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from what state_dict() gave: the count of steps and the initial rates; the lrs are set again."""
        if not (isinstance(state, dict) and len(state.get("base_lrs", ())) == len(self.base_lrs)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: give what state_dict() returned for a schedule "
                             f"of an optimiser with {len(self.base_lrs)} groups")
        self.epoch = _checks.whole(type(self).__name__, "epoch", state["epoch"], least=0)
        self.base_lrs = [float(b) for b in state["base_lrs"]]
        self._set()


class StepLR(_Schedule):
    """Multiply the optimiser's learning rate by gamma every step_size epochs: call step() once per epoch,
    after the optimiser's steps. lr = initial lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self.step_size = _checks.whole("StepLR", "step_size", step_size)
        self.gamma = _checks.number("StepLR", "gamma", gamma, lo=0)

    def rate(self, epoch: int, base: float) -> float:
        return base * self.gamma ** (epoch // self.step_size)


class CosineLR(_Schedule):
    """Lower the learning rate along half a cosine from its initial value to eta_min over T_max epochs:
    lr = eta_min + (initial lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 (PyTorch's CosineAnnealingLR).
    Call step() once per epoch."""

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        self.T_max = _checks.whole("CosineLR", "T_max", T_max)
        self.eta_min = _checks.number("CosineLR", "eta_min", eta_min, lo=0)

    def rate(self, epoch: int, base: float) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base - self.eta_min) * cosine


class WarmupCosineLR(_Schedule):
    """A GPT's schedule (nanoGPT's get_lr): for the first `warmup` steps the learning rate climbs linearly,
    lr * (step + 1) / (warmup + 1); then it falls along half a cosine to min_lr at step `total`, and stays there.
    Call step() once per optimiser step; the optimiser's lr is set for step 0 when the schedule is made."""

    def __init__(self, optimizer: Any, warmup: int, total: int, min_lr: float = 0.0):
        super().__init__(optimizer)
        self.warmup = _checks.whole("WarmupCosineLR", "warmup", warmup, least=0)
        self.total = _checks.whole("WarmupCosineLR", "total", total)
        if self.total <= self.warmup:
            raise ValueError(f"WarmupCosineLR: total ({total}) must be more than warmup ({warmup})")
        self.min_lr = _checks.number("WarmupCosineLR", "min_lr", min_lr, lo=0)
        self._set()

    def rate(self, step: int, base: float) -> float:
        if step < self.warmup:
            return base * (step + 1) / (self.warmup + 1)
        if step >= self.total:
            return self.min_lr
        cosine = (1 + math.cos(math.pi * (step - self.warmup) / (self.total - self.warmup))) / 2
        return self.min_lr + (base - self.min_lr) * cosine
