"""Tensor-level functions with PyTorch's names (``import minigrad.functional as F``). NHWC."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from minigrad.ops import activation, conv, linalg, loss, nonlinearity, pool
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


def max_pool2d(x: Tensor, kernel_size, stride=None, padding: int = 0) -> Tensor:
    """x (N,H,W,C) -> (N,OH,OW,C); the gradient goes to the first maximum of each window."""
    return pool.MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding: int = 0) -> Tensor:
    """x (N,H,W,C) -> (N,OH,OW,C); zero padding counts in the average (PyTorch's default)."""
    return pool.AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x (..., in) @ weight (in, out) + bias (out,) -> (..., out)."""
    return linalg.Linear.apply(*((x, weight) if bias is None else (x, weight, bias)))


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    return activation.Relu.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
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


# ----- activations beyond relu/sigmoid/tanh (ops/nonlinearity.py) ------------------------
# ``inplace=True`` is accepted for code copied from PyTorch; the result is a new tensor and
# the input is left as it was (docs/from_pytorch.md).

def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) (exact, erf) or its tanh approximation (``approximate='tanh'``)."""
    return nonlinearity.Gelu.apply(x, approximate=approximate)


def elu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha (e^x - 1)."""
    return nonlinearity.Elu.apply(x, alpha=alpha)


def selu(x: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with PyTorch's constants alpha = 1.6733, scale = 1.0507."""
    return nonlinearity.Elu.apply(x, alpha=nonlinearity.SELU_ALPHA, scale=nonlinearity.SELU_SCALE)


def celu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha (e^(x/alpha) - 1)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return nonlinearity.Elu.apply(x, alpha=alpha, input_scale=1.0 / alpha)


def silu(x: Tensor, inplace: bool = False) -> Tensor:
    """x sigmoid(x) (also called swish)."""
    return nonlinearity.Silu.apply(x)


def mish(x: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x))."""
    return nonlinearity.Mish.apply(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta; x itself where beta x > threshold."""
    return nonlinearity.Softplus.apply(x, beta=beta, threshold=threshold)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clip(x, min_val, max_val); zero gradient at and beyond the bounds."""
    return nonlinearity.Hardtanh.apply(x, min_val=min_val, max_val=max_val)


def relu6(x: Tensor, inplace: bool = False) -> Tensor:
    """hardtanh(x, 0, 6), as PyTorch computes it (zero gradient at 0 and 6)."""
    return nonlinearity.Hardtanh.apply(x, min_val=0.0, max_val=6.0)


def hardswish(x: Tensor, inplace: bool = False) -> Tensor:
    """x relu6(x + 3) / 6."""
    return nonlinearity.Hardswish.apply(x)


def hardsigmoid(x: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return nonlinearity.Hardsigmoid.apply(x)


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)), stable for large |x|."""
    return nonlinearity.LogSigmoid.apply(x)


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return nonlinearity.Softsign.apply(x)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer tensor (...) -> int64 (..., num_classes); num_classes=-1 means max + 1."""
    labels = as_tensor(tensor).data
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype {labels.dtype}")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes - 1}], got values in "
                         f"[{labels.min()}, {labels.max()}]")
    return Tensor(np.eye(num_classes, dtype=np.int64)[labels])


def normalize(x: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p along dim, eps). PyTorch's default dim=1 is the channel dim of NCHW
    (and the feature dim of (N, D)); for NHWC images the channels are dim=-1 (or 3).

    max(||x||, eps) is taken as (max(sum |x|^p, eps^p))^(1/p): the same value, and a zero
    vector gets PyTorch's gradient g / eps instead of 0/0."""
    if p == 2:
        return x / (x * x).sum(dim=dim, keepdim=True).clamp(min=eps * eps).sqrt()
    return x / (x.abs() ** p).sum(dim=dim, keepdim=True).clamp(min=eps ** p) ** (1.0 / p)
