"""Tensor-level functions with PyTorch's names (``import minigrad.functional as F``). NHWC."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from minigrad.ops import activation, conv, linalg, loss, normalization, pool
from minigrad.ops import shape as shape_ops
from minigrad.random import generator
from minigrad.tensor import Tensor, as_tensor

REDUCTIONS = ("mean", "sum", "none")


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1) -> Tensor:
    """x (N,H,W,C), weight (KH,KW,C,O), bias (O,) -> (N,OH,OW,O).

    ``padding``: an int, a pair, ``'valid'`` (0) or ``'same'`` (output size = input size,
    stride 1). OH = floor((H + 2P - D(KH - 1) - 1) / S) + 1.
    """
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return conv.Conv2d.apply(*inputs, stride=stride, padding=padding, dilation=dilation)


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """x (N,H,W,C) -> (N,OH,OW,C), the maximum of each window (padding never wins);
    OH = floor((H + 2P - D(K-1) - 1) / S) + 1, ceil in ``ceil_mode`` (the last window must
    start inside the input or the left padding). The gradient goes to each window's first
    maximum, or to its last NaN (a NaN wins, as in PyTorch).

    ``return_indices=True`` also returns PyTorch's per-plane flat index h*W + w of each
    maximum, int64, shaped (N,OH,OW,C) like the output (what ``max_unpool2d`` takes); it is
    computed by a second scan of the windows, as an op has a single output.
    """
    attrs = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                 ceil_mode=ceil_mode)
    y = pool.MaxPool2d.apply(x, **attrs)
    return (y, as_tensor(pool.max_pool2d_indices(as_tensor(x).data, **attrs))) if return_indices else y


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """x (N,H,W,C) -> (N,OH,OW,C), each window's sum divided by ``divisor_override`` or by
    the window's size: with its zero padding (``count_include_pad``, PyTorch's default) or
    without. In ``ceil_mode`` the part of the last window past the padding never counts."""
    return pool.AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding,
                                ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                                divisor_override=divisor_override)


def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """x (N,H,W,C) -> (N,OH,OW,C): output row i averages input rows floor(i*H/OH) to
    ceil((i+1)*H/OH) - 1 (the same along W); ``output_size`` an int or a pair, None in a
    place keeps that input size."""
    return pool.AdaptiveAvgPool2d.apply(x, output_size=output_size)


def adaptive_max_pool2d(x: Tensor, output_size, return_indices: bool = False):
    """x (N,H,W,C) -> (N,OH,OW,C): the maximum over adaptive_avg_pool2d's windows (first
    maximum, a NaN wins); ``return_indices=True`` also returns the flat indices h*W + w
    (int64, (N,OH,OW,C)), from a second scan."""
    y = pool.AdaptiveMaxPool2d.apply(x, output_size=output_size)
    if not return_indices:
        return y
    return y, as_tensor(pool.adaptive_max_pool2d_indices(as_tensor(x).data, output_size=output_size))


def max_unpool2d(x: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """x, indices (N,H,W,C) -> (N,OH,OW,C) zeros with each x put at its index (h*OW + w):
    the inverse placement of ``max_pool2d(..., return_indices=True)``. OH = (H-1)S - 2P + K
    unless ``output_size`` ((OH, OW) or (N, OH, OW, C)) says otherwise."""
    return pool.MaxUnpool2d.apply(x, indices, kernel_size=kernel_size, stride=stride,
                                  padding=padding, output_size=output_size)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x (..., in) @ weight (in, out) + bias (out,) -> (..., out)."""
    return linalg.Linear.apply(*((x, weight) if bias is None else (x, weight, bias)))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise over every dim but the last (channels): NHWC (N, H, W, C) or (N, C).

    training=True uses the batch's statistics and, when running_mean and running_var are given,
    updates them in place: r = (1 - momentum) r + momentum s (the unbiased var for running_var).
    training=False uses running_mean and running_var. weight and bias default to 1 and 0.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input with at least 2 dims (N, ..., C), "
                         f"got shape {input.shape}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when not training")
    channels = input.shape[-1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for input "
                             f"{input.shape}, got {tuple(t.shape)}")
    weight = np.ones(channels, input.dtype) if weight is None else weight
    bias = np.zeros(channels, input.dtype) if bias is None else bias
    running = () if running_mean is None else (running_mean, running_var)
    return normalization.BatchNorm.apply(input, weight, bias, *running, training=training,
                                         momentum=momentum, eps=eps)


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
