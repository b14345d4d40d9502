"""SGD with momentum, dampening, Nesterov and weight decay: PyTorch's update rule."""
from __future__ import annotations

import numpy as np

from minigrad.optim.optimizer import Optimizer


class SGD(Optimizer):
    """g += wd*p; buf = g (first step) else mu*buf + (1-dampening)*g;
    g = g + mu*buf if nesterov else buf; p -= lr*g."""

    def __init__(self, params, lr: float, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def check_hyperparameters(self, group: dict) -> None:
        super().check_hyperparameters(group)
        if group["momentum"] < 0:
            raise ValueError(f"SGD: invalid momentum {group['momentum']} (must be >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")

    def update(self, p, grad: np.ndarray, state: dict, group: dict) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        mu = group["momentum"]
        if mu:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf = state["momentum_buffer"]
                buf *= mu
                buf += (1 - group["dampening"]) * grad
            buf = state["momentum_buffer"]
            grad = grad + mu * buf if group["nesterov"] else buf
        p.data -= group["lr"] * grad
