"""Ops that join tensors or choose between them: cat, stack, where.

(Splitting needs no op of its own: ``split`` and ``chunk`` are slices, ``getitem``.)
"""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.elementwise import unbroadcast
from minigrad.ops.reduce import normalize_dim


def _is_legacy_empty(x: np.ndarray) -> bool:
    """A 1-D empty tensor, which ``cat`` skips whatever the others' shapes (PyTorch)."""
    return x.shape == (0,)


@register("cat")
class Cat(Op):
    """y = the inputs joined along ``dim``: x_i (..., n_i, ...) -> (..., sum n_i, ...).

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
        y = np.concatenate(joined, axis=axis)
        sizes = [0 if _is_legacy_empty(x) else x.shape[axis] for x in xs]
        return y, (axis, sizes, [x.shape for x in xs])

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        axis, sizes, shapes = saved
        pieces = np.split(g, np.cumsum(sizes)[:-1], axis=axis)   # dy/dx_i = the slice of x_i
        return tuple(p.reshape(s) for p, s in zip(pieces, shapes))


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
        return np.stack(xs, axis=axis), axis

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return tuple(np.moveaxis(g, saved, 0))                     # dy/dx_i = the i-th slice


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
        return np.where(cond, a, b), (np.broadcast_to(cond, shape), a.shape, b.shape)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        cond, a_shape, b_shape = saved
        zero = g.dtype.type(0)
        return (None,
                unbroadcast(np.where(cond, g, zero), a_shape),     # dy/da = 1 where cond
                unbroadcast(np.where(cond, zero, g), b_shape))     # dy/db = 1 elsewhere
