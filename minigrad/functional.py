"""Tensor-level functions with PyTorch's names (``import minigrad.functional as F``). NHWC."""
from __future__ import annotations

from typing import Sequence

from minigrad.ops import shape as shape_ops
from minigrad.tensor import Tensor


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding; ``pad`` lists (left, right) for the last dim, then the one before..."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    return shape_ops.Pad.apply(x, pad=tuple(int(p) for p in pad), value=value)
