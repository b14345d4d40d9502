"""Matrix products: matmul (batched, broadcasting like ``np.matmul``)."""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.elementwise import keep_crossed, unbroadcast
from minigrad.ops.reduce import sum_leading


def check_same_dtype(name: str, **arrays: np.ndarray | None) -> None:
    """PyTorch multiplies matrices only of one dtype (a float64 batch into float32 weights
    raises): raise naming ``name`` and every argument's dtype otherwise."""
    given = {key: a.dtype for key, a in arrays.items() if a is not None}
    if len(set(given.values())) > 1:
        listed = ", ".join(f"{key} {dtype}" for key, dtype in given.items())
        raise RuntimeError(f"{name}: expected all arguments to have the same dtype, got {listed}; "
                           f"convert the input (e.g. x.float()) or the model (model.double())")


def check_matmul_shapes(name: str, a: np.ndarray, b: np.ndarray) -> None:
    """Raise naming ``name`` unless ``a @ b`` is defined (inner sizes, batch broadcasting)."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{name}: both arguments need at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be multiplied "
                         f"({a.shape[-1]} != {inner_b})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"{name}: batch dimensions of {a.shape} and {b.shape} cannot be "
                         f"broadcast together") from None


@register("matmul")
class Matmul(Op):
    """y = a @ b. a (..., M, K) @ b (..., K, N) -> (..., M, N); 1-D operands as in NumPy."""

    @staticmethod
    def forward(a, b):
        check_same_dtype("matmul", a=a, b=b)
        check_matmul_shapes("matmul", a, b)
        return np.matmul(a, b), (a, b, a.shape, b.shape)

    @staticmethod
    def keep_saved(saved, requires_grad):
        """a is needed only for b's gradient and b for a's (``x @ frozen_w`` keeps no x)."""
        return keep_crossed(saved, requires_grad)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        a, b, a_shape, b_shape = saved
        a2_shape = (1,) + a_shape if len(a_shape) == 1 else a_shape      # (K,) -> (1, K)
        b2_shape = b_shape + (1,) if len(b_shape) == 1 else b_shape      # (K,) -> (K, 1)
        g2 = g[..., None] if len(b_shape) == 1 else g    # restore the dropped N axis
        g2 = g2[..., None, :] if len(a_shape) == 1 else g2   # restore the dropped M axis
        ga = gb = None
        if needs_input_grad[0]:
            b2 = b.reshape(b2_shape)
            ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2_shape).reshape(a_shape)  # g b^T
        if needs_input_grad[1]:
            a2 = a.reshape(a2_shape)
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2_shape).reshape(b_shape)  # a^T g
        return ga, gb


@register("linear")
class Linear(Op):
    """y = x @ w + b. x (..., in), w (in, out), b (out,) -> y (..., out)."""

    fresh_grads = True                                       # three new products

    @staticmethod
    def forward(x, w, b=None):
        check_same_dtype("linear", input=x, weight=w, bias=b)
        if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[0]:
            raise ValueError(f"linear: input {x.shape} and weight {w.shape} don't fit; the weight "
                             f"must be (in_features, out_features) with in_features = "
                             f"input.shape[-1]")
        if b is not None and b.shape != (w.shape[1],):
            raise ValueError(f"linear: bias must have shape ({w.shape[1]},), got {b.shape}")
        y = x @ w
        if b is not None:
            y += b
        return y, (x, w, w.shape, b is not None)

    @staticmethod
    def keep_saved(saved, requires_grad):
        """x is needed only for the weight's gradient, w only for the input's."""
        return keep_crossed(saved, requires_grad)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, w, (n_in, n_out), has_bias = saved
        g2 = g.reshape(-1, n_out)                            # (rows, out)
        gx = (g @ w.T) if needs_input_grad[0] else None      # dL/dx = g w^T
        gw = (x.reshape(-1, n_in).T @ g2) if needs_input_grad[1] else None  # x^T g
        if not has_bias:
            return gx, gw
        return gx, gw, (sum_leading(g2, 1) if needs_input_grad[2] else None)    # sum of g
