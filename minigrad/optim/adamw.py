"""AdamW: Adam with decoupled weight decay, p *= 1 - lr*wd (PyTorch's AdamW is this Adam)."""
from __future__ import annotations

from typing import Iterable

from minigrad.optim.adam import Adam


class AdamW(Adam):
    """Adam whose weight decay shrinks the weights directly instead of entering the moments."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
