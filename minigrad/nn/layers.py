"""Layers with PyTorch's constructor signatures and default initialisation, NHWC."""
from __future__ import annotations

import math

import minigrad.functional as F
from minigrad.autograd import no_grad
from minigrad.creation import ones, zeros
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.geometry import as_pair, check_groups, positive_pairs
from minigrad.tensor import Tensor


def _check_input(layer: str, x: Tensor, ndim: int, channels: int, layout: str) -> None:
    if x.ndim != ndim or x.shape[-1] != channels:
        raise ValueError(f"{layer}: expected input {layout} with {channels} in the last dimension, "
                         f"got shape {x.shape}")


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
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: features must be positive, got ({in_features}, {out_features})")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(in_features, out_features))
        self.bias = Parameter(zeros(out_features)) if bias else None
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input (..., {self.in_features}), got shape {x.shape}")
        return F.linear(x, self.weight, self.bias)

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
    function = staticmethod(F.max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return self.function(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class MaxPool2d(_Pool):
    """Max over KxK windows (NHWC)."""
    function = staticmethod(F.max_pool2d)


class AvgPool2d(_Pool):
    """Mean over KxK windows (NHWC)."""
    function = staticmethod(F.avg_pool2d)


class AdaptiveAvgPool2d(Module):
    """Average to a fixed output size; the input size must be a multiple of it (or output 1)."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = as_pair("AdaptiveAvgPool2d", "output_size", output_size)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"AdaptiveAvgPool2d: expected input (N, H, W, C), got shape {x.shape}")
        (H, W), (OH, OW) = x.shape[1:3], self.output_size
        if (OH, OW) == (1, 1):
            return x.mean(dim=(1, 2), keepdim=True)
        if H % OH or W % OW:
            raise ValueError(f"AdaptiveAvgPool2d: input {H}x{W} is not a multiple of the output "
                             f"{OH}x{OW}; only evenly dividing sizes are supported")
        return F.avg_pool2d(x, (H // OH, W // OW))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _Activation(Module):
    function = staticmethod(F.relu)

    def forward(self, x: Tensor) -> Tensor:
        return self.function(x)


class ReLU(_Activation):
    function = staticmethod(F.relu)


class Sigmoid(_Activation):
    function = staticmethod(F.sigmoid)


class Tanh(_Activation):
    function = staticmethod(F.tanh)


class Identity(_Activation):
    function = staticmethod(lambda x: x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

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
            self._modules[str(i)] = module

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        modules = list(self._modules.values())
        return Sequential(*modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class _BatchNorm(Module):
    """Normalise over every dim but the last (channels), with learned scale and shift."""

    expected_ndim = 4
    layout = "(N, H, W, C)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(ones(num_features))
        self.bias = Parameter(zeros(num_features))
        self.register_buffer("running_mean", zeros(num_features))
        self.register_buffer("running_var", ones(num_features))

    def forward(self, x: Tensor) -> Tensor:
        _check_input(type(self).__name__, x, self.expected_ndim, self.num_features, self.layout)
        dims = tuple(range(x.ndim - 1))
        if self.training:
            mean = x.mean(dim=dims)
            var = ((x - mean) ** 2).mean(dim=dims)                   # biased, for normalising
            count = x.numel() // self.num_features
            with no_grad():                                          # running stats: unbiased var
                m = self.momentum
                self.running_mean.data[...] = (1 - m) * self.running_mean.data + m * mean.data
                unbiased = var.data * count / max(count - 1, 1)
                self.running_var.data[...] = (1 - m) * self.running_var.data + m * unbiased
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / (var + self.eps).sqrt() * self.weight + self.bias

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, H, W) for each channel of an NHWC input."""


class BatchNorm1d(_BatchNorm):
    """Batch norm over N for each feature of an (N, C) input."""
    expected_ndim = 2
    layout = "(N, C)"
