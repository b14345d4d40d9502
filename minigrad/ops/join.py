"""Ops that join tensors or choose between them: cat, stack, where.

(Splitting needs no op of its own: ``split`` and ``chunk`` are slices, ``getitem``.)
"""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.elementwise import unbroadcast
from minigrad.ops.reduce import normalize_dim


def promoted_dtype(*arrays: np.ndarray) -> np.dtype:
    """PyTorch's result dtype for tensors of one category: a float among them wins over
    integers and booleans (int64 with float32 is float32; NumPy would say float64)."""
    floats = [x.dtype for x in arrays if x.dtype.kind == "f"]
    return np.result_type(*floats) if floats else np.result_type(*arrays)


def _is_legacy_empty(x: np.ndarray) -> bool:
    """A 1-D empty tensor, which ``cat`` skips whatever the others' shapes (PyTorch)."""
    return x.shape == (0,)


@register("cat")
class Cat(Op):
    """y = the inputs joined along ``dim``: x_i (..., n_i, ...) -> (..., sum n_i, ...), in
    PyTorch's promoted dtype; each gradient goes back in its input's dtype.

    As in PyTorch, 1-D empty inputs (shape (0,)) are skipped whatever the others' shapes.
    """

    @staticmethod
    def forward(*xs, dim=0):
        if not xs:
            raise ValueError("cat: expected a non-empty sequence of tensors")
        joined = [x for x in xs if not _is_legacy_empty(x)] or list(xs[:1])
        if any(x.ndim == 0 for x in joined):
            raise ValueError("cat: zero-dimensional tensors cannot be concatenated; "
                             "unsqueeze them or use stack")
        first = joined[0]
        axis = normalize_dim("cat", dim, first.ndim)
        for x in joined[1:]:
            if x.ndim != first.ndim or any(n != m for d, (n, m) in enumerate(zip(x.shape, first.shape))
                                           if d != axis):
                raise ValueError(f"cat: sizes of tensors must match except in dimension {axis}; "
                                 f"got shapes {[t.shape for t in xs]}")
        y = np.concatenate(joined, axis=axis, dtype=promoted_dtype(*xs))
        sizes = [0 if _is_legacy_empty(x) else x.shape[axis] for x in xs]
        return y, (axis, sizes, [(x.shape, x.dtype) for x in xs])

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        axis, sizes, inputs = saved
        pieces = np.split(g, np.cumsum(sizes)[:-1], axis=axis)   # dy/dx_i = the slice of x_i
        return tuple(p.reshape(shape).astype(dtype, copy=False) for p, (shape, dtype) in zip(pieces, inputs))


@register("stack")
class Stack(Op):
    """y = the inputs (all of one shape S) stacked along a new ``dim``: -> S with k inserted."""

    @staticmethod
    def forward(*xs, dim=0):
        if not xs:
            raise ValueError("stack: expected a non-empty sequence of tensors")
        for i, x in enumerate(xs[1:], 1):
            if x.shape != xs[0].shape:
                raise ValueError(f"stack: expects each tensor to be equal size, but got "
                                 f"{xs[0].shape} at entry 0 and {x.shape} at entry {i}")
        axis = normalize_dim("stack", dim, xs[0].ndim + 1)
        return np.stack(xs, axis=axis, dtype=promoted_dtype(*xs)), (axis, [x.dtype for x in xs])

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        axis, dtypes = saved
        return tuple(gi.astype(dtype, copy=False)                  # dy/dx_i = the i-th slice
                     for gi, dtype in zip(np.moveaxis(g, axis, 0), dtypes))


@register("where")
class Where(Op):
    """y = a where cond else b (all three broadcast together); ``masked_fill`` too."""

    @staticmethod
    def forward(cond, a, b):
        if cond.dtype != np.bool_:
            raise TypeError(f"where: the condition must be a boolean tensor, got {cond.dtype}")
        try:
            shape = np.broadcast_shapes(cond.shape, a.shape, b.shape)
        except ValueError:
            raise ValueError(f"where: shapes {cond.shape} (condition), {a.shape} and {b.shape} "
                             f"cannot be broadcast together") from None
        y = np.where(cond, a, b).astype(promoted_dtype(a, b), copy=False)
        return y, (np.broadcast_to(cond, shape), (a.shape, a.dtype), (b.shape, b.dtype))

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        cond, (a_shape, a_dtype), (b_shape, b_dtype) = saved
        zero = g.dtype.type(0)
        ga = unbroadcast(np.where(cond, g, zero), a_shape)         # dy/da = 1 where cond
        gb = unbroadcast(np.where(cond, zero, g), b_shape)         # dy/db = 1 elsewhere
        return None, ga.astype(a_dtype, copy=False), gb.astype(b_dtype, copy=False)
