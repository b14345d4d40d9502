"""Tensor: a NumPy array with a gradient, a place in the graph and a version counter.

Operators and methods only wire to registered ops (``minigrad.ops``); the math lives there.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.dtypes import get_default_dtype
from minigrad.ops import activation, base
from minigrad.ops import elementwise as ew
from minigrad.ops import linalg, reduce, shape as shape_ops


class _VersionCounter:
    """How many in-place changes a tensor's memory has seen (shared by views of it)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


def _to_array(data: Any, dtype) -> np.ndarray:
    """A fresh array for ``data``: arrays keep their dtype, Python floats take the default."""
    if isinstance(data, Tensor):
        data = data.data
    array = np.array(data, dtype=None if dtype is None else np.dtype(dtype))
    if not isinstance(data, (np.ndarray, np.generic)):
        if dtype is None and array.dtype.kind == "f":
            array = array.astype(get_default_dtype())
        elif dtype is None and array.dtype.kind in "iu":
            array = array.astype(np.int64)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: cannot make a tensor from data of dtype {array.dtype} "
                        f"(type {type(data).__name__}); use numbers, lists or numeric arrays")
    return array


def _shape_args(name: str, shape: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) for n in shape):
        raise TypeError(f"{name}: shape must be integers, got {shape}")
    return tuple(int(n) for n in shape)


def _unary(op: type[base.Op]):
    """The Tensor method ``x.f()`` = ``op.apply(x)``."""
    def method(self: Tensor) -> Tensor:
        return op.apply(self)
    method.__doc__ = op.__doc__
    return method


def _binary(op: type[base.Op], reflected: bool = False):
    """The operator ``x (op) other``, or with ``reflected`` ``other (op) x`` (``__radd__``, ...).

    ``other`` goes through ``Tensor._lift``: a Python number takes x's dtype where it fits.
    """
    def method(self: Tensor, other: Any) -> Tensor:
        other = self._lift(other)
        return op.apply(other, self) if reflected else op.apply(self, other)
    method.__doc__ = op.__doc__
    return method


def _comparison(fn):
    """The comparison ``x < other`` (etc.): a boolean tensor outside the graph."""
    def method(self: Tensor, other: Any) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._from_op(np.asarray(fn(self.data, other)), requires_grad=False)
    method.__doc__ = f"Elementwise {fn.__name__}: a boolean tensor, no gradient."
    return method


class Tensor:
    """An n-dimensional array that records the ops applied to it when it requires grad."""

    __array_priority__ = 1000          # ndarray (op) Tensor defers to Tensor's reflected op

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None) -> None:
        self.data = _to_array(data, dtype)
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Node | None = None
        self._version_counter = _VersionCounter()
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, data: np.ndarray, requires_grad: bool) -> Tensor:
        """Wrap an array an op made (no copy, no checks)."""
        tensor = cls.__new__(cls)
        tensor.data, tensor.grad, tensor.grad_fn = data, None, None
        tensor._version_counter = _VersionCounter()
        tensor._requires_grad = requires_grad
        return tensor

    def _share_version_with(self, base: Tensor) -> None:
        self._version_counter = base._version_counter

    # ----- attributes -------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self.grad_fn is not None:
            raise RuntimeError("requires_grad: you can only change the flag of leaf tensors; "
                               "use detach() to get a leaf")
        if flag and self.data.dtype.kind != "f":
            raise RuntimeError(f"requires_grad: only floating-point tensors can require grad, "
                               f"got dtype {self.data.dtype}")
        self._requires_grad = bool(flag)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_counter.value

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[reduce.normalize_dim("size", dim, self.ndim)]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ----- conversion -------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory, as in PyTorch)."""
        return self.data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python "
                             f"number, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def to(self, dtype) -> Tensor:
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else ew.To.apply(self, dtype=dtype)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = [] if self.dtype in (get_default_dtype(), np.int64, np.bool_) else [f"dtype={self.dtype}"]
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ----- autograd ---------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf), weighted by ``gradient``, into every leaf's ``.grad``."""
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no grad_fn "
                               "(was it computed under no_grad, or from inputs without "
                               "requires_grad=True?)")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward: grad can be implicitly created only for scalar "
                                   f"outputs, but this tensor has shape {self.shape}; pass "
                                   f"gradient= with that shape")
            gradient = np.ones_like(self.data)
        gradient = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient,
                              dtype=self.dtype)
        if gradient.shape != self.shape:
            raise RuntimeError(f"backward: gradient has shape {gradient.shape} but the tensor "
                               f"has shape {self.shape}")
        if self.grad_fn is None:
            self._accumulate_grad(gradient, owned=False)
        else:
            autograd.run_backward(self.grad_fn, gradient, retain_graph)

    def _accumulate_grad(self, g: np.ndarray, owned: bool) -> None:
        """Add ``g`` into ``.grad`` (the engine's call for a leaf; see ``minigrad.autograd``).

        The first gradient becomes ``.grad``: the array itself when ``owned`` (the engine made
        it and no one else holds it) and of this tensor's dtype, else a copy in that dtype.
        """
        if g.shape != self.shape:
            raise RuntimeError(f"backward: gradient of shape {g.shape} for a leaf of shape "
                               f"{self.shape}")
        if self.grad is None:
            data = g if owned and g.dtype == self.dtype else np.array(g, dtype=self.dtype)
            self.grad = Tensor._from_op(data, requires_grad=False)
        else:
            self.grad.data += g
            self.grad._version_counter.bump()

    def detach(self) -> Tensor:
        """A leaf sharing this tensor's memory (and version counter), outside the graph."""
        tensor = Tensor._from_op(self.data, requires_grad=False)
        tensor._share_version_with(self)
        return tensor

    def requires_grad_(self, flag: bool = True) -> Tensor:
        self.requires_grad = flag
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves keep it anyway)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain the gradient of a tensor that does "
                               "not require grad")
        if self.grad_fn is not None:
            autograd.retain(self.grad_fn, self)

    # ----- operators --------------------------------------------------------------------
    def _lift(self, other: Any) -> Tensor:
        """``other`` as a Tensor; a Python number takes this tensor's dtype where it fits."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number) and not isinstance(other, np.generic):
            keeps_dtype = self.dtype.kind == "f" or isinstance(other, (bool, numbers.Integral))
            dtype = self.dtype if keeps_dtype else get_default_dtype()
            return Tensor._from_op(np.asarray(other, dtype=dtype), requires_grad=False)
        return as_tensor(other)

    __add__ = _binary(ew.Add)
    __radd__ = _binary(ew.Add, reflected=True)
    __sub__ = _binary(ew.Sub)
    __rsub__ = _binary(ew.Sub, reflected=True)
    __mul__ = _binary(ew.Mul)
    __rmul__ = _binary(ew.Mul, reflected=True)
    __truediv__ = _binary(ew.Div)
    __rtruediv__ = _binary(ew.Div, reflected=True)
    __matmul__ = _binary(linalg.Matmul)
    __rmatmul__ = _binary(linalg.Matmul, reflected=True)
    __neg__ = _unary(ew.Neg)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, numbers.Number) and not isinstance(exponent, np.generic):
            return ew.Pow.apply(self, exponent=exponent)
        return ew.PowTensor.apply(self, self._lift(exponent))

    def __rpow__(self, base: Any) -> Tensor:
        return ew.PowTensor.apply(self._lift(base), self)

    pow = __pow__

    __lt__ = _comparison(np.less)
    __le__ = _comparison(np.less_equal)
    __gt__ = _comparison(np.greater)
    __ge__ = _comparison(np.greater_equal)
    __eq__ = _comparison(np.equal)
    __ne__ = _comparison(np.not_equal)
    __hash__ = object.__hash__

    # ----- elementwise and reductions ---------------------------------------------------
    exp = _unary(ew.Exp)
    log = _unary(ew.Log)
    sqrt = _unary(ew.Sqrt)
    abs = __abs__ = _unary(ew.Abs)
    relu = _unary(activation.Relu)
    sigmoid = _unary(activation.Sigmoid)
    tanh = _unary(activation.Tanh)
    clone = _unary(ew.Clone)

    def softmax(self, dim: int) -> Tensor:
        return activation.Softmax.apply(self, dim=dim)

    def log_softmax(self, dim: int) -> Tensor:
        return activation.LogSoftmax.apply(self, dim=dim)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        return ew.Clamp.apply(self, min=min, max=max)

    def maximum(self, other: Any) -> Tensor:
        return ew.Maximum.apply(self, self._lift(other))

    def minimum(self, other: Any) -> Tensor:
        return ew.Minimum.apply(self, self._lift(other))

    def sum(self, dim=None, keepdim: bool = False) -> Tensor:
        return reduce.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim: bool = False) -> Tensor:
        return reduce.Mean.apply(self, dim=dim, keepdim=keepdim)

    def amax(self, dim=None, keepdim: bool = False) -> Tensor:
        return reduce.Amax.apply(self, dim=dim, keepdim=keepdim)

    def amin(self, dim=None, keepdim: bool = False) -> Tensor:
        return reduce.Amin.apply(self, dim=dim, keepdim=keepdim)

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    # ----- shape ------------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        return shape_ops.Reshape.apply(self, shape=_shape_args("reshape", shape))

    view = reshape

    def permute(self, *dims) -> Tensor:
        return shape_ops.Permute.apply(self, dims=_shape_args("permute", dims))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return shape_ops.Transpose.apply(self, dim0=dim0, dim1=dim1)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return shape_ops.Flatten.apply(self, start_dim=start_dim, end_dim=end_dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return shape_ops.Unsqueeze.apply(self, dim=dim)

    def squeeze(self, dim=None) -> Tensor:
        return shape_ops.Squeeze.apply(self, dim=dim)

    def __getitem__(self, index: Any) -> Tensor:
        return shape_ops.GetItem.apply(self, index=_numpy_index(index))

    # ----- in place ---------------------------------------------------------------------
    def _modify(self, name: str, op: type[base.Op], other: Any = None, **attrs: Any) -> Tensor:
        """Run ``op`` on (self, other) and write the result into self's memory.

        Outside grad recording this is a plain in-place update. While recording, the op is
        applied to a copy of the old value and self takes the op's place in the graph.
        """
        inputs = [self] if other is None else [self, self._lift(other)]
        recording = autograd.is_grad_enabled() and any(t.requires_grad for t in inputs)
        if recording and self.is_leaf and self.requires_grad:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad can't be modified "
                               f"in place; do it under `with mg.no_grad():` or on a clone")
        if recording and not self.is_leaf and self.data.base is not None:
            raise RuntimeError(f"{name}: this tensor is a view of another one ({self.grad_fn.name}"
                               f" output); changing it in place while recording gradients is "
                               f"not supported, change a clone() instead")
        if not recording:
            with autograd.no_grad():
                result = op.apply(*inputs, **attrs)
        else:
            old = Tensor._from_op(self.data.copy(), requires_grad=self.requires_grad)
            old.grad_fn = self.grad_fn
            result = op.apply(old, *inputs[1:], **attrs)
            self.grad_fn, self._requires_grad = result.grad_fn, True
        try:
            np.copyto(self.data, result.data, casting="same_kind")
        except TypeError:
            raise TypeError(f"{name}: the result has dtype {result.dtype}, which can't be "
                            f"stored in place in a tensor of dtype {self.dtype}") from None
        self._version_counter.bump()
        return self

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        return self._modify("add_", ew.Add, other if alpha == 1 else self._lift(other) * alpha)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        return self._modify("sub_", ew.Sub, other if alpha == 1 else self._lift(other) * alpha)

    def mul_(self, other: Any) -> Tensor:
        return self._modify("mul_", ew.Mul, other)

    def div_(self, other: Any) -> Tensor:
        return self._modify("div_", ew.Div, other)

    def fill_(self, value: Any) -> Tensor:
        return self._modify("fill_", shape_ops.SetItem, value, index=Ellipsis)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._modify("setitem", shape_ops.SetItem, value, index=_numpy_index(index))

    # ----- gradient hooks (issue 19 item 7) --------------------------------------------
    def register_hook(self, hook: Any) -> autograd.RemovableHandle:
        """Call ``hook(grad)`` each time a gradient for this tensor is computed in backward
        (or ``autograd.grad``); a returned tensor replaces the gradient. Hooks run in the
        order they were registered, before ``retain_grad`` stores and before ``.grad`` of a
        leaf accumulates. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does "
                               "not require grad")

        def on_array(g: np.ndarray) -> np.ndarray | None:
            replaced = hook(Tensor._from_op(g, requires_grad=False))
            return None if replaced is None else np.asarray(getattr(replaced, "data", replaced), g.dtype)

        if self.grad_fn is not None:
            hooks = self.grad_fn.hooks
        else:
            hooks = self.__dict__.setdefault("_grad_hooks", [])
        hooks.append(on_array)
        return autograd.RemovableHandle(hooks, on_array)

    def _gradient_tensor(self, g: np.ndarray) -> Tensor:
        """``autograd.grad``'s result for this input: ``g`` in this tensor's dtype."""
        return Tensor._from_op(np.array(g, dtype=self.dtype), requires_grad=False)


def apply_op(op: type[base.Op], inputs: tuple, attrs: dict) -> Tensor:
    """``op.apply(*inputs, **attrs)``: run ``op.forward`` on the inputs' arrays (non-Tensors
    become constant Tensors) and, when grad mode is on and an input requires grad, record a
    node; otherwise hand ``saved`` straight back to ``op.release``."""
    tensors = [x if isinstance(x, Tensor) else as_tensor(x) for x in inputs]
    y, saved = op.forward(*(t.data for t in tensors), **attrs)
    y = np.asarray(y)
    autograd.check_forward(op, y)
    record = autograd.should_record(y, tensors)
    out = Tensor._from_op(y, requires_grad=record)
    base_tensor = next((t for t in tensors if np.may_share_memory(y, t.data)), None)
    if base_tensor is not None:
        out._share_version_with(base_tensor)
    if record:
        out.grad_fn = autograd.record(op, tensors, out, saved, attrs)
    else:
        op.release(saved)
    return out


base.set_apply(apply_op)


def _numpy_index(index: Any) -> Any:
    """Tensors and lists inside an index become arrays."""
    if isinstance(index, tuple):
        return tuple(_numpy_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def as_tensor(data: Any, dtype=None) -> Tensor:
    """``data`` as a Tensor without copying when it already is one (or a matching array)."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return from_numpy(data)
    return Tensor(data, dtype=dtype)


def tensor(data: Any, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (same as ``Tensor(...)``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype}")
    return Tensor._from_op(array, requires_grad=False)


def zero_grads(tensors, set_to_none: bool = True) -> None:
    """Reset ``.grad`` of every tensor: to None, or to zeros in place."""
    for t in tensors:
        if set_to_none:
            t.grad = None
        elif t.grad is not None:
            t.grad.data[...] = 0


def maximum(a: Any, b: Any) -> Tensor:
    return as_tensor(a).maximum(b)


def minimum(a: Any, b: Any) -> Tensor:
    return as_tensor(a).minimum(b)


def matmul(a: Any, b: Any) -> Tensor:
    return as_tensor(a) @ b

