"""The per-op case table: every registered op is exercised by at least one case here.

A case is a function written once against the shared PyTorch/minigrad API (or a separate
``torch_fn`` where layouts differ) and recipes for its inputs. ``test_cases.py`` drives
finite differences, PyTorch parity and dtype checks over the whole table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

import minigrad.functional as F
from minigrad.ops import activation

KINK_MARGIN = 1e-2          # inputs stay this far from kinks (|x|, clamp bounds, ...)


@dataclass(frozen=True)
class Uniform:
    """Float input drawn uniformly from [low, high), kept ``KINK_MARGIN`` away from ``avoid``."""
    shape: tuple
    low: float = -2.0
    high: float = 2.0
    avoid: tuple = ()
    constant: bool = False           # True: passed without requires_grad

    def make(self, rng: np.random.Generator) -> np.ndarray:
        x = rng.uniform(self.low, self.high, self.shape)
        for point in self.avoid:
            near = np.abs(x - point) < KINK_MARGIN
            x[near] = point + np.where(x[near] >= point, KINK_MARGIN, -KINK_MARGIN) * 2
        return x


@dataclass(frozen=True)
class Distinct:
    """Float input whose elements are all different and at least 0.05 apart (no max ties)."""
    shape: tuple
    constant: bool = False

    def make(self, rng: np.random.Generator) -> np.ndarray:
        n = int(np.prod(self.shape))
        return (rng.permutation(n) * 0.1 - n * 0.05 + rng.uniform(0, 0.02, n)).reshape(self.shape)


@dataclass(frozen=True)
class Integers:
    """Integer input in [low, high): indices or class labels, never differentiated."""
    shape: tuple
    low: int = 0
    high: int = 3
    constant: bool = True

    def make(self, rng: np.random.Generator) -> np.ndarray:
        return rng.integers(self.low, self.high, self.shape)


@dataclass
class Case:
    op: str                          # the registered op the case exercises
    fn: Callable                     # takes and returns minigrad Tensors
    inputs: list
    torch_fn: Callable | None = None  # defaults to fn, applied to torch tensors
    name: str = ""
    eps: float = 1e-6                # finite-difference step
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.op}-{self.name}" if self.name else self.op


def nchw(x):
    """NHWC torch tensor -> NCHW view (gradients flow back through the permute)."""
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def torch_conv2d(x, w, b=None, **kwargs):
    """PyTorch's conv2d on NHWC input and (KH, KW, C, O) weight, layouts converted explicitly."""
    weight = w.permute(3, 2, 0, 1).contiguous()        # (O, C, KH, KW); slow_conv2d needs contiguous
    return nhwc(torch.nn.functional.conv2d(nchw(x).contiguous(), weight, b, **kwargs))


def torch_conv_transpose2d(x, w, b=None, **kwargs):
    """PyTorch's conv_transpose2d on NHWC input and (KH, KW, C_out/G, C_in) weight: PyTorch's
    (C_in, C_out/G, KH, KW) transposed as conv2d's is."""
    weight = w.permute(3, 2, 0, 1).contiguous()
    return nhwc(torch.nn.functional.conv_transpose2d(nchw(x).contiguous(), weight, b, **kwargs))


def torch_pool(name, **kwargs):
    return lambda x: nhwc(getattr(torch.nn.functional, name)(nchw(x), **kwargs))


def torch_linear(x, w, b=None):
    """PyTorch stores Linear weights as (out, in); ours are (in, out)."""
    return torch.nn.functional.linear(x, w.T, b)


DROPOUT_KEEP = np.random.default_rng(5).random((3, 4)) >= 0.3


def _setitem(x, v, index):
    y = x.clone()
    y[index] = v
    return y


U, D, I = Uniform, Distinct, Integers

CASES: list[Case] = [
    Case("add", lambda a, b: a + b, [U((2, 3)), U((2, 3))]),
    Case("add", lambda a, b: a + b, [U((2, 1, 4)), U((3, 1))], name="broadcast"),
    Case("add", lambda a: 2.5 + a, [U((3,))], name="scalar"),
    Case("sub", lambda a, b: a - b, [U((4, 3)), U((3,))], name="broadcast"),
    Case("sub", lambda a: 1.0 - a, [U((2, 2))], name="rsub"),
    Case("mul", lambda a, b: a * b, [U((2, 3, 4)), U((1, 3, 1))], name="broadcast"),
    Case("mul", lambda a: a * 3.0, [U((5,))], name="scalar"),
    Case("div", lambda a, b: a / b, [U((2, 3)), U((2, 1), 0.5, 2.0)], name="broadcast"),
    Case("div", lambda a: 2.0 / a, [U((3, 2), 0.5, 2.0)], name="rdiv"),
    Case("neg", lambda a: -a, [U((2, 3))]),
    Case("clone", lambda a: a.clone() * 2, [U((2, 3))]),
    Case("to", lambda a: a.float(), [U((2, 3))], eps=1e-2),
    Case("pow", lambda a: a ** 3, [U((2, 3))]),
    Case("pow", lambda a: a ** 0.5, [U((2, 3), 0.5, 2.0)], name="sqrt_exponent"),
    Case("pow_tensor", lambda a, e: a ** e, [U((2, 3), 0.5, 2.0), U((3,))], name="broadcast"),
    Case("pow_tensor", lambda e: 2.0 ** e, [U((4,))], name="rpow"),
    Case("exp", lambda a: a.exp(), [U((2, 3))]),
    Case("log", lambda a: a.log(), [U((2, 3), 0.2, 3.0)]),
    Case("sqrt", lambda a: a.sqrt(), [U((2, 3), 0.2, 3.0)]),
    Case("abs", lambda a: a.abs(), [U((3, 4), avoid=(0.0,))]),
    Case("clamp", lambda a: a.clamp(-0.5, 0.7), [U((4, 5), avoid=(-0.5, 0.7))]),
    Case("clamp", lambda a: a.clamp(min=0.1), [U((4, 5), avoid=(0.1,))], name="min_only"),
    Case("maximum", lambda a, b: a.maximum(b), [U((3, 4)), U((4,))], name="broadcast"),
    Case("minimum", lambda a, b: a.minimum(b), [U((3, 4)), U((3, 1))], name="broadcast"),
    Case("sum", lambda a: a.sum(), [U((2, 3, 4))], name="all"),
    Case("sum", lambda a: a.sum(dim=1), [U((2, 3, 4))], name="dim"),
    Case("sum", lambda a: a.sum(dim=(0, 2), keepdim=True), [U((2, 3, 4))], name="dims_keepdim"),
    Case("mean", lambda a: a.mean(), [U((2, 3, 4))], name="all"),
    Case("mean", lambda a: a.mean(dim=-1, keepdim=True), [U((2, 3, 4))], name="dim_keepdim"),
    Case("amax", lambda a: a.amax(dim=1), [D((3, 4, 2))], name="dim"),
    Case("amax", lambda a: a.amax(), [D((3, 4))], name="all"),
    Case("amin", lambda a: a.amin(dim=(0, 2), keepdim=True), [D((3, 4, 2))], name="dims"),
    Case("reshape", lambda a: a.reshape(4, -1), [U((2, 3, 2))]),
    Case("reshape", lambda a: a.view(3, 4), [U((2, 6))], name="view"),
    Case("flatten", lambda a: a.flatten(1), [U((2, 3, 4, 2))]),
    Case("unsqueeze", lambda a: a.unsqueeze(-1), [U((2, 3))]),
    Case("squeeze", lambda a: a.squeeze(), [U((2, 1, 3, 1))], name="all"),
    Case("squeeze", lambda a: a.squeeze(1), [U((2, 1, 3))], name="dim"),
    Case("permute", lambda a: a.permute(0, 3, 1, 2), [U((2, 3, 4, 5))]),
    Case("transpose", lambda a: a.transpose(0, -1), [U((2, 3, 4))]),
    Case("getitem", lambda a: a[1:, ::2], [U((3, 5))], name="slices"),
    Case("getitem", lambda a: a[..., 1, None], [U((2, 3, 4))], name="int_none_ellipsis"),
    Case("getitem", lambda a: a[[0, 2, 0]], [U((3, 4))], name="repeated_int_array"),
    Case("getitem", lambda a, i: a[i], [U((4, 3)), I((5,), 0, 4)], name="tensor_index"),
    Case("getitem", lambda a: a[a > 0], [U((3, 4), avoid=(0.0,))], name="bool_mask"),
    Case("setitem", lambda a, v: _setitem(a, v, (slice(None), 1)), [U((3, 4)), U((3,))]),
    Case("setitem", lambda a, v: _setitem(a, v, 0), [U((3, 4)), U((1,))], name="broadcast"),
    Case("pad", lambda a: F.pad(a, (1, 2)), [U((2, 3))], name="last_dim",
         torch_fn=lambda a: torch.nn.functional.pad(a, (1, 2))),
    Case("pad", lambda a: F.pad(a, (0, 1, 2, 0), value=0.5), [U((2, 3, 2))], name="two_dims",
         torch_fn=lambda a: torch.nn.functional.pad(a, (0, 1, 2, 0), value=0.5)),
    Case("matmul", lambda a, b: a @ b, [U((3, 4)), U((4, 2))]),
    Case("matmul", lambda a, b: a @ b, [U((2, 1, 3, 4)), U((5, 4, 2))], name="batched_broadcast"),
    Case("matmul", lambda a, b: a @ b, [U((4,)), U((2, 4, 3))], name="vector_left"),
    Case("matmul", lambda a, b: a @ b, [U((2, 3, 4)), U((4,))], name="vector_right"),
    Case("matmul", lambda a, b: a @ b, [U((4,)), U((4,))], name="dot"),
    Case("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1), [U((2, 5, 5, 3)), U((3, 3, 3, 4)), U((4,))],
         torch_fn=lambda x, w, b: torch_conv2d(x, w, b, padding=1), name="pad1"),
    Case("conv2d", lambda x, w: F.conv2d(x, w, stride=2), [U((2, 6, 7, 2)), U((3, 3, 2, 3))],
         torch_fn=lambda x, w: torch_conv2d(x, w, stride=2), name="stride_remainder_no_bias"),
    Case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=2),
         [U((2, 7, 6, 2)), U((2, 3, 2, 3)), U((3,))], name="pairs_dilation",
         torch_fn=lambda x, w, b: torch_conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=2)),
    Case("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding="same"), [U((1, 5, 4, 2)), U((2, 2, 2, 3)), U((3,))],
         torch_fn=lambda x, w, b: torch_conv2d(x, w, b, padding="same"), name="same_even_kernel"),
    Case("conv2d", lambda x, w, b: F.conv2d(x, w, b), [U((2, 3, 3, 4)), U((1, 1, 4, 2)), U((2,))],
         torch_fn=lambda x, w, b: torch_conv2d(x, w, b), name="1x1"),
    # C >= 8 takes the per-tap input gradient: phases, taps cropped at the padding
    Case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=2),
         [U((1, 7, 6, 8)), U((2, 3, 8, 2)), U((2,))], name="pairs_dilation_8_channels",
         torch_fn=lambda x, w, b: torch_conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=2)),
    Case("conv2d", lambda x, w: F.conv2d(x, w, padding="same"), [U((1, 5, 4, 8)), U((2, 2, 8, 2))],
         torch_fn=lambda x, w: torch_conv2d(x, w, padding="same"), name="same_even_kernel_8_channels"),
    Case("conv2d", lambda x, w: F.conv2d(x, w, stride=3, padding=3), [U((1, 4, 5, 8)), U((2, 2, 8, 2))],
         torch_fn=lambda x, w: torch_conv2d(x, w, stride=3, padding=3), name="taps_in_padding_8_channels"),
    Case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
         [U((2, 6, 5, 4)), U((3, 3, 2, 6)), U((6,))], name="groups2",
         torch_fn=lambda x, w, b: torch_conv2d(x, w, b, stride=2, padding=1, groups=2)),
    Case("conv2d", lambda x, w: F.conv2d(x, w, padding=1, dilation=(1, 2), groups=3),
         [U((1, 5, 6, 3)), U((3, 2, 1, 6))], name="depthwise_multiplier2",
         torch_fn=lambda x, w: torch_conv2d(x, w, padding=1, dilation=(1, 2), groups=3)),
    Case("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding="same", groups=2),
         [U((1, 4, 5, 16)), U((2, 3, 8, 4)), U((4,))], name="groups2_8_channels_each",
         torch_fn=lambda x, w, b: torch_conv2d(x, w, b, padding="same", groups=2)),
    Case("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
         [U((2, 3, 4, 3)), U((3, 3, 2, 3)), U((2,))], name="stride2_output_padding",
         torch_fn=lambda x, w, b: torch_conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)),
    Case("conv_transpose2d", lambda x, w: F.conv_transpose2d(x, w, stride=(1, 3), padding=(2, 0), groups=2,
                                                            dilation=2, output_padding=(1, 0)),
         [U((1, 4, 3, 4)), U((2, 3, 3, 4))], name="groups_dilation_output_padding_over_stride",
         torch_fn=lambda x, w: torch_conv_transpose2d(x, w, stride=(1, 3), padding=(2, 0), groups=2,
                                                      dilation=2, output_padding=(1, 0))),
    Case("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2),
         [U((1, 3, 3, 2)), U((2, 2, 8, 2)), U((8,))], name="8_output_channels",
         torch_fn=lambda x, w, b: torch_conv_transpose2d(x, w, b, stride=2)),
    Case("max_pool2d", lambda x: F.max_pool2d(x, 2), [D((2, 4, 6, 3))], torch_fn=torch_pool("max_pool2d", kernel_size=2),
         name="k2"),
    Case("max_pool2d", lambda x: F.max_pool2d(x, 4, stride=2), [D((1, 8, 8, 2))], name="k4_s2_overlapping",
         torch_fn=torch_pool("max_pool2d", kernel_size=4, stride=2)),
    Case("max_pool2d", lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [D((2, 5, 6, 2))], name="k3_s2_pad1",
         torch_fn=torch_pool("max_pool2d", kernel_size=3, stride=2, padding=1)),
    Case("avg_pool2d", lambda x: F.avg_pool2d(x, 2), [U((2, 4, 5, 3))], torch_fn=torch_pool("avg_pool2d", kernel_size=2),
         name="k2"),
    Case("avg_pool2d", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [U((2, 5, 6, 2))], name="k3_s2_pad1",
         torch_fn=torch_pool("avg_pool2d", kernel_size=3, stride=2, padding=1)),
    Case("linear", lambda x, w, b: F.linear(x, w, b), [U((4, 3)), U((3, 2)), U((2,))], torch_fn=torch_linear),
    Case("linear", lambda x, w: F.linear(x, w), [U((2, 4, 3)), U((3, 5))], torch_fn=torch_linear, name="3d_no_bias"),
    Case("relu", lambda x: x.relu(), [U((3, 4), avoid=(0.0,))]),
    Case("leaky_relu", lambda x: F.leaky_relu(x, 0.2), [U((3, 4), avoid=(0.0,))],
         torch_fn=lambda x: torch.nn.functional.leaky_relu(x, 0.2)),
    Case("sigmoid", lambda x: x.sigmoid(), [U((3, 4), -6, 6)]),
    Case("tanh", lambda x: x.tanh(), [U((3, 4))]),
    Case("softmax", lambda x: x.softmax(dim=1), [U((3, 4))]),
    Case("softmax", lambda x: F.softmax(x, dim=0), [U((3, 4, 2))], name="dim0",
         torch_fn=lambda x: torch.softmax(x, dim=0)),
    Case("log_softmax", lambda x: x.log_softmax(dim=-1), [U((3, 4))]),
    Case("dropout", lambda x: activation.Dropout.apply(x, DROPOUT_KEEP, p=0.3), [U((3, 4))],
         torch_fn=lambda x: x * torch.tensor(DROPOUT_KEEP) / 0.7),
    Case("binary_cross_entropy", lambda p, t: F.binary_cross_entropy(p, t), [U((4, 3), 0.05, 0.95), U((4, 3), 0, 1)],
         torch_fn=lambda p, t: torch.nn.functional.binary_cross_entropy(p, t)),
    Case("binary_cross_entropy", lambda p, t: F.binary_cross_entropy(p, t, reduction="none"),
         [U((5,), 0.05, 0.95), U((5,), 0, 1)], name="none",
         torch_fn=lambda p, t: torch.nn.functional.binary_cross_entropy(p, t, reduction="none")),
    Case("binary_cross_entropy_with_logits", lambda x, t, w: F.binary_cross_entropy_with_logits(
         x, t, reduction="sum", pos_weight=w), [U((4, 3), -4, 4), U((4, 3), 0, 1), U((3,), 0.5, 3, constant=True)],
         name="pos_weight_sum", torch_fn=lambda x, t, w: torch.nn.functional.binary_cross_entropy_with_logits(
         x, t, reduction="sum", pos_weight=w)),
    Case("binary_cross_entropy_with_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t),
         [U((6,), -4, 4), U((6,), 0, 1)],
         torch_fn=lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(x, t)),
    Case("nll_loss", lambda x, t: F.cross_entropy(x, t), [U((4, 5)), I((4,), 0, 5)], name="cross_entropy",
         torch_fn=lambda x, t: torch.nn.functional.cross_entropy(x, t)),
    Case("nll_loss", lambda x, t: F.nll_loss(x, t, reduction="sum"), [U((4, 5)), I((4,), 0, 5)], name="sum",
         torch_fn=lambda x, t: torch.nn.functional.nll_loss(x, t, reduction="sum")),
    Case("mse_loss", lambda x, t: F.mse_loss(x, t), [U((3, 4)), U((3, 4))],
         torch_fn=lambda x, t: torch.nn.functional.mse_loss(x, t)),
]
