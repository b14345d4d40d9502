"""Tensor-level functions with PyTorch's names (``import minigrad.functional as F``). NHWC."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from minigrad.ops import activation, conv, linalg, loss, pool
from minigrad.ops import shape as shape_ops
from minigrad.random import generator
from minigrad.tensor import Tensor, as_tensor

REDUCTIONS = ("mean", "sum", "none")


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """x (N,H,W,C), weight (KH,KW,C/groups,O), bias (O,) -> (N,OH,OW,O).

    ``padding``: an int, a pair, ``'valid'`` (0) or ``'same'`` (output size = input size,
    stride 1). OH = floor((H + 2P - D(KH - 1) - 1) / S) + 1. With ``groups`` G the channels
    split into G groups, each convolved with its own O/G filters (G = C: depthwise).
    """
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return conv.Conv2d.apply(*inputs, stride=stride, padding=padding, dilation=dilation,
                             groups=groups)


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """x (N,H,W,C_in), weight (KH,KW,C_out/groups,C_in), bias (C_out,) -> (N,HY,WY,C_out).

    HY = (H - 1) S - 2P + D (KH - 1) + output_padding + 1. The weight is PyTorch's
    (C_in, C_out/groups, KH, KW) transposed as conv2d's is: conv_transpose2d(g, w) is the
    input gradient of conv2d(x, w) (same w, same stride/padding/dilation/groups).
    """
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return conv.ConvTranspose2d.apply(*inputs, stride=stride, padding=padding,
                                      output_padding=output_padding, groups=groups,
                                      dilation=dilation)


def max_pool2d(x: Tensor, kernel_size, stride=None, padding: int = 0) -> Tensor:
    """x (N,H,W,C) -> (N,OH,OW,C); the gradient goes to the first maximum of each window."""
    return pool.MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding: int = 0) -> Tensor:
    """x (N,H,W,C) -> (N,OH,OW,C); zero padding counts in the average (PyTorch's default)."""
    return pool.AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x (..., in) @ weight (in, out) + bias (out,) -> (..., out)."""
    return linalg.Linear.apply(*((x, weight) if bias is None else (x, weight, bias)))


def relu(x: Tensor) -> Tensor:
    return activation.Relu.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return activation.LeakyRelu.apply(x, negative_slope=negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return activation.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return activation.Tanh.apply(x)


def softmax(x: Tensor, dim: int) -> Tensor:
    return activation.Softmax.apply(x, dim=dim)


def log_softmax(x: Tensor, dim: int) -> Tensor:
    return activation.LogSoftmax.apply(x, dim=dim)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p); identity in eval."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    keep = generator().random(x.shape) >= p
    return activation.Dropout.apply(x, keep, p=p)


def flatten(x: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim (NHWC order after a conv)."""
    return x.flatten(start_dim, end_dim)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding; ``pad`` lists (left, right) for the last dim, then the one before..."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    return shape_ops.Pad.apply(x, pad=tuple(int(p) for p in pad), value=value)


def _reduce(name: str, elementwise: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return elementwise.mean()
    if reduction == "sum":
        return elementwise.sum()
    if reduction == "none":
        return elementwise
    raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _float_target(input: Tensor, target) -> Tensor:
    target = as_tensor(target)
    return target if target.dtype == input.dtype else target.to(input.dtype)


def binary_cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """-(t log p + (1-t) log(1-p)); p must lie in [0, 1]; each log term is clamped at -100."""
    return _reduce("binary_cross_entropy", loss.BinaryCrossEntropy.apply(
        input, _float_target(input, target)), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """BCE on sigmoid(input), computed stably from the logits; ``pos_weight`` weighs positives."""
    weight = np.ones((), input.dtype) if pos_weight is None else _float_target(input, pos_weight)
    return _reduce("binary_cross_entropy_with_logits", loss.BinaryCrossEntropyWithLogits.apply(
        input, _float_target(input, target), weight), reduction)


def nll_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] for log-probabilities input (N, C) and integer target (N,)."""
    return _reduce("nll_loss", loss.NllLoss.apply(input, as_tensor(target)), reduction)


def cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """nll_loss(log_softmax(input, 1), target): logits (N, C), integer class target (N,)."""
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits (N, C), got shape {input.shape}")
    return nll_loss(log_softmax(input, dim=1), target, reduction)


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """(input - target)^2, same shapes."""
    return _reduce("mse_loss", loss.MseLoss.apply(input, _float_target(input, target)), reduction)
