"""Elementwise losses beyond mse: l1, smooth_l1, huber, kl_div (reduction 'none');
``functional`` applies PyTorch's reductions on top. Input and target have one shape."""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.loss import check_same_shape


@register("l1_loss")
class L1Loss(Op):
    """l = |x - t|; its subgradient at x = t is 0 (PyTorch's sign(0))."""

    @staticmethod
    def forward(x, t):
        check_same_shape("l1_loss", x, t)
        d = x - t
        return np.abs(d), np.sign(d)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        gx = g * saved                                            # dl/dx = sign(x - t)
        return gx, -gx


@register("smooth_l1_loss")
class SmoothL1Loss(Op):
    """l = (x - t)^2 / (2 beta) where |x - t| < beta, else |x - t| - beta / 2; beta = 0 is l1."""

    @staticmethod
    def forward(x, t, *, beta=1.0):
        check_same_shape("smooth_l1_loss", x, t)
        if beta < 0:
            raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
        d = x - t
        a = np.abs(d)
        if beta == 0:
            return a, (d, beta)
        return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta).astype(x.dtype, copy=False), (d, beta)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        d, beta = saved
        # dl/dx = (x - t) / beta inside, sign(x - t) outside
        slope = np.sign(d) if beta == 0 else np.clip(d / beta, -1, 1)
        gx = (g * slope).astype(g.dtype, copy=False)
        return gx, -gx


@register("huber_loss")
class HuberLoss(Op):
    """l = (x - t)^2 / 2 where |x - t| < delta, else delta (|x - t| - delta / 2)."""

    @staticmethod
    def forward(x, t, *, delta=1.0):
        check_same_shape("huber_loss", x, t)
        if delta <= 0:
            raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
        d = x - t
        a = np.abs(d)
        y = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)).astype(x.dtype, copy=False)
        return y, (d, delta)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        d, delta = saved
        gx = (g * np.clip(d, -delta, delta)).astype(g.dtype, copy=False)   # dl/dx = clip(x - t, -delta, delta)
        return gx, -gx


@register("kl_div")
class KlDiv(Op):
    """Pointwise KL term with input x = log q: l = t (log t - x), 0 where t = 0 (xlogy);
    with ``log_target`` the target is log p: l = e^t (t - x)."""

    @staticmethod
    def forward(x, t, *, log_target=False):
        check_same_shape("kl_div", x, t)
        if log_target:
            p = np.exp(t)
            return p * (t - x), (x, t, p, log_target)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_t = np.log(t)
            xlogy = np.where(t == 0, 0.0, t * log_t).astype(x.dtype, copy=False)
        return xlogy - t * x, (x, t, log_t, log_target)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, t, aux, log_target = saved
        if log_target:
            return -g * aux, g * aux * (t - x + 1)                  # dl/dx = -e^t; dl/dt = e^t (t - x + 1)
        with np.errstate(invalid="ignore"):                         # t = 0: log t = -inf, as PyTorch
            return -g * t, g * (aux + 1 - x)                       # dl/dx = -t; dl/dt = log t + 1 - x
