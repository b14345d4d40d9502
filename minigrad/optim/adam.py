"""Adam: PyTorch's update rule (bias-corrected moments, eps outside the square root)."""
from __future__ import annotations

import math

import numpy as np

from minigrad.optim.optimizer import Optimizer


class Adam(Optimizer):
    """m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps); weight decay adds wd*p to g."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def check_hyperparameters(self, group: dict) -> None:
        super().check_hyperparameters(group)
        if not all(0 <= b < 1 for b in group["betas"]):
            raise ValueError(f"Adam: invalid betas {group['betas']} (each must be in [0, 1))")
        if group["eps"] < 0:
            raise ValueError(f"Adam: invalid eps {group['eps']} (must be >= 0)")

    def update(self, p, grad: np.ndarray, state: dict, group: dict) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
        beta1, beta2 = group["betas"]
        state["step"] += 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        step_size = group["lr"] / (1 - beta1 ** state["step"])
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** state["step"]) + group["eps"]
        p.data -= step_size * (m / denom)
