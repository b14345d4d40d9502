"""Losses, elementwise (reduction 'none'); ``functional`` applies 'mean' or 'sum' on top."""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.activation import stable_sigmoid

LOG_CLAMP = -100.0            # PyTorch clamps each log term of BCE at -100


def check_same_shape(name: str, input: np.ndarray, target: np.ndarray) -> None:
    if input.shape != target.shape:
        raise ValueError(f"{name}: target shape {target.shape} differs from input shape "
                         f"{input.shape}; reshape one of them (e.g. target.reshape(input.shape))")


def _value_range(values: np.ndarray) -> str:
    """'in [low, high]' of the numbers among ``values``, and 'NaN' when there are NaNs."""
    numbers = values[~np.isnan(values)]
    parts = [f"in [{numbers.min():.4g}, {numbers.max():.4g}]"] if numbers.size else []
    return " and ".join(parts + (["NaN"] if numbers.size < values.size else []))



class TargetOutOfBounds(IndexError, ValueError):
    """A class index outside [0, C): PyTorch raises IndexError ("Target 5 is out of bounds"),
    DESIGN.md names ValueError for bad values; this is both."""

@register("binary_cross_entropy")
class BinaryCrossEntropy(Op):
    """l = -(t log p + (1 - t) log(1 - p)), each log clamped at -100. p, t (...) -> l (...)."""

    @staticmethod
    def forward(p, t):
        check_same_shape("binary_cross_entropy", p, t)
        for what, values in (("input", p), ("target", t)):
            if not ((values >= 0) & (values <= 1)).all():        # NaN fails too, as in PyTorch
                raise ValueError(
                    f"binary_cross_entropy: all elements of {what} should be between 0 and 1, got "
                    f"values "
                    + _value_range(values)
                    + ("; apply sigmoid first or use binary_cross_entropy_with_logits"
                       if what == "input" else ""))
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), LOG_CLAMP)
            log_1mp = np.maximum(np.log1p(-p), LOG_CLAMP)
        return -(t * log_p + (1 - t) * log_1mp), (p, t, log_p, log_1mp)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        p, t, log_p, log_1mp = saved
        gp = g * (p - t) / np.maximum(p * (1 - p), 1e-12)           # PyTorch's epsilon
        gt = g * (log_1mp - log_p)
        return gp.astype(p.dtype, copy=False), gt.astype(t.dtype, copy=False)


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


@register("binary_cross_entropy_with_logits")
class BinaryCrossEntropyWithLogits(Op):
    """l = (1 - t) x + (1 + (w - 1) t) softplus(-x), w = pos_weight (broadcast over the last dim).

    Stable for any |x|: softplus never exponentiates a positive number.
    """

    @staticmethod
    def forward(x, t, pos_weight):
        check_same_shape("binary_cross_entropy_with_logits", x, t)
        softplus_neg = softplus(-x)
        log_weight = 1 + (pos_weight - 1) * t
        return (1 - t) * x + log_weight * softplus_neg, (x, t, pos_weight, softplus_neg, log_weight)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, t, pos_weight, softplus_neg, log_weight = saved
        gx = g * ((1 - t) - log_weight * stable_sigmoid(-x))      # d softplus(-x)/dx = -sigmoid(-x)
        gt = g * ((pos_weight - 1) * softplus_neg - x)
        return gx, gt, None                                       # pos_weight: a constant, as in PyTorch


@register("nll_loss")
class NllLoss(Op):
    """l[n] = -logp[n, target[n]]. logp (N, C), target (N,) integers -> l (N,)."""

    @staticmethod
    def forward(logp, target):
        if logp.ndim != 2 or target.shape != logp.shape[:1]:
            raise ValueError(f"nll_loss: expected input (N, C) and target (N,), got input "
                             f"{logp.shape} and target {target.shape}")
        if target.dtype.kind not in "iu":
            raise TypeError(f"nll_loss: target must hold integer class indices, got dtype "
                            f"{target.dtype}")
        if target.size and logp.shape[1] == 0:
            raise IndexError(f"nll_loss: Target {target.flat[0]} is out of bounds: the input has "
                             f"0 classes (shape {logp.shape})")
        if target.size and (target.min() < 0 or target.max() >= logp.shape[1]):
            raise ValueError(f"nll_loss: target values must be in [0, {logp.shape[1] - 1}], got "
                             f"values in [{target.min()}, {target.max()}]")
        rows = np.arange(logp.shape[0])
        return -logp[rows, target], (logp.shape, logp.dtype, target)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        shape, dtype, target = saved
        glogp = np.zeros(shape, dtype=dtype)
        glogp[np.arange(shape[0]), target] = -g                   # only the target column
        return glogp, None


@register("mse_loss")
class MseLoss(Op):
    """l = (x - t)^2 elementwise; x and t have the same shape."""

    @staticmethod
    def forward(x, t):
        check_same_shape("mse_loss", x, t)
        d = x - t
        return d * d, d

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        gx = 2 * saved * g                                        # dl/dx = 2 (x - t)
        return gx, -gx
