"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax, dropout."""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.reduce import normalize_dim


def check_floating(name: str, x: np.ndarray) -> None:
    """PyTorch has no integer kernel for ``name`` (softmax, leaky_relu, ...): say so."""
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: not implemented for integer or bool input (dtype {x.dtype}); "
                        f"convert it with .float() first")


@register("relu")
class Relu(Op):
    """y = max(x, 0); ReLU'(0) = 0 and relu(nan) = nan, as in PyTorch.

    Branch-free: ``np.maximum`` and a multiplication by the mask are ~10x faster than
    ``np.where`` on a random sign pattern.
    """

    @staticmethod
    def forward(x):
        return np.maximum(x, x.dtype.type(0)), ~(x <= 0)      # PyTorch passes g at nan

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        if np.isfinite(g).all():
            return (g * saved,)                                    # dy/dx = [x > 0]
        return (np.where(saved, g, g.dtype.type(0)),)     # inf * 0 would be nan; PyTorch: 0


@register("leaky_relu")
class LeakyRelu(Op):
    """y = x if x > 0 else negative_slope * x."""

    @staticmethod
    def forward(x, *, negative_slope=0.01):
        check_floating("leaky_relu", x)
        positive = x > 0
        y = np.where(positive, x, x * negative_slope).astype(x.dtype, copy=False)
        return y, (positive, negative_slope)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        positive, negative_slope = saved
        return (np.where(positive, g, g * negative_slope).astype(g.dtype, copy=False),)


@register("sigmoid")
class Sigmoid(Op):
    """y = 1 / (1 + e^-x), computed without overflow for large |x|."""

    @staticmethod
    def forward(x):
        y = stable_sigmoid(x)
        return y, y

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g * saved * (1 - saved),)                                # dy/dx = y (1 - y)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) = e^x / (1 + e^x); each form is used where its exponent is <= 0."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


@register("tanh")
class Tanh(Op):
    """y = tanh(x)."""

    @staticmethod
    def forward(x):
        y = np.tanh(x)
        return y, y

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g * (1 - saved * saved),)                                # dy/dx = 1 - y^2


@register("softmax")
class Softmax(Op):
    """y = e^x / sum(e^x) along ``dim`` (shifted by the max for stability)."""

    @staticmethod
    def forward(x, *, dim):
        check_floating("softmax", x)
        axis = normalize_dim("softmax", dim, x.ndim)
        if x.size == 0:
            return x.copy(), (x.copy(), axis)
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        y = e / e.sum(axis=axis, keepdims=True)
        return y, (y, axis)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        y, axis = saved
        return (y * (g - (g * y).sum(axis=axis, keepdims=True)),)       # J = diag(y) - y y^T


@register("log_softmax")
class LogSoftmax(Op):
    """y = x - log(sum(e^x)) along ``dim`` (log-sum-exp shifted by the max)."""

    @staticmethod
    def forward(x, *, dim):
        check_floating("log_softmax", x)
        axis = normalize_dim("log_softmax", dim, x.ndim)
        if x.size == 0:
            return x.copy(), (x.copy(), axis)
        shifted = x - x.max(axis=axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return y, (y, axis)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        y, axis = saved
        return (g - np.exp(y) * g.sum(axis=axis, keepdims=True),)        # dy_i/dx_j = [i=j] - softmax_j


@register("dropout")
class Dropout(Op):
    """y = x * keep / (1 - p): inverted dropout with a given boolean ``keep`` mask."""

    @staticmethod
    def forward(x, keep, *, p):
        scale = x.dtype.type(0 if p == 1 else 1 / (1 - p))
        mask = keep * scale
        return x * mask, mask

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return g * saved, None                                           # dy/dx = keep / (1 - p)
