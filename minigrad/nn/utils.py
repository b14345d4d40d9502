"""Gradient clipping, in place on ``.grad``, as ``torch.nn.utils``."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from minigrad.tensor import Tensor


def _with_grads(parameters: Iterable[Tensor] | Tensor) -> list[Tensor]:
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together so their joint norm is at most ``max_norm``; return the norm before."""
    grads = [p.grad.data for p in _with_grads(parameters)]
    if not grads:
        return 0.0
    if norm_type == float("inf"):
        total = max(float(np.abs(g).max()) for g in grads)
    else:
        total = float(sum(float((np.abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type))
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g *= scale
    return total


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value]."""
    for p in _with_grads(parameters):
        np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
