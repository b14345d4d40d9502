"""Smooth and piecewise activations beyond relu/sigmoid/tanh: gelu, elu, selu, celu, silu,
mish, softplus, hardtanh, relu6, hardswish, hardsigmoid, logsigmoid, softsign.

Each op saves its input and differentiates from it. Subgradients at the kinks are PyTorch
2.14's (checked in tests/ops/test_nonlinearity.py): elu-family '(0) takes the negative
branch, hardtanh/relu6/hardsigmoid pass nothing at their bounds, hardswish's slope is 0 at -3 and
1 at 3.
"""
from __future__ import annotations

import math

import numpy as np

from minigrad.ops.activation import stable_sigmoid
from minigrad.ops.base import Op, register

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SERIES_TERMS = 60             # Taylor terms of erf for |x| <= 3 (the last is < 1e-20)
FRACTION_DEPTH = 60           # depth of erfc's continued fraction for |x| > 3
ONE_SIXTH_FLOAT32 = float(np.float32(1 / 6))   # PyTorch's hardsigmoid backward constant


def erf(x: np.ndarray) -> np.ndarray:
    """erf(x) to double precision (NumPy has none): its Taylor series for |x| <= 3,
    1 - erfc(|x|) by erfc's continued fraction, evaluated from the tail, beyond."""
    a = np.abs(x).astype(np.float64)
    small = np.minimum(a, 3.0)
    term, total = small.copy(), small.copy()
    for n in range(1, SERIES_TERMS):                   # term_n = (-1)^n x^(2n+1) / n!
        term = term * (-small * small / n)
        total = total + term / (2 * n + 1)
    series = total * (2 / math.sqrt(math.pi))
    large = np.maximum(a, 3.0)
    tail = large.copy()
    for k in range(FRACTION_DEPTH, 0, -1):             # x + (k/2) / (x + ((k+1)/2) / ...)
        tail = large + (k / 2) / tail
    erfc = np.exp(-large * large) / (math.sqrt(math.pi) * tail)
    return (np.sign(x) * np.where(a <= 3.0, series, 1 - erfc)).astype(x.dtype, copy=False)


@register("gelu")
class Gelu(Op):
    """'none': y = x Phi(x), Phi(x) = (1 + erf(x/sqrt 2)) / 2;
    'tanh': y = x (1 + tanh(u)) / 2, u = sqrt(2/pi) (x + 0.044715 x^3). x (...) -> y (...)."""

    @staticmethod
    def forward(x, *, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        if approximate == "tanh":
            t = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))
            return (0.5 * x * (1 + t)).astype(x.dtype, copy=False), (x, t, approximate)
        cdf = (0.5 * (1 + erf(x * math.sqrt(0.5)))).astype(x.dtype, copy=False)
        return x * cdf, (x, cdf, approximate)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, c, approximate = saved
        if approximate == "tanh":
            du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            # dy/dx = (1 + t) / 2 + x (1 - t^2) u' / 2
            return ((g * (0.5 * (1 + c) + 0.5 * x * (1 - c * c) * du)).astype(g.dtype, copy=False),)
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return ((g * (c + x * pdf)).astype(g.dtype, copy=False),)    # dy/dx = Phi(x) + x phi(x)


@register("elu")
class Elu(Op):
    """y = scale * (x if x > 0 else alpha (e^(input_scale x) - 1)); elu, selu and celu are this op
    with (alpha, 1, 1), (1.6733, 1.0507, 1) and (alpha, 1, 1/alpha), as in PyTorch."""

    @staticmethod
    def forward(x, *, alpha=1.0, scale=1.0, input_scale=1.0):
        negative = scale * alpha * np.expm1(np.minimum(x, 0) * input_scale)
        y = np.where(x > 0, scale * x, negative).astype(x.dtype, copy=False)
        return y, (x, alpha, scale, input_scale)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, alpha, scale, input_scale = saved
        # dy/dx = scale if x > 0 else scale alpha input_scale e^(input_scale x) (x = 0 included)
        slope = np.where(x > 0, scale, scale * alpha * input_scale * np.exp(np.minimum(x, 0) * input_scale))
        return ((g * slope).astype(g.dtype, copy=False),)


@register("silu")
class Silu(Op):
    """y = x sigmoid(x). x (...) -> y (...)."""

    @staticmethod
    def forward(x):
        s = stable_sigmoid(x)
        return x * s, (x, s)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, s = saved
        return (g * s * (1 + x * (1 - s)),)                    # dy/dx = s (1 + x (1 - s))


@register("mish")
class Mish(Op):
    """y = x tanh(softplus(x)). x (...) -> y (...)."""

    @staticmethod
    def forward(x):
        t = np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))
        return x * t, (x, t)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, t = saved
        return (g * (t + x * (1 - t * t) * stable_sigmoid(x)),)   # dy/dx = t + x (1 - t^2) sigmoid(x)


@register("softplus")
class Softplus(Op):
    """y = log(1 + e^(beta x)) / beta, or x where beta x > threshold (PyTorch's linear region)."""

    @staticmethod
    def forward(x, *, beta=1.0, threshold=20.0):
        z = x * beta
        smooth = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta
        return np.where(z > threshold, x, smooth).astype(x.dtype, copy=False), (x, beta, threshold)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, beta, threshold = saved
        z = x * beta
        # dy/dx = sigmoid(beta x), and 1 in the linear region
        return (np.where(z > threshold, g, g * stable_sigmoid(z)).astype(g.dtype, copy=False),)


@register("hardtanh")
class Hardtanh(Op):
    """y = clip(x, min_val, max_val); no gradient at or beyond the bounds (PyTorch). relu6 is
    hardtanh(x, 0, 6)."""

    @staticmethod
    def forward(x, *, min_val=-1.0, max_val=1.0):
        if min_val > max_val:
            raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        inside = (x > min_val) & (x < max_val)
        return np.clip(x, min_val, max_val).astype(x.dtype, copy=False), inside

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (np.where(saved, g, g.dtype.type(0)),)          # dy/dx = [min < x < max]


@register("hardswish")
class Hardswish(Op):
    """y = x relu6(x + 3) / 6. x (...) -> y (...)."""

    @staticmethod
    def forward(x):
        return (x * np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False), x

    @staticmethod
    def vjp(g, x, needs_input_grad):
        # dy/dx = 0 for x <= -3, x/3 + 1/2 for -3 < x < 3, 1 for x >= 3 (PyTorch's ends)
        slope = np.where(x <= -3, 0.0, np.where(x < 3, x / 3 + 0.5, 1.0))
        return ((g * slope).astype(g.dtype, copy=False),)


@register("hardsigmoid")
class Hardsigmoid(Op):
    """y = relu6(x + 3) / 6. x (...) -> y (...)."""

    @staticmethod
    def forward(x):
        return (np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False), (x > -3) & (x < 3)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        # dy/dx = [|x| < 3] / 6, with 1/6 rounded to float32 as PyTorch's kernel writes it
        return (np.where(saved, g * ONE_SIXTH_FLOAT32, g.dtype.type(0)).astype(g.dtype, copy=False),)


@register("logsigmoid")
class LogSigmoid(Op):
    """y = log sigmoid(x) = -softplus(-x), computed without overflow. x (...) -> y (...)."""

    @staticmethod
    def forward(x):
        return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))), x

    @staticmethod
    def vjp(g, x, needs_input_grad):
        return (g * stable_sigmoid(-x),)                       # dy/dx = 1 - sigmoid(x) = sigmoid(-x)


@register("softsign")
class Softsign(Op):
    """y = x / (1 + |x|). x (...) -> y (...)."""

    @staticmethod
    def forward(x):
        return x / (1 + np.abs(x)), x

    @staticmethod
    def vjp(g, x, needs_input_grad):
        d = 1 + np.abs(x)
        return (g / (d * d),)                                  # dy/dx = 1 / (1 + |x|)^2
