"""Functions that make new tensors: zeros, ones, full, *_like, rand, randn, arange, eye."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad.dtypes import resolve_dtype
from minigrad.random import generator
from minigrad.tensor import Tensor, _shape_args


def _new(array: np.ndarray, requires_grad: bool) -> Tensor:
    tensor = Tensor._from_op(array, requires_grad=False)
    tensor.requires_grad = requires_grad           # validates: integer tensors can't
    return tensor


def _checked_shape(name: str, size: tuple) -> tuple[int, ...]:
    shape = _shape_args(name, size)
    if any(n < 0 for n in shape):
        raise ValueError(f"{name}: negative dimension in shape {shape}")
    return shape


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(_checked_shape("zeros", size), resolve_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(_checked_shape("ones", size), resolve_dtype(dtype)), requires_grad)


def full(size, fill_value: Any, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; an integer or bool value gives that kind of tensor."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, numbers.Integral):
        dtype = np.int64
    if not isinstance(fill_value, (numbers.Number, np.generic)) or isinstance(fill_value, np.str_):
        raise TypeError(f"full: fill_value must be a number, got {fill_value!r}")
    shape = _checked_shape("full", (size,) if isinstance(size, (tuple, list)) else (size,))
    return _new(np.full(shape, fill_value, resolve_dtype(dtype)), requires_grad)


def zeros_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(other.shape, dtype or other.dtype), requires_grad)


def ones_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(other.shape, dtype or other.dtype), requires_grad)


def rand(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from minigrad's generator (``mg.manual_seed``)."""
    shape = _checked_shape("rand", size)
    return _new(generator().random(shape).astype(resolve_dtype(dtype)), requires_grad)


def randn(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from minigrad's generator (``mg.manual_seed``)."""
    shape = _checked_shape("randn", size)
    return _new(generator().standard_normal(shape).astype(resolve_dtype(dtype)), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype=None,
           requires_grad: bool = False) -> Tensor:
    """``[start, end)`` in steps; integers give int64, any float gives the default dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        is_integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = np.int64 if is_integral else resolve_dtype(None)
    return _new(np.arange(start, end, step).astype(dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    for what, value in (("n", n), ("m", m)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 0):
            raise ValueError(f"eye: {what} must be a non-negative integer, got {value!r}")
    return _new(np.eye(n, m, dtype=resolve_dtype(dtype)), requires_grad)
