"""Elementwise ops. Binary ops broadcast like NumPy; ``unbroadcast`` undoes it in their VJPs."""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.reduce import sum_leading


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched, so it has ``shape``."""
    if g.shape == shape:
        return g
    if g.ndim < len(shape):
        g = g.reshape((1,) * (len(shape) - g.ndim) + g.shape)
    leading = g.ndim - len(shape)
    stretched = tuple(i + leading for i, n in enumerate(shape) if n == 1 and g.shape[i + leading] != 1)
    if not stretched:                       # the common case: a bias broadcast over rows
        return sum_leading(g, leading)
    g = g.sum(axis=tuple(range(leading)) + stretched, keepdims=True)
    return g.reshape(shape)


def broadcast_binary(name: str, fn, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``fn(a, b)`` with a clear error when the shapes do not broadcast."""
    try:
        return fn(a, b)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None



def keep_crossed(saved: tuple, requires_grad: tuple) -> tuple:
    """For y = f(a, b) bilinear (mul, matmul, linear): each operand is needed only for the
    OTHER one's gradient, so keep a only when b requires grad and b only when a does.
    ``saved`` starts with (a, b, ...); the rest is kept as it is."""
    a, b, *rest = saved
    return ((a if requires_grad[1] else None), (b if requires_grad[0] else None), *rest)

@register("add")
class Add(Op):
    """y = a + b (broadcasting)."""

    @staticmethod
    def forward(a, b):
        return broadcast_binary("add", np.add, a, b), (a.shape, b.shape)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        a_shape, b_shape = saved
        return unbroadcast(g, a_shape), unbroadcast(g, b_shape)  # dy/da = dy/db = 1


@register("sub")
class Sub(Op):
    """y = a - b (broadcasting)."""

    @staticmethod
    def forward(a, b):
        return broadcast_binary("sub", np.subtract, a, b), (a.shape, b.shape)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        a_shape, b_shape = saved
        return unbroadcast(g, a_shape), unbroadcast(-g, b_shape)  # dy/db = -1


@register("mul")
class Mul(Op):
    """y = a * b (broadcasting). Each input is kept only for the other's gradient."""

    @staticmethod
    def forward(a, b):
        return broadcast_binary("mul", np.multiply, a, b), (a, b, a.shape, b.shape)

    @staticmethod
    def keep_saved(saved, requires_grad):
        """``y * 2.0`` keeps nothing of y: a is needed only for b's gradient, and b for a's."""
        return keep_crossed(saved, requires_grad)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        a, b, a_shape, b_shape = saved
        ga = unbroadcast(g * b, a_shape) if needs_input_grad[0] else None    # dy/da = b
        gb = unbroadcast(g * a, b_shape) if needs_input_grad[1] else None    # dy/db = a
        return ga, gb


@register("div")
class Div(Op):
    """y = a / b (broadcasting). a is kept only for b's gradient."""

    @staticmethod
    def forward(a, b):
        return broadcast_binary("div", np.divide, a, b), (a, b, a.shape, b.shape)

    @staticmethod
    def keep_saved(saved, requires_grad):
        """``y / 2.0`` keeps nothing of y (its gradient needs only b)."""
        a, b, a_shape, b_shape = saved
        return (a if requires_grad[1] else None), b, a_shape, b_shape

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        a, b, a_shape, b_shape = saved
        ga = g / b                                   # dy/da = 1/b
        gb = unbroadcast(-ga * a / b, b_shape) if needs_input_grad[1] else None   # -a/b^2
        return unbroadcast(ga, a_shape) if needs_input_grad[0] else None, gb


@register("neg")
class Neg(Op):
    """y = -x."""

    @staticmethod
    def forward(x):
        return -x, None

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (-g,)


@register("clone")
class Clone(Op):
    """y = a copy of x."""

    @staticmethod
    def forward(x):
        return x.copy(), None

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g,)


@register("to")
class To(Op):
    """y = x converted to ``dtype``; the gradient goes back in x's dtype."""

    @staticmethod
    def forward(x, *, dtype):
        return x.astype(dtype), x.dtype

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g.astype(saved),)


@register("pow")
class Pow(Op):
    """y = x ** exponent, exponent a Python number."""

    @staticmethod
    def forward(x, *, exponent):
        return x ** exponent, (x, exponent)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, exponent = saved
        if exponent == 0:
            return (np.zeros_like(g),)
        return (g * exponent * x ** (exponent - 1),)  # dy/dx = e x^(e-1)


@register("pow_tensor")
class PowTensor(Op):
    """y = x ** e with a tensor exponent (broadcasting); also ``number ** tensor``."""

    @staticmethod
    def forward(x, e):
        y = broadcast_binary("pow", np.power, x, e)
        return y, (x, e, y)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, e, y = saved
        gx = ge = None
        if needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gx = np.where(e == 0, 0, g * e * x ** (e - 1))    # dy/dx = e x^(e-1); 0 at e = 0
            gx = unbroadcast(gx.astype(g.dtype, copy=False), x.shape)
        if needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                ge = np.where((x == 0) & (e >= 0), 0, g * y * np.log(x))    # dy/de = y ln x
            ge = unbroadcast(ge.astype(g.dtype, copy=False), e.shape)
        return gx, ge


@register("exp")
class Exp(Op):
    """y = e^x."""

    @staticmethod
    def forward(x):
        y = np.exp(x)
        return y, y

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g * saved,)                          # dy/dx = y


@register("log")
class Log(Op):
    """y = ln x."""

    @staticmethod
    def forward(x):
        return np.log(x), x

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g / saved,)                          # dy/dx = 1/x


@register("sqrt")
class Sqrt(Op):
    """y = sqrt(x)."""

    @staticmethod
    def forward(x):
        y = np.sqrt(x)
        return y, y

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g / (2 * saved),)                    # dy/dx = 1 / (2 sqrt x)


@register("abs")
class Abs(Op):
    """y = |x|; the gradient at 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(x):
        return np.abs(x), np.sign(x)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g * saved,)                          # dy/dx = sign(x)


@register("clamp")
class Clamp(Op):
    """y = min(max(x, min), max); the gradient passes only where min < x < max (PyTorch 2.14:
    0 at the bounds, everywhere when min == max, and where a bound is NaN)."""

    @staticmethod
    def forward(x, *, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        for bound in (min, max):
            if bound is not None and not isinstance(bound, (int, float, np.integer, np.floating)):
                raise TypeError(f"clamp: min and max must be numbers, got {type(bound).__name__}")
        if min is not None and max is not None and min > max:
            raise ValueError(f"clamp: min ({min}) is greater than max ({max})")
        inside = np.ones(x.shape, dtype=bool)
        y = x
        if min is not None:
            inside &= x > min
            y = np.where(x < min, min, y) if not np.isnan(min) else np.full_like(x, np.nan)
        if max is not None:
            inside &= x < max
            y = np.where(y > max, max, y) if not np.isnan(max) else np.full_like(x, np.nan)
        return np.asarray(y).astype(x.dtype, copy=False), inside

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g * saved,)


class _Pick(Op):
    """Shared by maximum and minimum: y = pick(a, b) elementwise (broadcasting), and the
    gradient goes to the input picked; ties split it in half (PyTorch).

    Subclasses set ``pick`` (np.maximum or np.minimum) and ``a_wins`` (np.greater or np.less).
    """

    @classmethod
    def forward(cls, a, b):
        y = broadcast_binary(cls.name, cls.pick, a, b)
        dtype = np.result_type(a, b)
        weight_a = np.where(a == b, dtype.type(0.5), cls.a_wins(a, b).astype(dtype))
        return y, (a.shape, b.shape, weight_a)     # weight_a: 1 where a wins, 1/2 on ties, else 0

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        a_shape, b_shape, weight_a = saved
        return unbroadcast(g * weight_a, a_shape), unbroadcast(g * (1 - weight_a), b_shape)


@register("maximum")
class Maximum(_Pick):
    """y = max(a, b) elementwise (broadcasting); ties split the gradient in half (PyTorch)."""
    pick, a_wins = staticmethod(np.maximum), staticmethod(np.greater)


@register("minimum")
class Minimum(_Pick):
    """y = min(a, b) elementwise (broadcasting); ties split the gradient in half (PyTorch)."""
    pick, a_wins = staticmethod(np.minimum), staticmethod(np.less)
