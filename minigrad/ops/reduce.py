"""Reductions over one, several or all dimensions: sum, mean, amax, amin."""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register


class DimensionError(IndexError, ValueError):
    """A dimension index outside [-ndim, ndim - 1] (an IndexError, as in PyTorch)."""


def normalize_dim(name: str, dim: int, ndim: int) -> int:
    """Map ``dim`` (negative counts from the end) into ``range(ndim)`` or raise naming ``name``."""
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not isinstance(dim, (int, np.integer)) or not low <= dim <= high:
        raise DimensionError(f"{name}: dimension out of range (expected to be in range of "
                             f"[{low}, {high}], but got {dim})")
    return int(dim) % max(ndim, 1)


def normalize_dims(name: str, dim, ndim: int) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes; None means every axis."""
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(sorted(normalize_dim(name, d, ndim) for d in dims))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: dimension {dim} appears more than once")
    return axes if ndim else ()


def sum_leading(x: np.ndarray, count: int) -> np.ndarray:
    """Sum ``x`` over its first ``count`` axes: (a_0, ..., a_{count-1}, *rest) -> rest.

    For float arrays this is ``ones @ x.reshape(rows, -1)``, one BLAS product: np.sum over
    leading axes adds the rows one at a time, 6-17x slower when ``rest`` is small (a bias
    gradient over N*H*W pixels), and less accurate.
    """
    rest = x.shape[count:]
    if not rest or x.size == 0 or x.dtype not in (np.float32, np.float64) or not x.flags.c_contiguous:
        return x.sum(axis=tuple(range(count)))
    rows = x.reshape(-1, int(np.prod(rest)))
    return (np.ones(rows.shape[0], dtype=x.dtype) @ rows).reshape(rest)


def _sum(x: np.ndarray, axes: tuple, keepdim: bool) -> np.ndarray:
    """np.sum over ``axes``, through ``sum_leading`` when they are the leading ones."""
    if 0 < len(axes) < x.ndim and axes == tuple(range(len(axes))):
        y = sum_leading(x, len(axes))
        return y.reshape((1,) * len(axes) + y.shape) if keepdim else y
    return np.sum(x, axis=axes, keepdims=keepdim)


def expand_reduced(g: np.ndarray, shape: tuple, axes: tuple, keepdim: bool) -> np.ndarray:
    """Broadcast a reduced gradient back over ``shape`` (a read-only view)."""
    if not keepdim:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


@register("sum")
class Sum(Op):
    """y = sum of x over ``dim`` (all dims when None)."""

    @staticmethod
    def forward(x, *, dim=None, keepdim=False):
        axes = normalize_dims("sum", dim, x.ndim)
        return _sum(x, axes, keepdim), (x.shape, axes, keepdim)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        shape, axes, keepdim = saved
        return (expand_reduced(g, shape, axes, keepdim),)     # dy/dx = 1


@register("mean")
class Mean(Op):
    """y = mean of x over ``dim`` (all dims when None)."""

    @staticmethod
    def forward(x, *, dim=None, keepdim=False):
        axes = normalize_dims("mean", dim, x.ndim)
        count = int(np.prod([x.shape[a] for a in axes]))
        if x.dtype.kind != "f":
            raise TypeError(f"mean: could not infer output dtype; the input dtype must be a "
                            f"floating point type, got {x.dtype} (use .float() first)")
        if count == 0:                                   # 0 / 0, as in PyTorch
            y = np.full(np.sum(x, axis=axes, keepdims=keepdim).shape, np.nan, dtype=x.dtype)
        elif x.dtype in (np.float32, np.float64):
            y = _sum(x, axes, keepdim) / x.dtype.type(count)
        else:
            y = np.mean(x, axis=axes, keepdims=keepdim)
        return y, (x.shape, axes, keepdim, count)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        shape, axes, keepdim, count = saved
        if count == 0:                                   # an empty input: an empty gradient
            return (np.zeros(shape, dtype=g.dtype),)
        return (expand_reduced(g / count, shape, axes, keepdim),)   # dy/dx = 1/count


class _Extreme(Op):
    """Shared by amax and amin: the gradient is split evenly among tied extremes (PyTorch).

    Subclasses set ``reduce`` (np.amax or np.amin).
    """

    @classmethod
    def forward(cls, x, *, dim=None, keepdim=False):
        axes = normalize_dims(cls.name, dim, x.ndim)
        empty = [a for a in (axes or range(x.ndim)) if x.shape[a] == 0]
        if empty:
            raise DimensionError(f"{cls.name}(): Expected reduction dim {empty[0]} to have "
                                 f"non-zero size (input shape {x.shape}, dim {dim})")
        y = cls.reduce(x, axis=axes, keepdims=True)
        is_extreme = x == y
        share = is_extreme / is_extreme.sum(axis=axes, keepdims=True)
        return (y if keepdim else np.squeeze(y, axes)), (share.astype(x.dtype), axes, keepdim)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        share, axes, keepdim = saved
        return (share * expand_reduced(g, share.shape, axes, keepdim),)


@register("amax")
class Amax(_Extreme):
    """y = max of x over ``dim``."""
    reduce = staticmethod(np.amax)


@register("amin")
class Amin(_Extreme):
    """y = min of x over ``dim``."""
    reduce = staticmethod(np.amin)
