"""Reductions over one, several or all dimensions: sum, mean, amax, amin, var, std, prod,
logsumexp; and the running sum and product along one dimension, cumsum and cumprod."""
from __future__ import annotations

import warnings

import numpy as np

from minigrad.dtypes import get_default_dtype
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


def _accumulating_dtype(x: np.ndarray) -> np.dtype:
    """Sums and products of integers and booleans are int64, as in PyTorch; floats keep theirs."""
    return np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype


class _Spread(Op):
    """Shared by var and std: sum((x - mean)^2) / (N - correction) over ``dim`` (all when None).

    ``correction=1`` is Bessel's (the unbiased estimate, PyTorch's default), 0 the population
    variance. N - correction <= 0 gives inf or NaN with a warning, as in PyTorch.
    """

    @classmethod
    def forward(cls, x, *, dim=None, correction=1, keepdim=False):
        if x.dtype.kind != "f":
            raise TypeError(f"{cls.name}: only floating-point tensors are supported, got {x.dtype}")
        axes = normalize_dims(cls.name, dim, x.ndim)
        count = int(np.prod([x.shape[a] for a in axes]))
        dof = x.dtype.type(max(0, count - correction))
        if dof <= 0:
            warnings.warn(f"{cls.name}: degrees of freedom is <= 0 (N = {count}, correction = "
                          f"{correction}); the result is inf or NaN", RuntimeWarning, stacklevel=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            centered = x - x.sum(axis=axes, keepdims=True) / x.dtype.type(count)
            var = np.sum(centered * centered, axis=axes, keepdims=True) / dof
        return cls.finish(var, centered, dof, axes, keepdim)


@register("var")
class Var(_Spread):
    """y = the variance of x over ``dim``; x (...) -> reduced shape."""

    @staticmethod
    def finish(var, centered, dof, axes, keepdim):
        return (var if keepdim else np.squeeze(var, axes)), (centered, dof, axes, keepdim)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        centered, dof, axes, keepdim = saved
        g = expand_reduced(g, centered.shape, axes, keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (2 * centered / dof),)                # dy/dx = 2 (x - mean) / (N - c)


@register("std")
class Std(_Spread):
    """y = the standard deviation of x over ``dim``; the gradient is 0 where y = 0 (PyTorch)."""

    @staticmethod
    def finish(var, centered, dof, axes, keepdim):
        std = np.sqrt(var)
        return (std if keepdim else np.squeeze(std, axes)), (centered, dof, std, axes, keepdim)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        centered, dof, std, axes, keepdim = saved
        g = expand_reduced(g, centered.shape, axes, keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(std == 0, 0, 1 / (dof * std)).astype(std.dtype)
        return (g * centered * scale,)                        # dy/dx = (x - mean) / ((N - c) y)


def _exclusive_cumprod(x: np.ndarray, axis: int) -> np.ndarray:
    """out[i] = x[0] * ... * x[i-1] along ``axis`` (out[0] = 1): no division, zeros are exact."""
    moved = np.moveaxis(x, axis, 0)
    out = np.ones_like(moved)
    np.cumprod(moved[:-1], axis=0, out=out[1:])
    return np.moveaxis(out, 0, axis)


@register("prod")
class Prod(Op):
    """y = the product of x over ``dim`` (one int; every element when None)."""

    @staticmethod
    def forward(x, *, dim=None, keepdim=False):
        dtype = _accumulating_dtype(x)
        if x.ndim == 0 and dim is not None:
            normalize_dim("prod", dim, 0)                    # a 0-d tensor has dim 0 (or -1)
            dim = None
        if dim is None:
            y = np.prod(x, dtype=dtype).reshape((1,) * x.ndim if keepdim else ())
            return y, (x, None, keepdim)
        if not isinstance(dim, (int, np.integer)):
            raise TypeError(f"prod: dim must be an int or None (one dimension), got {dim!r}")
        axis = normalize_dim("prod", dim, x.ndim)
        return np.prod(x, axis=axis, keepdims=keepdim, dtype=dtype), (x, axis, keepdim)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, axis, keepdim = saved
        line = x.reshape(-1) if axis is None else x
        along = 0 if axis is None else axis
        # dy/dx_i = prod_{j != i} x_j = (product before i) * (product after i)
        after = np.flip(_exclusive_cumprod(np.flip(line, along), along), along)
        others = _exclusive_cumprod(line, along) * after
        if axis is None:
            return ((g.reshape(()) * others).reshape(x.shape),)
        return (expand_reduced(g, x.shape, (axis,), keepdim) * others,)


@register("logsumexp")
class Logsumexp(Op):
    """y = log(sum(exp(x))) over ``dim``, computed as m + log(sum(exp(x - m))) with m = max."""

    @staticmethod
    def forward(x, *, dim, keepdim=False):
        if x.dtype.kind != "f":
            x = x.astype(get_default_dtype())              # integers give floats (PyTorch)
        axes = normalize_dims("logsumexp", dim, x.ndim)
        shift = np.amax(x, axis=axes, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
        shift = np.where(np.isfinite(shift), shift, 0)          # all -inf (or inf) rows: no shift
        with np.errstate(divide="ignore"):
            y = np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift
        with np.errstate(invalid="ignore"):
            softmax = np.exp(x - y)
        return (y if keepdim else np.squeeze(y, axes)), (softmax, axes, keepdim)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        softmax, axes, keepdim = saved
        return (expand_reduced(g, softmax.shape, axes, keepdim) * softmax,)  # dy/dx = softmax(x)


@register("cumsum")
class Cumsum(Op):
    """y_i = x_0 + ... + x_i along ``dim`` (integers accumulate in int64)."""

    @staticmethod
    def forward(x, *, dim):
        axis = normalize_dim("cumsum", dim, x.ndim)
        if x.ndim == 0:
            return x.astype(_accumulating_dtype(x)), axis
        return np.cumsum(x, axis=axis, dtype=_accumulating_dtype(x)), axis

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        if g.ndim == 0:
            return (g,)
        return (np.flip(np.cumsum(np.flip(g, saved), axis=saved), saved),)  # dx_i = sum_{k>=i} g_k


@register("cumprod")
class Cumprod(Op):
    """y_i = x_0 * ... * x_i along ``dim`` (integers accumulate in int64)."""

    @staticmethod
    def forward(x, *, dim):
        axis = normalize_dim("cumprod", dim, x.ndim)
        if x.ndim == 0:
            return x.astype(_accumulating_dtype(x)), (x, 0, x)
        y = np.cumprod(x, axis=axis, dtype=_accumulating_dtype(x))
        return y, (x, axis, y)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        """dx_i = sum_{k>=i} g_k prod_{j<=k, j!=i} x_j, in three parts along the axis:

        before the first zero, x_i != 0 and the sum is sum_{k>=i} g_k y_k / x_i; at the first
        zero z it is y_{z-1} sum_{k>=z} g_k prod_{z<j<=k} x_j; after it every term holds x_z = 0.
        """
        x, axis, y = saved
        if x.ndim == 0:
            return (g,)
        seen = np.cumsum(x == 0, axis=axis)                      # zeros at or before each i
        before, first = seen == 0, (seen == 1) & (x == 0)
        x_before = np.where(before, x, 1)
        reverse_sum = np.flip(np.cumsum(np.flip(g * y, axis), axis=axis), axis)
        gx = np.where(before, reverse_sum / x_before, 0)
        after_first = np.cumprod(np.where((seen >= 1) & ~first, x, 1), axis=axis)
        at_first = (np.prod(x_before, axis=axis, keepdims=True)
                    * np.sum(np.where(seen >= 1, g * after_first, 0), axis=axis, keepdims=True))
        return (np.where(first, at_first, gx).astype(g.dtype, copy=False),)
