"""Batch normalisation as one op with its closed-form VJP (instead of nine generic ops).

Statistics are taken over every dimension but the last: (N, H, W) of an NHWC image, N of an
(N, C) batch. ``batch_norm_reference`` and ``batch_norm_vjp_reference`` are the plain
formulas; the registered op computes the same in fewer, faster passes over the (rows, C)
matrix, and the tests check it against them. Its per-channel sums are ``ones @ rows``
(``reduce.sum_leading``: one BLAS product, see docs/decisions.md "sums over leading axes"),
its per-channel elementwise passes run on wide rows (``per_channel``), and it keeps the
centered input x - mean for the VJP instead of the normalised one (a pass fewer). See
docs/decisions.md "BatchNorm passes".
"""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.linalg import check_same_dtype
from minigrad.ops.reduce import sum_leading

# ``per_channel`` works on rows of WIDE_ROW values (WIDE_ROW // C pixels, the channel vector
# tiled to match) when C is smaller: NumPy's inner loop over only C values costs more than
# the arithmetic. Measured, a multiply of 50176x16 float32 by a (16,) vector: 0.42 ms as
# (rows, 16), 0.29 ms as 128-wide rows, 0.27 ms as 512-wide, no better beyond.
WIDE_ROW = 512


def batch_norm_reference(x: np.ndarray, weight: np.ndarray, bias: np.ndarray,
                         running_mean: np.ndarray | None, running_var: np.ndarray | None, *,
                         training: bool, momentum: float, eps: float) -> tuple:
    """x (..., C) -> (y like x, running_mean, running_var after the call, new arrays; None
    when not given): y = (x - mean) / sqrt(var + eps) * weight + bias, the batch's mean and
    biased var in training (running stats move towards the mean and the unbiased var),
    running_mean and running_var otherwise."""
    axes = tuple(range(x.ndim - 1))
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        count = x.size // x.shape[-1]
        if running_mean is not None:
            running_mean = (1 - momentum) * running_mean + momentum * mean
            running_var = (1 - momentum) * running_var + momentum * var * count / (count - 1)
    else:
        mean, var = running_mean, running_var
    y = (x - mean) / np.sqrt(var + eps) * weight + bias
    return y, running_mean, running_var


def batch_norm_vjp_reference(g: np.ndarray, x: np.ndarray, weight: np.ndarray,
                             running_mean: np.ndarray | None, running_var: np.ndarray | None, *,
                             training: bool, eps: float) -> tuple:
    """g like x (..., C) -> (gx, gweight (C,), gbias (C,)) of ``batch_norm_reference``."""
    axes = tuple(range(x.ndim - 1))
    mean, var = (x.mean(axis=axes), x.var(axis=axes)) if training else (running_mean, running_var)
    sigma = np.sqrt(var + eps)
    xhat = (x - mean) / sigma
    gweight, gbias = (g * xhat).sum(axis=axes), g.sum(axis=axes)
    if training:                    # mean and var depend on x too
        gx = weight / sigma * (g - g.mean(axis=axes) - xhat * (g * xhat).mean(axis=axes))
    else:
        gx = g * weight / sigma
    return gx, gweight, gbias


def per_channel(ufunc: np.ufunc, rows: np.ndarray, vector: np.ndarray,
                out: np.ndarray | None = None) -> np.ndarray:
    """ufunc(rows, vector) for C-contiguous rows (R, C) and vector (C,), into ``out`` (new by
    default; may be ``rows``). Computed on rows of C * (WIDE_ROW // C) values, the vector tiled
    to match; the last R mod (WIDE_ROW // C) rows as they are."""
    R, C = rows.shape
    if out is None:
        out = np.empty(rows.shape, dtype=np.result_type(rows, vector))
    pixels = max(1, WIDE_ROW // C)              # pixels per wide row
    split = R - R % pixels
    ufunc(rows[:split].reshape(-1, pixels * C), np.tile(vector, pixels),
          out=out[:split].reshape(-1, pixels * C))
    if split < R:
        ufunc(rows[split:], vector, out=out[split:])
    return out


def _rows(x: np.ndarray) -> np.ndarray:
    """x (..., C) as a C-contiguous (rows, C) matrix (a copy only when x is not contiguous)."""
    return np.ascontiguousarray(x).reshape(-1, x.shape[-1])


@register("batch_norm")
class BatchNorm(Op):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (the last dim).

    x (..., C), weight (C,), bias (C,), optionally running_mean (C,), running_var (C,) -> y like x.
    training=True: mean and the biased var are the batch's, over the R = x.size / C rows;
    running_mean and running_var (if given) are updated in place, as PyTorch's native op does:
    r <- (1 - momentum) r + momentum s, with the unbiased var s = var R / (R - 1).
    training=False: mean and var are running_mean and running_var (a per-channel affine map).
    All five arrays have one dtype. PyTorch refuses mixed ones too, except a float16 or
    bfloat16 input with float32 parameters, which minigrad also refuses (differences.md).

    Reference: ``batch_norm_reference`` / ``batch_norm_vjp_reference``.
    """

    fresh_grads = True                                       # gx, ggamma, gbeta: new arrays

    @staticmethod
    def forward(x, weight, bias, running_mean=None, running_var=None, *, training, momentum, eps):
        check_same_dtype("batch_norm", input=x, weight=weight, bias=bias, running_mean=running_mean,
                         running_var=running_var)
        rows = _rows(x)
        count = rows.shape[0]
        if not training:
            inv_std = 1 / np.sqrt(running_var + eps)
            scale = weight * inv_std
            y = per_channel(np.multiply, rows, scale)
            per_channel(np.add, y, bias - running_mean * scale, out=y)
            return y.reshape(x.shape), (False, rows, running_mean, inv_std, scale, x.shape)
        if count <= 1:
            raise ValueError(f"batch_norm: Expected more than 1 value per channel when training, "
                             f"got input size {x.shape}")
        mean = sum_leading(rows, 1) / count
        centered = per_channel(np.subtract, rows, mean)                    # x - mean
        y = np.square(centered)                       # y's memory holds the squares first
        var = sum_leading(y, 1) / count
        inv_std = 1 / np.sqrt(var + eps)
        scale = weight * inv_std
        per_channel(np.multiply, centered, scale, out=y)
        per_channel(np.add, y, bias, out=y)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += (momentum * count / (count - 1)) * var
        return y.reshape(x.shape), (True, centered, inv_std, scale, x.shape)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        training, *state = saved
        g = _rows(g)
        count = g.shape[0]
        if training:
            centered, inv_std, scale, shape = state
            gbeta = sum_leading(g, 1)                                 # sum(g)
            gx = np.multiply(g, centered)                 # gx's memory holds g (x - mean) first
            ggamma = sum_leading(gx, 1) * inv_std                     # sum(g xhat)
            # gx = weight/sigma (g - mean(g) - xhat mean(g xhat)), xhat = (x - mean)/sigma
            per_channel(np.multiply, centered, inv_std * ggamma / count, out=gx)
            np.subtract(g, gx, out=gx)
            per_channel(np.subtract, gx, gbeta / count, out=gx)
            per_channel(np.multiply, gx, scale, out=gx)
        else:
            rows, mean, inv_std, scale, shape = state
            gbeta = sum_leading(g, 1)                                 # sum(g)
            ggamma = (sum_leading(g * rows, 1) - mean * gbeta) * inv_std  # sum(g (x - mean) / sigma)
            gx = per_channel(np.multiply, g, scale) if needs_input_grad[0] else None  # g weight / sigma
        gx = None if gx is None else gx.reshape(shape)
        grads = (gx, ggamma if needs_input_grad[1] else None, gbeta if needs_input_grad[2] else None)
        return grads + (None,) * (len(needs_input_grad) - 3)
