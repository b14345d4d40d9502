"""Adam: PyTorch's update rule (bias-corrected moments, eps outside the square root, amsgrad)."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from minigrad.optim.optimizer import Optimizer, add_weight_decay


class Adam(Optimizer):
    """t += 1; m = lerp(m, g, 1-b1); v = b2 v + (1-b2) g^2; v_max = max(v_max, v) if amsgrad;
    p -= lr / (1 - b1^t) * m / (sqrt(v or v_max) / sqrt(1 - b2^t) + eps).

    Weight decay adds wd*p to g, or with ``decoupled_weight_decay`` (AdamW) scales
    p *= 1 - lr*wd before the update.
    """

    PARAM_STATE = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    SCALAR_STATE = ("step",)

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    def init_state(self, param: np.ndarray, group: dict) -> dict:
        state = dict(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        state["step"] += 1
        if group["decoupled_weight_decay"]:
            param *= 1 - lr * weight_decay
        else:
            grad = add_weight_decay(grad, param, weight_decay)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (grad - m)
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        step_size = lr / (1 - beta1 ** state["step"])
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** state["step"]) + group["eps"]
        param -= step_size * (m / denom)
