"""Values picked along a dimension by integer indices: max/min with ``dim``, sort, topk, gather.

The indices are found first, outside the graph (``arg_extreme``, ``sort_indices``: NumPy
in, int64 out, no gradient, as PyTorch's argmax records nothing); the registered ops then
take the values at those indices, and their VJP sends each gradient back to the position it
was taken from. The ops differ only in their names, which the graph shows.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.reduce import normalize_dim

# What max/min with a dim, sort and topk return, as torch.return_types: t.values, t.indices
RETURN_TYPES = {name: namedtuple(name, ("values", "indices")) for name in ("max", "min", "sort", "topk")}


def along_dim_index(index: np.ndarray, axis: int) -> tuple:
    """The NumPy index addressing ``x[i_0, .., index[i_0, .., i_k], .., i_k]`` (``axis`` replaced).

    Every other dimension is an open grid ``arange(index.shape[d])``, so ``x[result]`` has
    index's shape (``np.take_along_axis`` without its broadcasting).
    """
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grids[axis] = index
    return tuple(grids)


def arg_extreme(name: str, x: np.ndarray, dim=None, keepdim: bool = False,
                largest: bool = True) -> np.ndarray:
    """int64 position of the max (``largest``) or min of x along ``dim`` (of the flattened x when
    None). Ties go to the first position and a NaN wins, as in PyTorch."""
    pick = np.argmax if largest else np.argmin
    if dim is None:
        if x.size == 0:
            raise ValueError(f"{name}: expected a reduction dim to be specified for an empty "
                             f"input (shape {x.shape})")
        return np.full((1,) * x.ndim if keepdim else (), pick(x.reshape(-1)), dtype=np.int64)
    axis = normalize_dim(name, dim, x.ndim)
    if x.ndim == 0:
        return np.zeros((), dtype=np.int64)
    if x.shape[axis] == 0:
        raise ValueError(f"{name}: cannot reduce over dimension {axis} of size 0 (input {x.shape})")
    return pick(x, axis=axis, keepdims=keepdim).astype(np.int64)


def sort_indices(name: str, x: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """int64 indices that sort x along ``dim``, stable (ties keep their order) with NaN as the
    largest value, as PyTorch's sort on the CPU."""
    axis = normalize_dim(name, dim, x.ndim)
    if x.ndim == 0:
        return np.zeros((), dtype=np.int64)
    if not descending:
        return np.argsort(x, axis=axis, kind="stable").astype(np.int64)
    # sort the reversed x ascending, then reverse again: descending, ties still in order
    reversed_order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (x.shape[axis] - 1 - np.flip(reversed_order, axis)).astype(np.int64)


class _TakeAlongDim(Op):
    """y = x taken at ``index`` along ``dim``: y[.., j, ..] = x[.., index[.., j, ..], ..].

    x (..., n, ...), index (..., k, ...) of integers, no larger than x in the other dims ->
    y of index's shape (with ``keepdim=False``, and k = 1, without that dimension).
    """

    @classmethod
    def forward(cls, x, index, *, dim, keepdim=True):
        if index.dtype.kind not in "iu":
            raise TypeError(f"{cls.name}: index must be an integer tensor, got {index.dtype}")
        if index.ndim != x.ndim:
            raise ValueError(f"{cls.name}: index {index.shape} must have as many dimensions "
                             f"as the input {x.shape}")
        axis = normalize_dim(cls.name, dim, x.ndim)
        n = x.shape[axis]
        if index.size and (index.min() < 0 or index.max() >= n):
            raise IndexError(f"{cls.name}: index values in [{index.min()}, {index.max()}] are "
                             f"out of range for dimension {axis} of size {n} (input {x.shape})")
        if any(i > m for d, (i, m) in enumerate(zip(index.shape, x.shape)) if d != axis):
            raise ValueError(f"{cls.name}: index {index.shape} must be no larger than the "
                             f"input {x.shape} outside dimension {axis}")
        where = along_dim_index(index, axis)
        y = x[where]
        return (y if keepdim else np.squeeze(y, axis)), (x.shape, where, axis, keepdim)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        shape, where, axis, keepdim = saved
        gx = np.zeros(shape, dtype=g.dtype)
        np.add.at(gx, where, g if keepdim else np.expand_dims(g, axis))  # dx[index] += g
        return gx, None


@register("max")
class MaxAlongDim(_TakeAlongDim):
    """``x.max(dim)``'s values, at the argmax indices (the first maximum, as in PyTorch)."""


@register("min")
class MinAlongDim(_TakeAlongDim):
    """``x.min(dim)``'s values, at the argmin indices (the first minimum, as in PyTorch)."""


@register("sort")
class Sort(_TakeAlongDim):
    """``x.sort(dim)``'s values, at the sorting indices."""


@register("topk")
class Topk(_TakeAlongDim):
    """``x.topk(k, dim)``'s values, at the first k sorting indices."""


@register("gather")
class Gather(_TakeAlongDim):
    """``x.gather(dim, index)``: repeated indices add their gradients up."""
