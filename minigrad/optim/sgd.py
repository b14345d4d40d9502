"""SGD with momentum, dampening, Nesterov and weight decay: PyTorch's update rule."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from minigrad.optim.optimizer import Optimizer, add_weight_decay


class SGD(Optimizer):
    """g += wd*p; buf = g (first step) else mu*buf + (1-dampening)*g;
    g = g + mu*buf if nesterov else buf; p -= lr*g (g negated first when ``maximize``)."""

    PARAM_STATE = ("momentum_buffer",)

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def check_hyperparameters(self, group: dict) -> None:
        super().check_hyperparameters(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum and zero dampening, got momentum="
                             f"{group['momentum']} and dampening={group['dampening']}")

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        grad = add_weight_decay(grad, param, group["weight_decay"])
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
        param -= group["lr"] * grad
