"""Record PyTorch's parameter trajectories for the optimisers, learning-rate schedules and gradient clipping
that tinygrad_lite mirrors, on one fixed problem.

    .venv-peers/bin/python tools/pytorch_optimisers.py > tests/data/pytorch_optimisers.json

The problem: w starts at W0 and the loss is sum(C * w^2 + w), so the gradient is 2 C w + 1; a second parameter
u (starting at U0) adds sum(u^2 * w[0]) on every step but those in SKIP, where its gradient is None (the loss did
not reach it): an optimiser must count its steps per parameter, as PyTorch does. On step NAN_STEP a third
parameter z gets a NaN gradient (z * nan): it turns NaN, and the others go on as before. 20 steps. Not collected
by pytest and never run in CI (PyTorch is not a test dependency); tests/test_optim.py reads the file.
"""

import json
import math
import sys

import torch

W0, C, STEPS = [1.0, -2.0, 3.0], [0.5, 2.0, 1.5], 20
U0, Z0, SKIP, NAN_STEP = [0.7, -0.4], [0.25], (1, 2, 5, 11, 12), 7

OPTIMISERS = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.05),
    "SGD_momentum_weight_decay": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.1),
    "Adam": lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.9, 0.99), eps=1e-8),
    "RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8),
    "RMSprop_weight_decay": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1),
    "AdamW": lambda p: torch.optim.AdamW(p, lr=0.1, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.05),
    "StepLR": lambda p: torch.optim.SGD(p, lr=0.1),
    "CosineLR": lambda p: torch.optim.SGD(p, lr=0.1),
    # parameter groups: w decays, u and z do not and have their own lr (a GPT's decay / no-decay split)
    "AdamW_groups": lambda p: torch.optim.AdamW([{"params": p[:1], "weight_decay": 0.1},
                                                 {"params": p[1:], "weight_decay": 0.0, "lr": 0.05}],
                                                lr=0.1, betas=(0.9, 0.99), eps=1e-8),
    "SGD_groups": lambda p: torch.optim.SGD([{"params": p[:1]}, {"params": p[1:], "momentum": 0.5}], lr=0.05),
    "WarmupCosineLR": lambda p: torch.optim.AdamW(p, lr=0.1, betas=(0.9, 0.99), weight_decay=0.0),
}


def warmup_cosine(step, warmup=3, total=12, lr=0.1, min_lr=0.01):
    """nanoGPT's get_lr (train.py), as a factor of the base lr for LambdaLR."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    if step >= total:
        return min_lr / lr
    return (min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))) / lr

SCHEDULES = {"StepLR": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
             "CosineLR": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
             "WarmupCosineLR": lambda o: torch.optim.lr_scheduler.LambdaLR(o, warmup_cosine)}


def trajectory(name):
    w = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    u = torch.tensor(U0, dtype=torch.float64, requires_grad=True)
    z = torch.tensor(Z0, dtype=torch.float64, requires_grad=True)
    c = torch.tensor(C, dtype=torch.float64)
    opt = OPTIMISERS[name]([w, u, z])
    schedule = SCHEDULES[name](opt) if name in SCHEDULES else None
    out, rates = [], []
    for step in range(STEPS):
        opt.zero_grad()
        loss = (c * w * w + w).sum() + (z * z).sum()
        if step not in SKIP:
            loss = loss + (u * u).sum() * w[0]
        if step == NAN_STEP:
            loss = loss + (z * float("nan")).sum()
        loss.backward()
        opt.step()
        rates.append([g["lr"] for g in opt.param_groups])
        if schedule is not None:
            schedule.step()
        out.append([w.detach().tolist(), u.detach().tolist(), z.detach().tolist()])
    return {"weights": out, "lr_used": rates}


def clipping():
    w = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    v = torch.tensor([[0.5, -0.5]], dtype=torch.float64, requires_grad=True)
    ((torch.tensor(C, dtype=torch.float64) * w * w).sum() + (v * 3).sum()).backward()
    norm = torch.nn.utils.clip_grad_norm_([w, v], max_norm=2.0)
    return {"total_norm": float(norm), "w_grad": w.grad.tolist(), "v_grad": v.grad.tolist()}


if __name__ == "__main__":
    json.dump({"torch": torch.__version__, "problem": {"w0": W0, "c": C, "u0": U0, "z0": Z0, "skip": SKIP,
                                                       "nan_step": NAN_STEP},
               "trajectories": {name: trajectory(name) for name in OPTIMISERS}, "clip_grad_norm": clipping()},
              sys.stdout, indent=1)
    print()
