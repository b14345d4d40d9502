"""Adagrad: PyTorch's update rule, with learning-rate decay."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from minigrad.optim.optimizer import Optimizer, add_weight_decay


class Adagrad(Optimizer):
    """t += 1; g += wd*p; clr = lr / (1 + (t-1) lr_decay); sum += g^2; p -= clr * g / (sqrt(sum) + eps).

    As in PyTorch, every parameter's state (step 0, sum = initial_accumulator_value) exists
    from construction on, so ``state_dict()`` lists it before the first step.
    """

    PARAM_STATE = ("sum",)
    SCALAR_STATE = ("step",)

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self.init_state(p.data, group)

    def init_state(self, param: np.ndarray, group: dict) -> dict:
        return dict(step=0.0, sum=np.full_like(param, group["initial_accumulator_value"]))

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        state["step"] += 1
        grad = add_weight_decay(grad, param, group["weight_decay"])
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        param -= clr * (grad / (np.sqrt(state["sum"]) + group["eps"]))
