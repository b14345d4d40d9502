"""Batch normalisation as one op with its closed-form VJP (instead of nine generic ops).

Statistics are taken over every dimension but the last: (N, H, W) of an NHWC image, N of an
(N, C) batch. The per-channel sums are ``ones @ x.reshape(rows, C)`` (``reduce.sum_leading``:
one BLAS product, see docs/decisions.md "sums over leading axes").
"""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.reduce import sum_leading


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
    """

    fresh_grads = True                                       # gx, ggamma, gbeta: new arrays

    @staticmethod
    def forward(x, weight, bias, running_mean=None, running_var=None, *, training, momentum, eps):
        rows = _rows(x)
        count = rows.shape[0]
        if not training:
            inv_std = 1 / np.sqrt(running_var + eps)
            scale = weight * inv_std
            y = rows * scale
            y += bias - running_mean * scale
            return y.reshape(x.shape), (False, rows, running_mean, inv_std, scale, x.shape)
        if count <= 1:
            raise ValueError(f"batch_norm: Expected more than 1 value per channel when training, "
                             f"got input size {x.shape}")
        mean = sum_leading(rows, 1) / count
        xhat = rows - mean
        var = sum_leading(np.square(xhat), 1) / count
        inv_std = 1 / np.sqrt(var + eps)
        xhat *= inv_std
        y = xhat * weight
        y += bias
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += (momentum * count / (count - 1)) * var
        return y.reshape(x.shape), (True, xhat, weight * inv_std, x.shape)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        training, *state = saved
        g = _rows(g)
        count = g.shape[0]
        if training:
            xhat, scale, shape = state
            gbeta = sum_leading(g, 1)                                 # sum(g)
            g_xhat = g * xhat
            ggamma = sum_leading(g_xhat, 1)                           # sum(g xhat)
            # gx = weight/sigma (g - mean(g) - xhat mean(g xhat)), means over the rows
            gx = g * scale
            gx -= np.multiply(xhat, scale * ggamma / count, out=g_xhat)
            gx -= scale * gbeta / count
        else:
            rows, mean, inv_std, scale, shape = state
            gbeta = sum_leading(g, 1)                                 # sum(g)
            ggamma = (sum_leading(g * rows, 1) - mean * gbeta) * inv_std  # sum(g (x - mean) / sigma)
            gx = g * scale if needs_input_grad[0] else None           # g weight / sigma
        gx = None if gx is None else gx.reshape(shape)
        grads = (gx, ggamma if needs_input_grad[1] else None, gbeta if needs_input_grad[2] else None)
        return grads + (None,) * (len(needs_input_grad) - 3)
