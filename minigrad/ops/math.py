"""Elementwise math beyond the arithmetic of ``elementwise.py``: rounding, trigonometry,
logarithms and powers, and the divisions that round (``//``, ``%``, ``fmod``).

Rounding ops are piecewise constant: their gradient is 0 everywhere (PyTorch's choice), and
on integer tensors they return a copy, as PyTorch does.
"""
from __future__ import annotations

import numpy as np

from minigrad.dtypes import get_default_dtype
from minigrad.ops.base import Op, register
from minigrad.ops.elementwise import broadcast_binary, unbroadcast


def as_float(x: np.ndarray) -> np.ndarray:
    """x itself when floating, else x in the default float dtype (PyTorch's integer -> float rule)."""
    return x if x.dtype.kind == "f" else x.astype(get_default_dtype())


class _Smooth(Op):
    """A differentiable unary op: y = f(x), dy/dx = ``derivative(x, y)``.

    Subclasses set ``f`` (a NumPy ufunc) and ``derivative``. Integer and boolean inputs give
    the default float dtype, as in PyTorch (NumPy would give float64).
    """

    @classmethod
    def forward(cls, x):
        x = as_float(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = cls.f(x)
        return y, (x, y)

    @classmethod
    def vjp(cls, g, saved, needs_input_grad):
        x, y = saved
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * cls.derivative(x, y),)


def _smooth(name: str, f, derivative, doc: str) -> type[Op]:
    """Register the ``_Smooth`` op ``name`` (its docstring ``doc`` states y and dy/dx)."""
    cls = type(name.capitalize(), (_Smooth,), {
        "__doc__": doc, "f": staticmethod(f), "derivative": staticmethod(derivative)})
    return register(name)(cls)


LN2, LN10 = np.log(2.0), np.log(10.0)

Sin = _smooth("sin", np.sin, lambda x, y: np.cos(x), "y = sin x; dy/dx = cos x.")
Cos = _smooth("cos", np.cos, lambda x, y: -np.sin(x), "y = cos x; dy/dx = -sin x.")
Tan = _smooth("tan", np.tan, lambda x, y: 1 + y * y, "y = tan x; dy/dx = 1 + tan^2 x.")
Asin = _smooth("asin", np.arcsin, lambda x, y: 1 / np.sqrt(1 - x * x),
               "y = asin x; dy/dx = 1 / sqrt(1 - x^2).")
Acos = _smooth("acos", np.arccos, lambda x, y: -1 / np.sqrt(1 - x * x),
               "y = acos x; dy/dx = -1 / sqrt(1 - x^2).")
Atan = _smooth("atan", np.arctan, lambda x, y: 1 / (1 + x * x), "y = atan x; dy/dx = 1 / (1 + x^2).")
Sinh = _smooth("sinh", np.sinh, lambda x, y: np.cosh(x), "y = sinh x; dy/dx = cosh x.")
Cosh = _smooth("cosh", np.cosh, lambda x, y: np.sinh(x), "y = cosh x; dy/dx = sinh x.")
Log2 = _smooth("log2", np.log2, lambda x, y: 1 / (x * x.dtype.type(LN2)), "y = log2 x; dy/dx = 1 / (x ln 2).")
Log10 = _smooth("log10", np.log10, lambda x, y: 1 / (x * x.dtype.type(LN10)),
                "y = log10 x; dy/dx = 1 / (x ln 10).")
Log1p = _smooth("log1p", np.log1p, lambda x, y: 1 / (1 + x), "y = ln(1 + x); dy/dx = 1 / (1 + x).")
Expm1 = _smooth("expm1", np.expm1, lambda x, y: y + 1, "y = e^x - 1; dy/dx = e^x = y + 1.")
Exp2 = _smooth("exp2", np.exp2, lambda x, y: y * y.dtype.type(LN2), "y = 2^x; dy/dx = 2^x ln 2.")
Rsqrt = _smooth("rsqrt", lambda x: 1 / np.sqrt(x), lambda x, y: -0.5 * y / x,
                "y = 1 / sqrt x; dy/dx = -1 / (2 x^(3/2)) = -y / (2x).")
Reciprocal = _smooth("reciprocal", np.reciprocal, lambda x, y: -y * y, "y = 1 / x; dy/dx = -1 / x^2.")


@register("square")
class Square(Op):
    """y = x^2 (integers stay integers, as in PyTorch)."""

    @staticmethod
    def forward(x):
        return np.square(x), x

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (2 * saved * g,)                                # dy/dx = 2x


@register("frac")
class Frac(Op):
    """y = x - trunc(x), the fractional part with x's sign; dy/dx = 1."""

    @staticmethod
    def forward(x):
        if x.dtype.kind != "f":
            raise TypeError(f"frac: only floating-point tensors are supported, got {x.dtype}")
        return x - np.trunc(x), None

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g,)


class _Piecewise(Op):
    """y = ``f(x)``, piecewise constant: the gradient is 0 (PyTorch). Integers are copied."""

    @classmethod
    def forward(cls, x, **attrs):
        if x.dtype.kind != "f":
            return x.copy(), x.shape
        return cls.f(x, **attrs), x.shape

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (np.zeros(saved, dtype=g.dtype),)              # dy/dx = 0 (almost everywhere)


@register("floor")
class Floor(_Piecewise):
    """y = the largest integer <= x."""
    f = staticmethod(np.floor)


@register("ceil")
class Ceil(_Piecewise):
    """y = the smallest integer >= x."""
    f = staticmethod(np.ceil)


@register("trunc")
class Trunc(_Piecewise):
    """y = x rounded towards zero."""
    f = staticmethod(np.trunc)


def _round(x: np.ndarray, *, decimals: int = 0) -> np.ndarray:
    """Half to even (PyTorch's and NumPy's rule), at ``decimals`` digits: rint(x 10^d) / 10^d."""
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}")
    return np.round(x, int(decimals))


@register("round")
class Round(_Piecewise):
    """y = x rounded to ``decimals`` digits, halves to even (0.5 -> 0, 1.5 -> 2, 2.5 -> 2)."""
    f = staticmethod(_round)


@register("sign")
class Sign(Op):
    """y = -1, 0 or 1 as x is negative, zero or positive, and 0 for NaN; the gradient is 0
    (both as PyTorch)."""

    @staticmethod
    def forward(x):
        if x.dtype.kind != "f":
            return (x.copy() if x.dtype == np.bool_ else np.sign(x)), x.shape
        return np.where(np.isnan(x), x.dtype.type(0), np.sign(x)), x.shape

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (np.zeros(saved, dtype=g.dtype),)


@register("atan2")
class Atan2(Op):
    """y = atan2(a, b), the angle of the point (b, a) in (-pi, pi] (broadcasting); at the
    origin both gradients are 0, as in PyTorch."""

    @staticmethod
    def forward(a, b):
        a, b = as_float(a), as_float(b)
        return broadcast_binary("atan2", np.arctan2, a, b), (a, b)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        a, b = saved
        squared_norm = a * a + b * b
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(squared_norm == 0, 0, g / squared_norm).astype(g.dtype, copy=False)
        return (unbroadcast(scale * b, a.shape),               # dy/da = b / (a^2 + b^2)
                unbroadcast(-scale * a, b.shape))              # dy/db = -a / (a^2 + b^2)


def _check_integer_divisor(name: str, a: np.ndarray, b: np.ndarray) -> None:
    """Integer division by zero raises, as in PyTorch (NumPy would return 0 and warn)."""
    if np.result_type(a, b).kind in "iub" and np.any(b == 0):
        raise ZeroDivisionError(f"{name}: integer division by zero")


def _trunc_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b rounded towards zero; exact for integers (no detour through floats)."""
    if np.result_type(a, b).kind == "f":
        return np.trunc(np.true_divide(a, b))
    quotient, remainder = np.divmod(a, b)
    return quotient + ((remainder != 0) & ((a < 0) != (b < 0)))


class _RoundedDivision(Op):
    """a / b rounded (broadcasting); piecewise constant, so both gradients are 0 (PyTorch)."""

    @classmethod
    def forward(cls, a, b):
        _check_integer_divisor(cls.name, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = broadcast_binary(cls.name, cls.divide, a, b)
        return y, (a.shape, b.shape)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        a_shape, b_shape = saved
        return np.zeros(a_shape, dtype=g.dtype), np.zeros(b_shape, dtype=g.dtype)


@register("floor_divide")
class FloorDivide(_RoundedDivision):
    """y = floor(a / b): ``a // b`` and ``div(a, b, rounding_mode='floor')``."""
    divide = staticmethod(np.floor_divide)


@register("div_trunc")
class TruncDivide(_RoundedDivision):
    """y = trunc(a / b): ``div(a, b, rounding_mode='trunc')``."""
    divide = staticmethod(_trunc_divide)


class _Remainder(Op):
    """y = a - q(a / b) b for a rounding q (broadcasting); dy/da = 1, dy/db = -q(a / b)."""

    @classmethod
    def forward(cls, a, b):
        _check_integer_divisor(cls.name, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = broadcast_binary(cls.name, cls.remainder, a, b)
        return y, (a, b)

    @classmethod
    def vjp(cls, g, saved, needs_input_grad):
        a, b = saved
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient = cls.quotient(a, b)
        return unbroadcast(g, a.shape), unbroadcast(-g * quotient, b.shape)


@register("remainder")
class Remainder(_Remainder):
    """y = a mod b with the sign of b (Python's and PyTorch's ``%``); q = floor."""
    remainder, quotient = staticmethod(np.remainder), staticmethod(np.floor_divide)


@register("fmod")
class Fmod(_Remainder):
    """y = a mod b with the sign of a (C's fmod); q = trunc."""
    remainder, quotient = staticmethod(np.fmod), staticmethod(_trunc_divide)
