"""Tensor: a NumPy array with a gradient, a place in the graph and a version counter.

Operators and methods only wire to registered ops (``minigrad.ops``); the math lives there.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.dtypes import get_default_dtype, result_type, true_divide_type
from minigrad.ops import activation, base
from minigrad.ops import elementwise as ew
from minigrad.ops import linalg, reduce, shape as shape_ops
from minigrad.ops import index as index_ops, join, math as math_ops, select


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
    try:
        dtype = None if dtype is None else np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Tensor: dtype {dtype!r} is not a dtype (use e.g. np.float32)") from None
    try:
        array = np.array(data, dtype=dtype)
    except ValueError as error:
        if "inhomogeneous" not in str(error):
            raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} data "
                            f"({error})") from None
        raise ValueError(f"Tensor: the nested lists have uneven lengths (a tensor needs a "
                         f"rectangular shape), got {data!r:.80}") from None
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


def _unary(op: type[base.Op], to_float: bool = False):
    """The Tensor method ``x.f()`` = ``op.apply(x)``; with ``to_float`` an integer or bool
    tensor is first converted to the default float dtype (PyTorch's ``exp``, ``sigmoid``...)."""
    def method(self: Tensor) -> Tensor:
        if to_float and self.dtype.kind != "f":
            return op.apply(self.to(get_default_dtype()))
        return op.apply(self)
    method.__doc__ = op.__doc__
    return method


def _binary(op: type[base.Op], reflected: bool = False, promote=result_type):
    """The operator ``x (op) other``, or with ``reflected`` ``other (op) x`` (``__radd__``, ...).

    Both operands go through ``promoted``: PyTorch's type promotion (``promote`` gives the
    result dtype; ``true_divide_type`` for ``/``).
    """
    def method(self: Tensor, other: Any) -> Tensor:
        if not isinstance(other, (Tensor, numbers.Number, np.generic, np.ndarray, list, tuple)):
            return NotImplemented                  # Python names both types in its TypeError
        a, b = (other, self) if reflected else (self, other)
        return op.apply(*promoted(promote(a, b), a, b))
    method.__doc__ = op.__doc__
    return method


def promoted(dtype: np.dtype, *operands: Any) -> list[Tensor]:
    """The operands as Tensors that NumPy combines into ``dtype`` (from ``minigrad.dtypes``).

    Scalars and arrays become constants of ``dtype``. Tensors are converted (differentiably,
    by the ``to`` op) only when NumPy's own promotion of the arrays would give another dtype
    (an int32 tensor with a float32 one, a float64 0-d tensor with a float32 one), so the
    common same-dtype case adds nothing to the graph.
    """
    tensors = [x for x in operands if isinstance(x, Tensor)]
    numpy_agrees = np.result_type(*(t.data for t in tensors)) == dtype if tensors else False
    out = []
    for x in operands:
        if not isinstance(x, Tensor):
            out.append(Tensor._from_op(_constant_array(x, dtype), requires_grad=False))
        elif x.dtype == dtype or numpy_agrees:
            out.append(x)
        else:
            out.append(x.to(dtype))
    return out


def _constant_array(value: Any, dtype: np.dtype) -> np.ndarray:
    if isinstance(value, (np.ndarray, list, tuple)):
        return np.asarray(value).astype(dtype, copy=False)
    if isinstance(value, (numbers.Number, np.generic)):
        return np.asarray(value, dtype=dtype)
    raise TypeError(f"unsupported operand type {type(value).__name__} for a tensor operation")


def _comparison(fn):
    """The comparison ``x < other`` (etc.): a boolean tensor outside the graph."""
    def method(self: Tensor, other: Any) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._from_op(np.asarray(fn(self.data, other)), requires_grad=False)
    method.__doc__ = f"Elementwise {fn.__name__}: a boolean tensor, no gradient."
    return method


class Device:
    """Where a tensor lives: always the CPU (``Device('cpu')`` prints ``cpu``, as torch's)."""

    def __init__(self, spec: Any = "cpu") -> None:
        name = spec.type if isinstance(spec, Device) else spec
        if not isinstance(name, str) or name.split(":")[0] != "cpu":
            raise RuntimeError(f"device: minigrad runs on the CPU only, got device {spec!r}")
        self.type = "cpu"

    def __str__(self) -> str:
        return self.type

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, (Device, str)) and str(other).split(":")[0] == self.type

    def __hash__(self) -> int:
        return hash(self.type)


CPU = Device("cpu")


def to_arguments(name: str, args: tuple, dtype=None, device=None) -> np.dtype | None:
    """The dtype asked for by PyTorch-style ``to`` arguments (None: keep it); a device other
    than the CPU, or anything else, is refused naming ``name``."""
    if len(args) > 2:
        raise TypeError(f"{name}: expected at most 2 positional arguments, got {len(args)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, Device)):
            device = arg
        else:
            dtype = arg
    if device is not None:
        Device(device)                                # checks it is the CPU
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: expected a dtype, a device or a tensor, got {dtype!r}") from None


class Tensor:
    """An n-dimensional array that records the ops applied to it when it requires grad."""

    __array_priority__ = 1000          # ndarray (op) Tensor defers to Tensor's reflected op

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None) -> None:
        self.data = _to_array(data, dtype)
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Node | None = None
        self._version_counter = _VersionCounter()
        self._requires_grad = False
        self._is_view = False           # True when an op's output shares an input's memory
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, data: np.ndarray, requires_grad: bool) -> Tensor:
        """Wrap an array an op made (no copy, no checks)."""
        tensor = cls.__new__(cls)
        tensor.data, tensor.grad, tensor.grad_fn = data, None, None
        tensor._version_counter = _VersionCounter()
        tensor._requires_grad = requires_grad
        tensor._is_view = False
        return tensor

    def _share_version_with(self, base: Tensor) -> None:
        self._version_counter = base._version_counter
        self._is_view = True

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

    def to(self, *args: Any, dtype=None, device=None) -> Tensor:
        """PyTorch's ``to``: ``to(dtype)``, ``to('cpu')``, ``to('cpu', dtype)``,
        ``to(other_tensor)`` (its dtype) or keywords; the only device is the CPU."""
        dtype = to_arguments("to", args, dtype, device)
        return self if dtype is None or dtype == self.dtype else ew.To.apply(self, dtype=dtype)

    def cpu(self) -> Tensor:
        """This tensor: it is on the CPU already."""
        return self

    @property
    def device(self) -> Device:
        return CPU

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
        """``other`` as a Tensor of the dtype PyTorch gives ``self (op) other``, for in-place
        ops: the result must then fit into self's dtype."""
        if isinstance(other, Tensor):
            return other
        return promoted(result_type(self, other), other)[0]

    __add__ = _binary(ew.Add)
    __radd__ = _binary(ew.Add, reflected=True)
    __sub__ = _binary(ew.Sub)
    __rsub__ = _binary(ew.Sub, reflected=True)
    __mul__ = _binary(ew.Mul)
    __rmul__ = _binary(ew.Mul, reflected=True)
    __truediv__ = _binary(ew.Div, promote=true_divide_type)
    __rtruediv__ = _binary(ew.Div, reflected=True, promote=true_divide_type)
    __matmul__ = _binary(linalg.Matmul)
    __rmatmul__ = _binary(linalg.Matmul, reflected=True)
    __neg__ = _unary(ew.Neg)

    def __pow__(self, exponent: Any) -> Tensor:
        """``self ** exponent``: a number exponent is the ``pow`` op's attribute, a tensor one
        the ``pow_tensor`` op; the dtype is PyTorch's (``int_tensor ** 0.5`` is float)."""
        if isinstance(exponent, np.generic):
            exponent = exponent.item()                 # a NumPy scalar counts as a number
        if isinstance(exponent, numbers.Number):
            dtype = result_type(self, exponent)
            if dtype.kind in "biu" and exponent < 0:
                raise RuntimeError(f"pow: Integers to negative integer powers are not allowed "
                                   f"(tensor of dtype {self.dtype} ** {exponent}); convert "
                                   f"the tensor with .float() first")
            return ew.Pow.apply(promoted(dtype, self)[0], exponent=exponent)
        return ew.PowTensor.apply(*promoted(result_type(self, exponent), self, exponent))

    def __rpow__(self, base: Any) -> Tensor:
        return ew.PowTensor.apply(*promoted(result_type(base, self), base, self))

    pow = __pow__

    # in place, as in PyTorch: `p -= lr * p.grad` changes p (under no_grad for a leaf
    # parameter) and bumps its version; there is no `@=` (PyTorch has none)
    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __ipow__(self, exponent: Any) -> Tensor:
        return self.pow_(exponent)

    def __ifloordiv__(self, other: Any) -> Tensor:
        return self.floor_divide_(other)

    def __imod__(self, other: Any) -> Tensor:
        return self.remainder_(other)

    __lt__ = _comparison(np.less)
    __le__ = _comparison(np.less_equal)
    __gt__ = _comparison(np.greater)
    __ge__ = _comparison(np.greater_equal)
    __eq__ = _comparison(np.equal)
    __ne__ = _comparison(np.not_equal)
    __hash__ = object.__hash__

    # ----- elementwise and reductions ---------------------------------------------------
    exp = _unary(ew.Exp, to_float=True)
    log = _unary(ew.Log, to_float=True)
    sqrt = _unary(ew.Sqrt, to_float=True)
    abs = __abs__ = _unary(ew.Abs)
    relu = _unary(activation.Relu)
    sigmoid = _unary(activation.Sigmoid, to_float=True)
    tanh = _unary(activation.Tanh, to_float=True)
    clone = _unary(ew.Clone)

    def softmax(self, dim: int) -> Tensor:
        return activation.Softmax.apply(self, dim=dim)

    def log_softmax(self, dim: int) -> Tensor:
        return activation.LogSoftmax.apply(self, dim=dim)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(tensor)``: the data (NumPy 2's protocol; ``copy=False`` shares it)."""
        if copy is False and dtype is not None and np.dtype(dtype) != self.dtype:
            raise ValueError(f"__array__: cannot convert a tensor of dtype {self.dtype} to "
                             f"{np.dtype(dtype)} without a copy")
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy and array is self.data else array

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        return ew.Clamp.apply(self, min=min, max=max)

    def maximum(self, other: Any) -> Tensor:
        return ew.Maximum.apply(*promoted(result_type(self, other), self, other))

    def minimum(self, other: Any) -> Tensor:
        return ew.Minimum.apply(*promoted(result_type(self, other), self, other))

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
        index = _numpy_index(index)
        split = _split_int_and_array_index(index)
        if split is None:
            return shape_ops.GetItem.apply(self, index=index)
        selected = shape_ops.GetItem.apply(self, index=split[0])
        return shape_ops.GetItem.apply(selected, index=split[1])

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
        if recording and not self.is_leaf and self._is_view:
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
            dtype = (true_divide_type if op is ew.Div else result_type)(*inputs)
            raise TypeError(f"{name}: result type {dtype} can't be cast to the desired output "
                            f"type {self.dtype} (the tensor changed in place)") from None
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

    def floor_divide_(self, other: Any) -> Tensor:
        return self._modify("floor_divide_", math_ops.FloorDivide, other)

    def remainder_(self, other: Any) -> Tensor:
        return self._modify("remainder_", math_ops.Remainder, other)

    def pow_(self, exponent: Any) -> Tensor:
        if isinstance(exponent, np.generic):
            exponent = exponent.item()
        if isinstance(exponent, numbers.Number):
            return self._modify("pow_", ew.Pow, exponent=exponent)
        return self._modify("pow_", ew.PowTensor, exponent)

    def fill_(self, value: Any) -> Tensor:
        return self._modify("fill_", shape_ops.SetItem, value, index=Ellipsis)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def __setitem__(self, index: Any, value: Any) -> None:
        index = _numpy_index(index)
        split = _split_int_and_array_index(index)
        if split is None:
            self._modify("setitem", shape_ops.SetItem, value, index=index)
        else:
            self._modify("setitem", shape_ops.SetItem, value, index=split[0], then=split[1])

    # ===== the PyTorch tensor API of issue 19: one block (methods below wire to ops) =====
    # ----- max, min, argmax, argmin, sort, topk -----------------------------------------
    def _extreme(self, name: str, dim, keepdim: bool, largest: bool):
        """``max``/``min``: the element (no dim), (values, indices) (dim), or the elementwise
        maximum/minimum (a tensor in place of dim)."""
        if isinstance(dim, Tensor):
            return self.maximum(dim) if largest else self.minimum(dim)
        if dim is None:
            if keepdim:
                raise TypeError(f"{name}: keepdim=True needs a dim")
            if self.numel() == 0:
                raise ValueError(f"{name}: expected a reduction dim to be specified for an "
                                 f"empty input (shape {self.shape})")
            return (reduce.Amax if largest else reduce.Amin).apply(self)
        if self.ndim == 0:
            values, indices = self.reshape(1)._extreme(name, 0, False, largest)
            return select.RETURN_TYPES[name](values, indices)
        axis = reduce.normalize_dim(name, dim, self.ndim)
        indices = select.arg_extreme(name, self.data, axis, keepdim=True, largest=largest)
        op = select.MaxAlongDim if largest else select.MinAlongDim
        values = op.apply(self, Tensor._from_op(indices, False), dim=axis, keepdim=keepdim)
        indices = indices if keepdim else np.squeeze(indices, axis)
        return select.RETURN_TYPES[name](values, Tensor._from_op(indices, False))

    def max(self, dim=None, keepdim: bool = False):
        """No dim: the largest element, 0-d (tied maxima share the gradient). With ``dim``:
        ``(values, indices)`` of the first maximum along dim (the gradient goes to it). A
        tensor instead of dim: ``maximum``."""
        return self._extreme("max", dim, keepdim, largest=True)

    def min(self, dim=None, keepdim: bool = False):
        """The smallest element, or ``(values, indices)`` along ``dim``, as ``max``."""
        return self._extreme("min", dim, keepdim, largest=False)

    def argmax(self, dim=None, keepdim: bool = False) -> Tensor:
        """int64 index of the first maximum along ``dim`` (into the flattened tensor when None)."""
        return Tensor._from_op(select.arg_extreme("argmax", self.data, dim, keepdim), False)

    def argmin(self, dim=None, keepdim: bool = False) -> Tensor:
        """int64 index of the first minimum along ``dim`` (into the flattened tensor when None)."""
        return Tensor._from_op(select.arg_extreme("argmin", self.data, dim, keepdim, largest=False),
                               False)

    def _take_along(self, op: type[base.Op], indices: np.ndarray, dim: int) -> Tensor:
        if self.ndim == 0:
            return op.apply(self.reshape(1), Tensor._from_op(indices.reshape(1), False),
                            dim=0).reshape(())
        return op.apply(self, Tensor._from_op(indices, False), dim=dim)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """``(values, indices)`` sorted along ``dim``; ties keep their order, NaN sorts last
        (first when descending), as PyTorch on the CPU."""
        indices = select.sort_indices("sort", self.data, dim, descending)
        return select.RETURN_TYPES["sort"](self._take_along(select.Sort, indices, dim),
                                           Tensor._from_op(indices, False))

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        """int64 indices that sort along ``dim`` (``sort(...).indices``)."""
        return Tensor._from_op(select.sort_indices("argsort", self.data, dim, descending), False)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """``(values, indices)`` of the k largest (smallest) along ``dim``, always sorted. Among
        tied values the first ones are taken (PyTorch does not specify which)."""
        axis = reduce.normalize_dim("topk", dim, self.ndim)
        n = self.shape[axis] if self.ndim else 1
        if not 0 <= k <= n:
            raise ValueError(f"topk: k ({k}) is out of range for dimension {axis} of size {n} "
                             f"(input {self.shape})")
        order = select.sort_indices("topk", self.data, axis, descending=largest)
        indices = np.take(order, np.arange(k), axis=axis) if self.ndim else order
        return select.RETURN_TYPES["topk"](self._take_along(select.Topk, indices, axis),
                                           Tensor._from_op(indices, False))

    # ----- joining, splitting and reshaping ---------------------------------------------
    def split(self, split_size_or_sections, dim: int = 0) -> tuple:
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given
        sizes; each is a slice of this tensor (``getitem``)."""
        axis = reduce.normalize_dim("split", dim, self.ndim)
        n = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            size = int(split_size_or_sections)
            if size <= 0 and n:
                raise ValueError(f"split: split_size must be positive, got {size}")
            sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ValueError(f"split: sizes {sizes} must be non-negative and sum to the size "
                                 f"{n} of dimension {axis} (input {self.shape})")
        starts = np.cumsum([0] + sizes[:-1])
        return tuple(self.narrow(axis, int(start), size) for start, size in zip(starts, sizes))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """At most ``chunks`` pieces of ceil(n / chunks) along ``dim`` (PyTorch's rule; an empty
        dim gives ``chunks`` empty pieces)."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        n = self.shape[reduce.normalize_dim("chunk", dim, self.ndim)]
        return self.split(-(-n // chunks) if n else [0] * chunks, dim)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """Elements ``start .. start + length - 1`` along ``dim`` (a negative start counts from
        the end)."""
        axis = reduce.normalize_dim("narrow", dim, self.ndim)
        n = self.shape[axis]
        begin = start + n if start < 0 else start
        if not 0 <= begin <= n or length < 0 or begin + length > n:
            raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                             f"{axis} of size {n} (input {self.shape})")
        index = (slice(None),) * axis + (slice(begin, begin + length),)
        return shape_ops.GetItem.apply(self, index=index)

    def unflatten(self, dim: int, sizes) -> Tensor:
        """Dimension ``dim`` split into ``sizes`` (one may be -1): a reshape."""
        axis = reduce.normalize_dim("unflatten", dim, self.ndim)
        return self.reshape(self.shape[:axis] + tuple(sizes) + self.shape[axis + 1:])

    def expand(self, *sizes) -> Tensor:
        """This tensor broadcast to ``sizes`` (-1 keeps a size); a copy, unlike PyTorch's view."""
        return shape_ops.Expand.apply(self, shape=_shape_args("expand", sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def flip(self, *dims) -> Tensor:
        """Reversed along each of ``dims`` (``flip(0, 1)`` or ``flip([0, 1])``)."""
        return shape_ops.Flip.apply(self, dims=_shape_args("flip", dims))

    def roll(self, shifts, dims=None) -> Tensor:
        return shape_ops.Roll.apply(self, shifts=shifts, dims=dims)

    def repeat(self, *sizes) -> Tensor:
        """Tiled ``sizes[i]`` times along dim i (``np.tile``; PyTorch's ``repeat``)."""
        return shape_ops.Repeat.apply(self, repeats=_shape_args("repeat", sizes))

    def repeat_interleave(self, repeats, dim: int | None = None) -> Tensor:
        """Each element repeated ``repeats`` times (an int, or one count per element) along
        ``dim`` (of the flattened tensor when None): an ``index_select``."""
        source = self.reshape(-1) if dim is None else self
        axis = 0 if dim is None else reduce.normalize_dim("repeat_interleave", dim, self.ndim)
        n = source.shape[axis]
        counts = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats)
        if counts.dtype.kind not in "iu" or counts.ndim > 1 or counts.size not in (1, n) or (
                counts.size and counts.min() < 0):
            raise ValueError(f"repeat_interleave: repeats must be a non-negative integer or one "
                             f"per element ({n} along dimension {axis}), got {counts.tolist()}")
        index = np.repeat(np.arange(n), np.broadcast_to(counts.reshape(-1), (n,)))
        return index_ops.IndexSelect.apply(source, Tensor._from_op(index, False), dim=axis)

    @property
    def T(self) -> Tensor:
        """The dimensions reversed (a 0-d or 1-D tensor is returned as is)."""
        return self if self.ndim < 2 else self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (batched matrices transposed)."""
        if self.ndim < 2:
            raise ValueError(f"mT: the tensor must have at least 2 dimensions, got shape {self.shape}")
        return self.transpose(-2, -1)

    # ----- indexing: gather, scatter, masks, triangles ----------------------------------
    def gather(self, dim: int, index: Tensor) -> Tensor:
        """out[i][j] = self[i][index[i][j]] for dim=1 (the same number of dims; index no larger
        than self outside dim)."""
        return select.Gather.apply(self, index, dim=dim)

    def scatter(self, dim: int, index: Tensor, src: Any = None, *, value: Any = None) -> Tensor:
        """A copy with self[i][index[i][j]] = src[i][j] for dim=1; ``src`` may be a number
        (or pass ``value=``)."""
        if (src is None) == (value is None):
            raise TypeError("scatter: pass exactly one of src and value")
        fill = value if src is None else src
        if not isinstance(fill, Tensor):
            fill = Tensor._from_op(np.full(as_tensor(index).shape, fill, dtype=self.dtype), False)
        return index_ops.Scatter.apply(self, index, fill, dim=dim)

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """A copy with src[i][j] added at self[i][index[i][j]] for dim=1 (repeats add up)."""
        return index_ops.ScatterAdd.apply(self, index, src, dim=dim)

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        """The entries at ``index`` (1-D integers) along ``dim``."""
        return index_ops.IndexSelect.apply(self, index, dim=dim)

    def masked_fill(self, mask: Tensor, value: Any) -> Tensor:
        """A copy with ``value`` (a number or a 0-d tensor) where ``mask`` (boolean,
        broadcastable to self) is True: ``where(mask, value, self)``."""
        mask = as_tensor(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill: the mask must be a boolean tensor, got {mask.dtype}")
        try:
            fits = np.broadcast_shapes(mask.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"masked_fill: a mask of shape {mask.shape} cannot be broadcast to "
                             f"the input's shape {self.shape}")
        value = self._lift(value)
        if value.ndim != 0:
            raise ValueError(f"masked_fill: only a 0-d value is supported, got shape {value.shape}")
        return join.Where.apply(mask, value if value.dtype == self.dtype else value.to(self.dtype), self)

    def where(self, condition: Tensor, other: Any) -> Tensor:
        """self where ``condition`` else ``other`` (``mg.where(condition, self, other)``)."""
        return join.Where.apply(as_tensor(condition), self, self._lift(other))

    def nonzero(self, *, as_tuple: bool = False):
        """int64 (count, ndim) coordinates of the non-zero elements, or one 1-D tensor per dim."""
        if as_tuple:
            return tuple(Tensor._from_op(i.astype(np.int64), False)
                         for i in np.nonzero(np.atleast_1d(self.data)))
        return Tensor._from_op(np.argwhere(self.data).astype(np.int64), False)

    def tril(self, diagonal: int = 0) -> Tensor:
        return index_ops.Tril.apply(self, diagonal=diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return index_ops.Triu.apply(self, diagonal=diagonal)

    # ----- comparisons of whole tensors (no gradient) -----------------------------------
    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        """|self - other| <= atol + rtol |other| elementwise (a boolean tensor)."""
        other = self._lift(other)
        return Tensor._from_op(np.isclose(self.data, other.data, rtol=rtol, atol=atol,
                                          equal_nan=equal_nan), False)

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        return bool(self.isclose(other, rtol, atol, equal_nan).data.all())

    def equal(self, other: Any) -> bool:
        """True when both have the same shape and the same elements."""
        other = self._lift(other)
        return self.shape == other.shape and bool(np.array_equal(self.data, other.data))

    def all(self, dim=None, keepdim: bool = False) -> Tensor:
        """Whether every element (along ``dim``) is non-zero: a boolean tensor."""
        axes = reduce.normalize_dims("all", dim, self.ndim)
        return Tensor._from_op(np.all(self.data, axis=axes, keepdims=keepdim), False)

    def any(self, dim=None, keepdim: bool = False) -> Tensor:
        """Whether some element (along ``dim``) is non-zero: a boolean tensor."""
        axes = reduce.normalize_dims("any", dim, self.ndim)
        return Tensor._from_op(np.any(self.data, axis=axes, keepdims=keepdim), False)

    # ----- reductions and scans ---------------------------------------------------------
    def _spread(self, op: type[base.Op], dim, unbiased, keepdim: bool, correction) -> Tensor:
        if isinstance(dim, bool):                            # x.var(False): var(unbiased)
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:
            raise TypeError(f"{op.name}: pass either unbiased or correction, not both")
        if correction is None:
            correction = 1 if unbiased is None else int(unbiased)
        return op.apply(self, dim=dim, correction=correction, keepdim=keepdim)

    def var(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> Tensor:
        """sum((x - mean)^2) / (N - correction) over ``dim``; correction 1 by default
        (``unbiased=False`` means 0)."""
        return self._spread(reduce.Var, dim, unbiased, keepdim, correction)

    def std(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> Tensor:
        """sqrt(var(...)) with ``var``'s arguments."""
        return self._spread(reduce.Std, dim, unbiased, keepdim, correction)

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """The product over ``dim`` (every element when None); integers give int64."""
        return reduce.Prod.apply(self if dtype is None else self.to(dtype), dim=dim, keepdim=keepdim)

    def cumsum(self, dim: int, *, dtype=None) -> Tensor:
        return reduce.Cumsum.apply(self if dtype is None else self.to(dtype), dim=dim)

    def cumprod(self, dim: int, *, dtype=None) -> Tensor:
        return reduce.Cumprod.apply(self if dtype is None else self.to(dtype), dim=dim)

    def logsumexp(self, dim, keepdim: bool = False) -> Tensor:
        return reduce.Logsumexp.apply(self, dim=dim, keepdim=keepdim)

    # ----- elementwise math -------------------------------------------------------------
    sin = _unary(math_ops.Sin)
    cos = _unary(math_ops.Cos)
    tan = _unary(math_ops.Tan)
    asin = arcsin = _unary(math_ops.Asin)
    acos = arccos = _unary(math_ops.Acos)
    atan = arctan = _unary(math_ops.Atan)
    sinh = _unary(math_ops.Sinh)
    cosh = _unary(math_ops.Cosh)
    log2 = _unary(math_ops.Log2)
    log10 = _unary(math_ops.Log10)
    log1p = _unary(math_ops.Log1p)
    expm1 = _unary(math_ops.Expm1)
    exp2 = _unary(math_ops.Exp2)
    rsqrt = _unary(math_ops.Rsqrt)
    reciprocal = _unary(math_ops.Reciprocal)
    square = _unary(math_ops.Square)
    sign = _unary(math_ops.Sign)
    floor = _unary(math_ops.Floor)
    ceil = _unary(math_ops.Ceil)
    trunc = fix = _unary(math_ops.Trunc)
    frac = _unary(math_ops.Frac)
    atan2 = arctan2 = _binary(math_ops.Atan2)
    __mod__ = remainder = _binary(math_ops.Remainder)
    __rmod__ = _binary(math_ops.Remainder, reflected=True)
    __floordiv__ = floor_divide = _binary(math_ops.FloorDivide)
    __rfloordiv__ = _binary(math_ops.FloorDivide, reflected=True)
    fmod = _binary(math_ops.Fmod)

    def round(self, decimals: int = 0) -> Tensor:
        """Rounded to ``decimals`` digits, halves to even (PyTorch's rule); the gradient is 0."""
        return math_ops.Round.apply(self, decimals=decimals)

    __round__ = round

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """self / other; ``rounding_mode`` 'trunc' rounds towards zero, 'floor' down (``//``)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            return math_ops.TruncDivide.apply(self, self._lift(other))
        raise ValueError(f"div: expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")

    divide = div

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """An alias of ``clamp``."""
        return self.clamp(min, max)

    # ----- dtypes (last: the names int, bool and type shadow builtins in this class body) -
    _TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                   "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                   "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def short(self) -> Tensor:
        return self.to(np.int16)

    def byte(self) -> Tensor:
        return self.to(np.uint8)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def type(self, dtype=None):
        """Converted to ``dtype``; without one, the type's name (``'minigrad.FloatTensor'``)."""
        if dtype is None:
            return "minigrad." + self._TYPE_NAMES.get(self.dtype.name, self.dtype.name)
        return self.to(dtype)

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
        keep = getattr(op, "keep_saved", None)      # drop what no wanted gradient needs
        if keep is not None:
            saved = keep(saved, tuple(t.requires_grad for t in tensors))
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


def _split_int_and_array_index(index: Any) -> tuple | None:
    """PyTorch's order for an index that mixes ints with integer or bool arrays:
    ``x[1, :, 3:11:2, idx, 0:2]`` applies the ints and slices first (plain selections, as in
    ``x[1]``), then the arrays, so only the arrays count as NumPy's advanced indices (NumPy
    counts the ints too and, the two not being adjacent, moves the result's axes to the front).
    Returns the two indices, or None when NumPy's single step already agrees.
    """
    items = index if isinstance(index, tuple) else (index,)
    is_int = [isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) for i in items]
    is_array = [isinstance(i, np.ndarray) and i.ndim > 0 for i in items]
    if not any(is_int) or not any(is_array):
        return None
    first, second = [], []
    for item, int_item, array_item in zip(items, is_int, is_array):
        if array_item:
            covered = item.ndim if item.dtype == np.bool_ else 1
            first.extend([slice(None)] * covered)
            second.append(item)
        elif int_item:
            first.append(item)                       # the dimension goes away in step one
        else:
            first.append(item)
            second.append(Ellipsis if item is Ellipsis else slice(None))
    return tuple(first), tuple(second)


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

