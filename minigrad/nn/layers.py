"""Layers with PyTorch's constructor signatures and default initialisation, NHWC."""
from __future__ import annotations

import math

import numpy as np

import minigrad.functional as F
from minigrad.creation import ones, zeros
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops import pool
from minigrad.ops.geometry import as_pair, check_groups, positive_pairs
from minigrad.tensor import Tensor


def _check_input(layer: str, x: Tensor, ndim: int, channels: int, layout: str) -> None:
    if x.ndim != ndim or x.shape[-1] != channels:
        raise ValueError(f"{layer}: expected input {layout} with {channels} in the last dimension, "
                         f"got shape {x.shape}")


def _check_count(layer: str, name: str, value, allow_zero: bool = False) -> int:
    """``value`` as a positive (or with ``allow_zero`` non-negative) int, else raise naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{layer}: {name} must be an int, got {value!r} "
                        f"({type(value).__name__})")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{layer}: {name} must be {'non-negative' if allow_zero else 'positive'}, "
                         f"got {value}")
    return int(value)


def _reset_like_pytorch(weight: Parameter, bias: Parameter | None) -> None:
    """kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias the same."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(init.calculate_fans(weight)[0])
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x @ weight + bias; weight (in_features, out_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        in_features = _check_count("Linear", "in_features", in_features)
        out_features = _check_count("Linear", "out_features", out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(in_features, out_features))
        self.bias = Parameter(zeros(out_features)) if bias else None
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)          # the op checks the input's shape

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _ConvLayer(Module):
    """What Conv2d and ConvTranspose2d share: PyTorch's argument checks, the input check, the repr."""

    def _set_arguments(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                       groups) -> None:
        layer = type(self).__name__
        for what, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{layer}: {what} must be an int, got {value!r}")
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"{layer}: channels must be positive, got ({in_channels}, {out_channels})")
        self.groups = check_groups(layer, groups)
        for what, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if value % self.groups:
                raise ValueError(f"{layer}: {what} must be divisible by groups, got {what}="
                                 f"{value}, groups={self.groups}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, = positive_pairs(layer, kernel_size=kernel_size)
        self.stride, self.dilation = positive_pairs(layer, stride=stride, dilation=dilation)
        self.padding = padding if isinstance(padding, str) else as_pair(layer, "padding", padding)

    def _check(self, x: Tensor) -> None:
        layer = type(self).__name__
        if x.ndim == 3:
            raise ValueError(f"{layer}: expected input (N, H, W, C) with {self.in_channels} in the "
                             f"last dimension, got shape {x.shape}: the batch dimension is "
                             f"missing (for one image use x.unsqueeze(0))")
        _check_input(layer, x, 4, self.in_channels, "(N, H, W, C)")

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding not in ((0, 0), "valid"):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvLayer):
    """NHWC convolution; weight (KH, KW, in_channels/groups, out_channels)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True) -> None:
        super().__init__()
        self._set_arguments(in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
        self.weight = Parameter(zeros(*self.kernel_size, in_channels // self.groups, out_channels))
        self.bias = Parameter(zeros(out_channels)) if bias else None
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class ConvTranspose2d(_ConvLayer):
    """NHWC transposed convolution, the adjoint of Conv2d; weight (KH, KW,
    out_channels/groups, in_channels): PyTorch's (in, out/groups, KH, KW) transposed as
    Conv2d's is. Default init as PyTorch (fan_in = out_channels/groups * KH * KW)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1) -> None:
        super().__init__()
        self._set_arguments(in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
        self.padding = as_pair("ConvTranspose2d", "padding", padding)
        self.output_padding = as_pair("ConvTranspose2d", "output_padding", output_padding)
        self.weight = Parameter(zeros(*self.kernel_size, out_channels // self.groups, in_channels))
        self.bias = Parameter(zeros(out_channels)) if bias else None
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)


class _Pool(Module):
    """Shared by the windowed pools: arguments checked when the layer is made, kept as given
    (PyTorch's attributes; ``stride`` is the kernel size when not given).

    Pooling works on any channel count, so a pool cannot tell an NCHW batch from an NHWC one:
    (N, C, H, W) passes as an image of height C. In a network the layers that know their
    channels catch it: a Conv2d, BatchNorm2d or Linear before or after the pool refuses the
    wrong last dimension.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1) -> None:
        super().__init__()
        pool.pool_arguments(type(self).__name__, kernel_size, stride, padding, dilation)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride

    def _given_stride(self):
        """The stride to pass on: None when it is the kernel's (graph labels stay short)."""
        return None if self.stride == self.kernel_size else self.stride


class MaxPool2d(_Pool):
    """Max over KxK windows (NHWC): ``F.max_pool2d`` with PyTorch's arguments; with
    ``return_indices=True`` the call returns (output, indices) for ``MaxUnpool2d``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding, dilation)
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x: Tensor):
        return F.max_pool2d(x, self.kernel_size, self._given_stride(), self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool):
    """Mean over KxK windows (NHWC): ``F.avg_pool2d`` with PyTorch's arguments."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self._given_stride(), self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(Module):
    """Put each value back at its max-pool index, zeros elsewhere (NHWC): ``F.max_unpool2d``;
    call it as ``unpool(y, indices)`` or ``unpool(y, indices, output_size)``."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        K, S, P = pool.unpool_arguments("MaxUnpool2d", kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = K, S, P

    def forward(self, x: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    """Pools to a fixed ``output_size`` (an int or a pair; None in a place keeps that size)."""

    def __init__(self, output_size) -> None:
        super().__init__()
        pool.adaptive_windows(type(self).__name__, (1, 1, 1, 1), output_size)
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average to a fixed output size: ``F.adaptive_avg_pool2d`` (PyTorch's window rule)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Max to a fixed output size: ``F.adaptive_max_pool2d``; ``return_indices`` as MaxPool2d."""

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, x: Tensor):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)


class _Activation(Module):
    """A parameter-free layer applying ``function`` (set by each subclass)."""

    def forward(self, x: Tensor) -> Tensor:
        return self.function(x)


class ReLU(_Activation):
    """``inplace=True`` is accepted (PyTorch's argument); the result is a new tensor."""
    function = staticmethod(F.relu)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(_Activation):
    function = staticmethod(F.sigmoid)


class Tanh(_Activation):
    function = staticmethod(F.tanh)


class Identity(_Activation):
    function = staticmethod(lambda x: x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Flatten(Module):
    """Merge dims start_dim..end_dim; after a conv this is NHWC order."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout in training mode, identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential(Module):
    """Modules applied in order; indexable, iterable, named '0', '1', ... as in PyTorch."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {i} is not a Module, got {module!r} "
                                f"({type(module).__name__})")
            self._modules[str(i)] = module

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Sequential: indices must be integers or slices, got "
                            f"{type(index).__name__}")
        if not -len(modules) <= index < len(modules):
            raise IndexError(f"Sequential: index {index} is out of range for {len(modules)} modules")
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class _BatchNorm(Module):
    """Normalise over every dim but the last (channels), with learned scale and shift."""

    expected_ndim = 4
    layout = "(N, H, W, C)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        num_features = _check_count(type(self).__name__, "num_features", num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features)) if affine else None
        self.bias = Parameter(zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features))
            self.register_buffer("running_var", ones(num_features))
        else:
            self.running_mean = self.running_var = None
        self.num_batches_tracked = 0     # a counter for momentum=None, not in the state dict

    def forward(self, x: Tensor) -> Tensor:
        _check_input(type(self).__name__, x, self.expected_ndim, self.num_features, self.layout)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:                # cumulative moving average
                momentum = 1.0 / self.num_batches_tracked
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, H, W) for each channel of an NHWC input."""


class BatchNorm1d(_BatchNorm):
    """Batch norm over N for each feature of an (N, C) input."""
    expected_ndim = 2
    layout = "(N, C)"
