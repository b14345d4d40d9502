"""Loss modules: thin wrappers over ``minigrad.functional`` with a fixed reduction."""
from __future__ import annotations

import minigrad.functional as F
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in F.REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {F.REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities in [0, 1]."""

    def forward(self, input: Tensor, target) -> Tensor:
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (sigmoid folded in, numerically stable)."""

    def __init__(self, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(reduction)
        self.pos_weight = pos_weight

    def forward(self, input: Tensor, target) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction, self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy: logits (N, C), integer class targets (N,)."""

    def forward(self, input: Tensor, target) -> Tensor:
        return F.cross_entropy(input, target, self.reduction)


class MSELoss(_Loss):
    """Mean squared error."""

    def forward(self, input: Tensor, target) -> Tensor:
        return F.mse_loss(input, target, self.reduction)
