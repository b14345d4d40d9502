"""Tensor-level functions with PyTorch's names (``import minigrad.functional as F``). NHWC."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from minigrad.ops import (activation, conv, linalg, loss, nonlinearity, normalization, pool,
                          regression_loss)
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


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    return activation.Relu.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return activation.LeakyRelu.apply(x, negative_slope=negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return as_tensor(x).sigmoid()                  # an integer input becomes float (PyTorch)


def tanh(x: Tensor) -> Tensor:
    return as_tensor(x).tanh()


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
    if x.dtype.kind != "f":
        raise RuntimeError(f"dropout: result type float can't be cast to the input's dtype "
                           f"{x.dtype}; dropout needs a floating-point tensor")
    keep = generator().random(x.shape) >= p
    return activation.Dropout.apply(x, keep, p=p)


def flatten(x: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim (NHWC order after a conv)."""
    return x.flatten(start_dim, end_dim)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding; ``pad`` lists (left, right) for the last dim, then the one before..."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: argument 'pad' must be a tuple of ints, got {pad!r}")
    return shape_ops.Pad.apply(x, pad=tuple(int(p) for p in pad), value=value)


def _reduce(name: str, elementwise: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return elementwise.mean()
    if reduction == "sum":
        return elementwise.sum()
    if reduction == "none":
        return elementwise
    raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check_tensors(name: str, **arguments) -> None:
    """PyTorch's losses take tensors: a list or a number is a TypeError naming the argument."""
    for what, value in arguments.items():
        if not isinstance(value, (Tensor, np.ndarray)):
            raise TypeError(f"{name}: argument '{what}' must be a Tensor, not "
                            f"{type(value).__name__}")


def _float_target(input: Tensor, target) -> Tensor:
    target = as_tensor(target)
    return target if target.dtype == input.dtype else target.to(input.dtype)


def binary_cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """-(t log p + (1-t) log(1-p)); p must lie in [0, 1]; each log term is clamped at -100."""
    _check_tensors("binary_cross_entropy", input=input, target=target)
    return _reduce("binary_cross_entropy", loss.BinaryCrossEntropy.apply(
        input, _float_target(input, target)), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """BCE on sigmoid(input), computed stably from the logits; ``pos_weight`` weighs positives."""
    name = "binary_cross_entropy_with_logits"
    _check_tensors(name, input=input, target=target)
    if pos_weight is not None:
        _check_tensors(name, pos_weight=pos_weight)
        try:
            np.broadcast_shapes(np.shape(pos_weight), input.shape)
        except ValueError:
            raise ValueError(f"{name}: pos_weight of shape {tuple(np.shape(pos_weight))} does not "
                             f"broadcast to the input shape {input.shape}; give one weight per "
                             f"class, shape ({input.shape[-1] if input.ndim else 1},)") from None
    weight = np.ones((), input.dtype) if pos_weight is None else _float_target(input, pos_weight)
    return _reduce("binary_cross_entropy_with_logits", loss.BinaryCrossEntropyWithLogits.apply(
        input, _float_target(input, target), weight), reduction)


def _class_weights(name: str, weight, classes: int, dtype) -> np.ndarray:
    if weight is None:
        return np.ones(classes, dtype)
    weight = as_tensor(weight).data
    if weight.shape != (classes,):
        raise ValueError(f"{name}: weight must have shape ({classes},), one per class, got {weight.shape}")
    return weight.astype(dtype, copy=False)


def _class_targets(name: str, input: Tensor, target, ignore_index: int) -> tuple[Tensor, np.ndarray]:
    """Logits or log-probabilities (..., C) and integer targets (...) -> rows (M, C), targets (M,)."""
    target = as_tensor(target)
    if input.ndim < 1 or target.shape != input.shape[:-1]:
        raise ValueError(f"{name}: expected input (N, C) or (N, H, W, C) (classes last, NHWC) and "
                         f"target of the shape without C, got input {input.shape} and target {target.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices (or, for cross_entropy, "
                        f"probabilities shaped like the input), got dtype {target.dtype}")
    labels = target.data.reshape(-1)
    wrong = (labels != ignore_index) & ((labels < 0) | (labels >= input.shape[-1]))
    if wrong.any():
        raise loss.TargetOutOfBounds(
            f"{name}: Target {labels[wrong][0]} is out of bounds for {input.shape[-1]} classes: target "
            f"values must be in [0, {input.shape[-1] - 1}] or ignore_index ({ignore_index}), got "
            f"{labels[wrong][0]}")
    return (input if input.ndim == 2 else input.reshape(-1, input.shape[-1])), labels


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """-weight[t] * input[n, t] for log-probabilities input (N, C) or (N, H, W, C) (classes
    last) and integer target (N,) or (N, H, W).

    Targets equal to ``ignore_index`` add nothing; 'mean' divides by the summed weight of the
    targets that count (PyTorch's weighted mean; nan when every target is ignored).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"nll_loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    rows, labels = _class_targets("nll_loss", input, target, ignore_index)
    counted = labels != ignore_index
    per_class = _class_weights("nll_loss", weight, input.shape[-1], input.dtype)
    if weight is None and counted.all():                    # the plain case: a plain graph
        losses = loss.NllLoss.apply(rows, Tensor(labels))
        return _reduce("nll_loss", losses if reduction != "none" or input.ndim == 2
                       else losses.reshape(*input.shape[:-1]), reduction)
    safe = np.where(counted, labels, 0)
    sample_weight = np.where(counted, per_class[safe], 0).astype(input.dtype)
    losses = loss.NllLoss.apply(rows, Tensor(safe)) * Tensor(sample_weight)
    if reduction == "none":
        return losses.reshape(*input.shape[:-1])
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / Tensor(sample_weight.sum())


def cross_entropy(input: Tensor, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy. Logits (N, C) or (N, H, W, C): the classes are the LAST dim
    (NHWC), where PyTorch has them at dim 1. Targets: class indices (N,) / (N, H, W), or
    class probabilities shaped like the input.

    With label smoothing e and C classes, PyTorch's formula: (1 - e) * nll + e / C * smooth,
    smooth = -sum_c weight[c] logp[c] per counted sample, reduced like nll (the weighted mean
    divides both by the summed weight of the counted targets). Probability targets are
    smoothed as t (1 - e) + e / C, and 'mean' divides by the number of samples.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim < 1:
        raise ValueError(f"cross_entropy: expected logits (N, C) or (N, H, W, C), got shape {input.shape}")
    logp = log_softmax(input, dim=input.ndim - 1)             # the classes: the last dim
    classes = input.shape[-1]
    target = as_tensor(target)
    if target.dtype.kind == "f":
        return _cross_entropy_probabilities(logp, target, weight, reduction, label_smoothing)
    rows, labels = _class_targets("cross_entropy", logp, target, ignore_index)
    per_class = _class_weights("cross_entropy", weight, classes, input.dtype)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    counted = labels != ignore_index
    smooth = -(rows * Tensor(per_class)).sum(dim=1) * Tensor(counted.astype(input.dtype))
    if reduction == "none":
        smooth = smooth.reshape(*input.shape[:-1])
    elif reduction == "sum":
        smooth = smooth.sum()
    else:
        smooth = smooth.sum() / Tensor(per_class[labels[counted]].sum().astype(input.dtype))
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _cross_entropy_probabilities(logp: Tensor, target: Tensor, weight, reduction: str,
                                 label_smoothing: float) -> Tensor:
    """-sum_c weight[c] t[c] logp[c] per sample; 'mean' divides by the number of samples."""
    if target.shape != logp.shape:
        raise ValueError(f"cross_entropy: probability targets must be shaped like the input, got "
                         f"input {logp.shape} and target {target.shape}")
    classes = logp.shape[-1]
    t = target.data.astype(logp.dtype, copy=False)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / classes
    per_class = _class_weights("cross_entropy", weight, classes, logp.dtype)
    losses = -(logp * Tensor(t * per_class)).sum(dim=-1)
    return _reduce("cross_entropy", losses, reduction)


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


def l1_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """|input - target|, same shapes."""
    return _reduce("l1_loss", regression_loss.L1Loss.apply(input, _float_target(input, target)), reduction)


def smooth_l1_loss(input: Tensor, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    return _reduce("smooth_l1_loss", regression_loss.SmoothL1Loss.apply(
        input, _float_target(input, target), beta=beta), reduction)


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target)."""
    return _reduce("huber_loss", regression_loss.HuberLoss.apply(
        input, _float_target(input, target), delta=delta), reduction)


KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input: Tensor, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || q) with input = log q: target (log target - input) summed as ``reduction``
    says; 'batchmean' divides the sum by input.shape[0] (the true KL per sample; PyTorch's
    'mean' divides by the number of elements)."""
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {KL_REDUCTIONS}, got {reduction!r}")
    pointwise = regression_loss.KlDiv.apply(input, _float_target(input, target), log_target=log_target)
    if reduction == "batchmean":
        return pointwise.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce("kl_div", pointwise, reduction)
