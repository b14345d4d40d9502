"""RMSprop: PyTorch's update rule, with momentum and the centered variant."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from minigrad.optim.optimizer import Optimizer, add_weight_decay


class RMSprop(Optimizer):
    """g += wd*p; v = alpha v + (1-alpha) g^2; avg = sqrt(v - gbar^2) with gbar = lerp(gbar, g, 1-alpha)
    if centered else sqrt(v); avg += eps; buf = mu buf + g/avg, p -= lr*buf if momentum
    else p -= lr * g/avg."""

    PARAM_STATE = ("square_avg", "momentum_buffer", "grad_avg")
    SCALAR_STATE = ("step",)

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, maximize=maximize))

    def init_state(self, param: np.ndarray, group: dict) -> dict:
        state = dict(step=0.0, square_avg=np.zeros_like(param))
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        alpha = group["alpha"]
        state["step"] += 1
        grad = add_weight_decay(grad, param, group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (grad - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * (grad / avg)
