"""Ops that write or select by index: scatter, scatter_add, index_select, tril, triu.

(``gather`` lives with the other index-taking ops in ``select.py``; ``masked_fill`` is
``where``; ``repeat_interleave`` is an ``index_select``.)
"""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.reduce import normalize_dim
from minigrad.ops.select import along_dim_index


def _scatter_target(name: str, x: np.ndarray, dim: int, index: np.ndarray,
                    src: np.ndarray) -> tuple[tuple, tuple]:
    """(where in x, which part of src): PyTorch's scatter rules, checked with clear errors.

    index, src and x have one number of dims; index is no larger than src anywhere and no
    larger than x outside ``dim``; only src[:index.shape] is used.
    """
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got {index.dtype}")
    if not index.ndim == src.ndim == x.ndim:
        raise ValueError(f"{name}: index {index.shape}, src {src.shape} and input {x.shape} "
                         f"must have the same number of dimensions")
    axis = normalize_dim(name, dim, x.ndim)
    if any(i > s for i, s in zip(index.shape, src.shape)) or any(
            i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != axis):
        raise ValueError(f"{name}: index {index.shape} must be no larger than src {src.shape} "
                         f"and, outside dimension {axis}, than the input {x.shape}")
    if index.size and (index.min() < 0 or index.max() >= x.shape[axis]):
        raise IndexError(f"{name}: index values in [{index.min()}, {index.max()}] are out of "
                         f"range for dimension {axis} of size {x.shape[axis]}")
    return along_dim_index(index, axis), tuple(slice(n) for n in index.shape)


@register("scatter")
class Scatter(Op):
    """y = x with y[.., index[.., j, ..], ..] = src[.., j, ..] along ``dim``.

    x (..., n, ...), index and src (..., k, ...) -> y like x. Where an index repeats, the
    last write wins here (PyTorch leaves it unspecified).
    """

    @staticmethod
    def forward(x, index, src, *, dim):
        where, used = _scatter_target("scatter", x, dim, index, src)
        y = x.copy()
        y[where] = src[used]
        return y, (where, used, src.shape)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        where, used, src_shape = saved
        gx = g.copy()
        gx[where] = 0                                   # overwritten elements get nothing
        gsrc = np.zeros(src_shape, dtype=g.dtype)
        gsrc[used] = g[where]                           # dy/dsrc: the gradient where it landed
        return gx, None, gsrc


@register("scatter_add")
class ScatterAdd(Op):
    """y = x with src[.., j, ..] added at y[.., index[.., j, ..], ..] (repeats add up)."""

    @staticmethod
    def forward(x, index, src, *, dim):
        where, used = _scatter_target("scatter_add", x, dim, index, src)
        y = x.copy()
        np.add.at(y, where, src[used])
        return y, (where, used, src.shape)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        where, used, src_shape = saved
        gsrc = np.zeros(src_shape, dtype=g.dtype)
        gsrc[used] = g[where]                           # dy/dsrc = g gathered at the index
        return g, None, gsrc                            # dy/dx = 1


@register("index_select")
class IndexSelect(Op):
    """y = x with dimension ``dim`` replaced by x's entries at ``index`` (1-D integers):
    x (..., n, ...), index (k,) -> (..., k, ...)."""

    @staticmethod
    def forward(x, index, *, dim):
        if index.dtype.kind not in "iu" or index.ndim > 1:
            raise TypeError(f"index_select: index must be a 0-d or 1-D integer tensor, got "
                            f"{index.dtype} of shape {index.shape}")
        axis = normalize_dim("index_select", dim, x.ndim)
        index = index.reshape(-1)
        n = x.shape[axis] if x.ndim else 1
        if index.size and (index.min() < 0 or index.max() >= n):
            raise IndexError(f"index_select: index values in [{index.min()}, {index.max()}] "
                             f"are out of range for dimension {axis} of size {n}")
        return np.take(x, index, axis=axis), (x.shape, index, axis)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        shape, index, axis = saved
        gx = np.zeros(shape, dtype=g.dtype)
        np.add.at(np.moveaxis(gx, axis, 0), index, np.moveaxis(g, axis, 0))  # dx[index] += g
        return gx, None


class _Triangle(Op):
    """y = x with the entries off one triangle of its last two dims zeroed; (..., n, m) -> same.

    ``diagonal`` shifts the boundary: 0 the main diagonal, k > 0 above it, k < 0 below it.
    """

    @classmethod
    def forward(cls, x, *, diagonal=0):
        if x.ndim < 2:
            raise ValueError(f"{cls.name}: input tensor must have at least 2 dimensions, got "
                             f"shape {x.shape}")
        return cls.keep(x, diagonal), diagonal

    @classmethod
    def vjp(cls, g, saved, needs_input_grad):
        return (cls.keep(g, saved),)                    # dy/dx = 1 on the kept triangle


@register("tril")
class Tril(_Triangle):
    """The lower triangle (j <= i + diagonal) is kept."""
    keep = staticmethod(np.tril)


@register("triu")
class Triu(_Triangle):
    """The upper triangle (j >= i + diagonal) is kept."""
    keep = staticmethod(np.triu)
