"""The function forms PyTorch users type: ``mg.max(x, 1)``, ``mg.cat([a, b])``, ``mg.where(...)``.

Most are ``input.<method>(...)`` (``_method`` makes them, with the method's docstring); the
ones that join several tensors or differ from their method are written out. Names like
``max``, ``all`` and ``round`` shadow builtins in this module, as in ``torch``: the code here
reaches the builtins through ``builtins``.
"""
from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from minigrad.ops import einsum as einsum_ops, join
from minigrad.tensor import Tensor, as_tensor


def _method(name: str):
    """``mg.<name>(input, *args, **kwargs)`` = ``input.<name>(*args, **kwargs)``."""
    def function(input: Any, *args: Any, **kwargs: Any):
        return getattr(as_tensor(input), name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = getattr(Tensor, name).__doc__
    return function


def _tensors(name: str, tensors: Sequence) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    return [as_tensor(t) for t in tensors]


def _lift_pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Two operands as Tensors, a number lifted against the tensor (``Tensor._lift``)."""
    if isinstance(a, Tensor):
        return a, a._lift(b)
    if isinstance(b, Tensor):
        return b._lift(a), b
    a = as_tensor(a)
    return a, a._lift(b)


def max(input: Any, dim: Any = None, keepdim: bool = False):
    """``input.max()``, ``input.max(dim, keepdim)`` -> (values, indices), or ``maximum(input, other)``
    when the second argument is a tensor."""
    return as_tensor(input).max(dim, keepdim)


def min(input: Any, dim: Any = None, keepdim: bool = False):
    """``input.min()``, ``input.min(dim, keepdim)`` -> (values, indices), or ``minimum``."""
    return as_tensor(input).min(dim, keepdim)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim``..``end_dim`` merged (all of them by default, unlike ``F.flatten``)."""
    return as_tensor(input).flatten(start_dim, end_dim)


def cat(tensors: Sequence, dim: int = 0) -> Tensor:
    """The tensors joined along ``dim`` (their other sizes must match)."""
    return join.Cat.apply(*_tensors("cat", tensors), dim=dim)


concat = concatenate = cat


def stack(tensors: Sequence, dim: int = 0) -> Tensor:
    """The tensors (of one shape) stacked along a new dimension ``dim``."""
    return join.Stack.apply(*_tensors("stack", tensors), dim=dim)


def where(condition: Any, input: Any = None, other: Any = None):
    """``input`` where ``condition`` else ``other`` (broadcasting); with the condition alone,
    ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return as_tensor(condition).nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: pass both input and other, or the condition alone")
    input, other = _lift_pair(input, other)
    return join.Where.apply(as_tensor(condition), input, other)


def equal(input: Any, other: Any) -> bool:
    """True when both have the same shape and the same elements."""
    return as_tensor(input).equal(other)


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether |input - other| <= atol + rtol |other| everywhere."""
    return as_tensor(input).allclose(other, rtol, atol, equal_nan)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sums of products named by subscripts (``einsum("ij,jk->ik", a, b)``; the operands may
    also come as one list). Each operand's gradient is itself an einsum."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return einsum_ops.Einsum.apply(*(as_tensor(x) for x in operands), equation=equation)


def _check_ndim(name: str, expected: int, *tensors: Tensor) -> None:
    if builtins.any(t.ndim != expected for t in tensors):
        raise ValueError(f"{name}: expected {expected}-D tensors, got shapes "
                         f"{', '.join(str(t.shape) for t in tensors)}")


def mm(input: Any, mat2: Any) -> Tensor:
    """(n, m) @ (m, p) -> (n, p)."""
    input, mat2 = as_tensor(input), as_tensor(mat2)
    _check_ndim("mm", 2, input, mat2)
    return input @ mat2


def bmm(input: Any, mat2: Any) -> Tensor:
    """(b, n, m) @ (b, m, p) -> (b, n, p), no broadcasting of the batch."""
    input, mat2 = as_tensor(input), as_tensor(mat2)
    _check_ndim("bmm", 3, input, mat2)
    if input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: {input.shape} and {mat2.shape}")
    return input @ mat2


def dot(input: Any, other: Any) -> Tensor:
    """The inner product of two 1-D tensors of one length (0-d)."""
    input, other = as_tensor(input), as_tensor(other)
    _check_ndim("dot", 1, input, other)
    if input.shape != other.shape:
        raise ValueError(f"dot: the tensors have different lengths: {input.shape} and {other.shape}")
    return input @ other


def outer(input: Any, vec2: Any) -> Tensor:
    """(n,) and (m,) -> (n, m), out[i, j] = input[i] vec2[j]."""
    input, vec2 = as_tensor(input), as_tensor(vec2)
    _check_ndim("outer", 1, input, vec2)
    return einsum("i,j->ij", input, vec2)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None) -> Tensor:
    """``input.repeat_interleave(repeats, dim)``; with ``repeats`` omitted, input holds the
    counts and the result repeats 0, 1, 2, ... that often."""
    if repeats is None:
        counts = as_tensor(input)
        return Tensor._from_op(np.arange(counts.numel()), False).repeat_interleave(counts)
    return as_tensor(input).repeat_interleave(repeats, dim)


argmax, argmin = _method("argmax"), _method("argmin")
sort, argsort, topk = _method("sort"), _method("argsort"), _method("topk")
split, chunk, narrow, unflatten = _method("split"), _method("chunk"), _method("narrow"), _method("unflatten")
flip, roll = _method("flip"), _method("roll")
gather, scatter, scatter_add = _method("gather"), _method("scatter"), _method("scatter_add")
index_select, masked_fill, nonzero = _method("index_select"), _method("masked_fill"), _method("nonzero")
tril, triu, isclose = _method("tril"), _method("triu"), _method("isclose")
clamp, clip = _method("clamp"), _method("clip")
std, var, prod = _method("std"), _method("var"), _method("prod")
cumsum, cumprod, logsumexp = _method("cumsum"), _method("cumprod"), _method("logsumexp")
all, any = _method("all"), _method("any")
sum, mean, amax, amin = _method("sum"), _method("mean"), _method("amax"), _method("amin")
exp, log, sqrt, abs = _method("exp"), _method("log"), _method("sqrt"), _method("abs")
sign, floor, ceil = _method("sign"), _method("floor"), _method("ceil")
round, trunc, frac = _method("round"), _method("trunc"), _method("frac")
sin, cos, tan, asin, acos, atan = (_method(n) for n in ("sin", "cos", "tan", "asin", "acos", "atan"))
sinh, cosh, atan2 = _method("sinh"), _method("cosh"), _method("atan2")
log2, log10, log1p, expm1, exp2 = (_method(n) for n in ("log2", "log10", "log1p", "expm1", "exp2"))
rsqrt, reciprocal, square = _method("rsqrt"), _method("reciprocal"), _method("square")
remainder, fmod = _method("remainder"), _method("fmod")
div, floor_divide = _method("div"), _method("floor_divide")
reshape, permute, transpose = _method("reshape"), _method("permute"), _method("transpose")
squeeze, unsqueeze, clone = _method("squeeze"), _method("unsqueeze"), _method("clone")
sigmoid, tanh, relu = _method("sigmoid"), _method("tanh"), _method("relu")
softmax, log_softmax = _method("softmax"), _method("log_softmax")

__all__ = [
    "max", "min", "argmax", "argmin", "sort", "argsort", "topk", "flatten", "cat", "concat",
    "concatenate", "stack", "where", "split", "chunk", "narrow", "unflatten", "flip", "roll",
    "repeat_interleave", "gather", "scatter", "scatter_add", "index_select", "masked_fill",
    "nonzero", "tril", "triu", "equal", "allclose", "isclose", "clamp", "clip", "std", "var",
    "prod", "cumsum", "cumprod", "logsumexp", "all", "any", "sum", "mean", "amax", "amin",
    "exp", "log", "sqrt", "abs", "sign", "floor", "ceil", "round", "trunc", "frac", "sin", "cos",
    "tan", "asin", "acos", "atan", "sinh", "cosh", "atan2", "log2", "log10", "log1p", "expm1",
    "exp2", "rsqrt", "reciprocal", "square", "remainder", "fmod", "div", "floor_divide",
    "einsum", "mm", "bmm", "dot", "outer", "reshape", "permute", "transpose", "squeeze",
    "unsqueeze", "clone", "sigmoid", "tanh", "relu", "softmax", "log_softmax",
]
