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

import minigrad as mg
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


@dataclass(frozen=True)
class WithZeros:
    """Float input drawn uniformly from [-2, 2) with exact zeros at the flat positions ``at``."""
    shape: tuple
    at: tuple
    constant: bool = False

    def make(self, rng: np.random.Generator) -> np.ndarray:
        x = rng.uniform(-2.0, 2.0, self.shape)
        x.flat[list(self.at)] = 0.0
        return x


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


# distinct per-plane positions in a 5x4 output: max_unpool2d's indices, as max_pool2d gives them
UNPOOL_INDICES = np.stack([np.random.default_rng(6 + n).permutation(20)[:12] for n in range(2)]).reshape(2, 2, 2, 3)
DROPOUT_KEEP = np.random.default_rng(5).random((3, 4)) >= 0.3


def _setitem(x, v, index):
    y = x.clone()
    y[index] = v
    return y


U, D, I, Z = Uniform, Distinct, Integers, WithZeros
INTEGERS = (-2.0, -1.0, 0.0, 1.0, 2.0)          # rounding ops jump there
HALVES = (-1.5, -0.5, 0.5, 1.5)                 # round jumps there
SCATTER_INDEX = np.array([[2, 0], [1, 3], [0, 2]])   # no repeats within a row: one writer each
REPEATS = np.array([2, 0, 1])

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
    Case("max_pool2d", lambda x: F.max_pool2d(x, 2, stride=1, padding=1, dilation=2), [D((1, 5, 6, 2))],
         name="dilation_pad1", torch_fn=torch_pool("max_pool2d", kernel_size=2, stride=1, padding=1, dilation=2)),
    Case("max_pool2d", lambda x: F.max_pool2d(x, (3, 2), stride=2, padding=(1, 0), ceil_mode=True), [D((2, 6, 5, 2))],
         name="ceil_mode_pairs", torch_fn=torch_pool("max_pool2d", kernel_size=(3, 2), stride=2, padding=(1, 0),
                                                     ceil_mode=True)),
    Case("avg_pool2d", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
         [U((2, 6, 5, 2))], name="ceil_mode_exclude_pad",
         torch_fn=torch_pool("avg_pool2d", kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    Case("avg_pool2d", lambda x: F.avg_pool2d(x, 2, stride=1, divisor_override=3), [U((1, 3, 4, 2))],
         name="divisor_override", torch_fn=torch_pool("avg_pool2d", kernel_size=2, stride=1, divisor_override=3)),
    Case("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [U((2, 5, 7, 2))], name="overlapping",
         torch_fn=torch_pool("adaptive_avg_pool2d", output_size=(3, 2))),
    Case("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (None, 4)), [U((1, 3, 3, 2))],
         name="none_and_upsampling", torch_fn=torch_pool("adaptive_avg_pool2d", output_size=(None, 4))),
    Case("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, 1), [U((3, 4, 5, 2))], name="global",
         torch_fn=torch_pool("adaptive_avg_pool2d", output_size=1)),
    Case("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (2, 3)), [D((2, 5, 7, 2))], name="overlapping",
         torch_fn=torch_pool("adaptive_max_pool2d", output_size=(2, 3))),
    Case("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, 1), [D((2, 3, 4, 3))], name="global",
         torch_fn=torch_pool("adaptive_max_pool2d", output_size=1)),
    Case("max_unpool2d", lambda x: F.max_unpool2d(x, mg.tensor(UNPOOL_INDICES), 2, output_size=(5, 4)),
         [U((2, 2, 2, 3))], torch_fn=lambda x: nhwc(torch.nn.functional.max_unpool2d(
             nchw(x), nchw(torch.tensor(UNPOOL_INDICES)), 2, output_size=(5, 4)))),
    Case("linear", lambda x, w, b: F.linear(x, w, b), [U((4, 3)), U((3, 2)), U((2,))], torch_fn=torch_linear),
    Case("linear", lambda x, w: F.linear(x, w), [U((2, 4, 3)), U((3, 5))], torch_fn=torch_linear, name="3d_no_bias"),
    Case("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [U((3, 2, 4, 3)), U((3,)), U((3,))],
         name="train_nhwc", torch_fn=lambda x, w, b: nhwc(torch.nn.functional.batch_norm(
             nchw(x), None, None, w, b, training=True))),
    Case("batch_norm", lambda x: F.batch_norm(x, None, None, training=True, eps=0.1), [U((5, 4))], name="train_1d_no_affine",
         torch_fn=lambda x: torch.nn.functional.batch_norm(x, None, None, training=True, eps=0.1)),
    Case("batch_norm", lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b), [U((2, 3, 2, 3)), U((3,), constant=True),
         U((3,), 0.5, 2, constant=True), U((3,)), U((3,))], name="eval_nhwc",
         torch_fn=lambda x, m, v, w, b: nhwc(torch.nn.functional.batch_norm(nchw(x), m, v, w, b))),
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
    # ----- issue 19: elementwise math (ops/math.py) -----
    Case("sin", lambda a: a.sin(), [U((3, 4))]),
    Case("cos", lambda a: a.cos(), [U((3, 4))]),
    Case("tan", lambda a: a.tan(), [U((3, 4), -1.2, 1.2)]),
    Case("asin", lambda a: a.asin(), [U((3, 4), -0.9, 0.9)]),
    Case("acos", lambda a: a.acos(), [U((3, 4), -0.9, 0.9)]),
    Case("atan", lambda a: a.atan(), [U((3, 4))]),
    Case("sinh", lambda a: a.sinh(), [U((3, 4))]),
    Case("cosh", lambda a: a.cosh(), [U((3, 4))]),
    Case("log2", lambda a: a.log2(), [U((3, 4), 0.2, 3.0)]),
    Case("log10", lambda a: a.log10(), [U((3, 4), 0.2, 3.0)]),
    Case("log1p", lambda a: a.log1p(), [U((3, 4), -0.5, 2.0)]),
    Case("expm1", lambda a: a.expm1(), [U((3, 4))]),
    Case("exp2", lambda a: a.exp2(), [U((3, 4))]),
    Case("rsqrt", lambda a: a.rsqrt(), [U((3, 4), 0.3, 3.0)]),
    Case("reciprocal", lambda a: a.reciprocal(), [U((3, 4), 0.3, 3.0)]),
    Case("square", lambda a: a.square(), [U((3, 4))]),
    Case("frac", lambda a: a.frac(), [U((3, 4), avoid=INTEGERS)]),
    Case("floor", lambda a: a.floor() * a, [U((3, 4), avoid=INTEGERS)], name="times_x"),
    Case("ceil", lambda a: a.ceil() * a, [U((3, 4), avoid=INTEGERS)], name="times_x"),
    Case("trunc", lambda a: a.trunc() * a, [U((3, 4), avoid=INTEGERS)], name="times_x"),
    Case("round", lambda a: a.round() * a, [U((3, 4), avoid=HALVES)], name="times_x"),
    Case("round", lambda a: a.round(decimals=1), [U((3, 4), avoid=(0.05, 0.15, -0.05, 0.25))],
         name="decimals"),
    Case("sign", lambda a: a.sign() * a, [U((3, 4), avoid=(0.0,))], name="times_x"),
    Case("atan2", lambda a, b: a.atan2(b), [U((3, 4)), U((4,), avoid=(0.0,))], name="broadcast"),
    Case("remainder", lambda a, b: a % b, [U((3, 4), -3, 3), U((4,), 0.6, 1.9)], name="broadcast"),
    Case("remainder", lambda a, b: a % b, [U((3, 4), -3, 3), U((3, 4), -1.9, -0.6)],
         name="negative_divisor"),
    Case("remainder", lambda a: a % 1.5, [U((3, 4), -3, 3)], name="scalar"),
    Case("fmod", lambda a, b: a.fmod(b), [U((3, 4), -3, 3), U((3, 1), -1.9, -0.6)], name="broadcast"),
    Case("floor_divide", lambda a, b: a.div(b, rounding_mode="floor") * a,
         [U((3, 4), -3, 3), U((4,), 0.6, 1.9)], name="times_x"),
    Case("floor_divide", lambda a: (a // 0.7) * a, [U((3, 4), -3, 3)], name="operator",
         torch_fn=lambda a: torch.div(a, 0.7, rounding_mode="floor") * a),
    Case("div_trunc", lambda a, b: a.div(b, rounding_mode="trunc") * b, [U((3, 4), -3, 3), U((4,), 0.6, 1.9)],
         name="times_divisor"),
    # ----- joins and choices (ops/join.py) -----
    Case("cat", lambda a, b: mg.cat([a, b], dim=1), [U((2, 3)), U((2, 1))],
         torch_fn=lambda a, b: torch.cat([a, b], dim=1)),
    Case("cat", lambda a, b, c: mg.cat((a, b, c)), [U((2, 3)), U((0, 3)), U((1, 3))], name="empty_piece",
         torch_fn=lambda a, b, c: torch.cat((a, b, c))),
    Case("cat", lambda a, b, c: mg.cat([a, b, c], -1), [U((2, 2)), U((0,)), U((2, 1))], name="legacy_1d_empty",
         torch_fn=lambda a, b, c: torch.cat([a, b, c], -1)),
    Case("stack", lambda a, b: mg.stack([a, b], dim=-1), [U((2, 3)), U((2, 3))],
         torch_fn=lambda a, b: torch.stack([a, b], dim=-1)),
    Case("where", lambda a, b: a.where(a > 0, b), [U((3, 4), avoid=(0.0,)), U((4,))], name="method"),
    Case("where", lambda a, b: mg.where(b > 0.5, a, 0.25), [U((3, 1)), U((3, 4), 0, 1, constant=True)], name="scalar_other",
         torch_fn=lambda a, b: torch.where(b > 0.5, a, 0.25)),
    Case("where", lambda a: a.masked_fill(a > 0.5, -1.0), [U((3, 4), avoid=(0.5,))], name="masked_fill"),
    # ----- values at indices (ops/select.py) -----
    Case("max", lambda a: a.max(1).values, [D((3, 4, 2))], name="dim"),
    Case("max", lambda a: a.max(dim=-1, keepdim=True).values, [D((3, 4))], name="keepdim"),
    Case("amax", lambda a: a.max(), [D((3, 4))], name="max_no_dim"),
    Case("min", lambda a: a.min(0).values, [D((3, 4))], name="dim"),
    Case("amin", lambda a: a.min(), [D((3, 4))], name="min_no_dim"),
    Case("maximum", lambda a, b: mg.max(a, b), [U((3, 4)), U((4,))], name="mg_max_of_two",
         torch_fn=lambda a, b: torch.max(a, b)),
    Case("sort", lambda a: a.sort(1).values, [D((3, 4))]),
    Case("sort", lambda a: a.sort(0, descending=True).values, [D((3, 4))], name="descending"),
    Case("topk", lambda a: a.topk(2, dim=1).values, [D((3, 4))]),
    Case("topk", lambda a: a.topk(2, 0, largest=False).values, [D((3, 4))], name="smallest"),
    Case("gather", lambda a, i: a.gather(1, i), [U((3, 4)), I((3, 5), 0, 4)], name="repeats"),
    Case("gather", lambda a, i: a.gather(0, i), [U((3, 4)), I((2, 3), 0, 3)], name="smaller_index"),
    # ----- index writes and selections (ops/index.py) -----
    Case("scatter", lambda a, s: a.scatter(1, mg.tensor(SCATTER_INDEX), s), [U((3, 4)), U((3, 2))],
         torch_fn=lambda a, s: a.scatter(1, torch.tensor(SCATTER_INDEX), s)),
    Case("scatter_add", lambda a, i, s: a.scatter_add(0, i, s), [U((3, 4)), I((4, 4), 0, 3), U((4, 4))],
         name="repeats"),
    Case("index_select", lambda a, i: a.index_select(0, i), [U((3, 4)), I((5,), 0, 3)], name="repeats"),
    Case("index_select", lambda a: a.repeat_interleave(2, dim=1), [U((3, 2))], name="repeat_interleave"),
    Case("index_select", lambda a: a.repeat_interleave(mg.tensor(REPEATS)), [U((3,))],
         name="repeat_interleave_counts", torch_fn=lambda a: a.repeat_interleave(torch.tensor(REPEATS))),
    Case("tril", lambda a: a.tril(), [U((3, 4))]),
    Case("tril", lambda a: a.tril(-1), [U((2, 3, 4))], name="batched_below"),
    Case("triu", lambda a: a.triu(1), [U((4, 3))], name="above"),
    # ----- shape (ops/shape.py) -----
    Case("expand", lambda a: a.expand(2, 3, -1), [U((3, 1))], name="new_dim"),
    Case("expand", lambda a, b: a.expand_as(b), [U((1, 4)), U((3, 4), constant=True)], name="as"),
    Case("flip", lambda a: a.flip(0, 2), [U((2, 3, 4))]),
    Case("roll", lambda a: a.roll(1), [U((3, 4))], name="flattened"),
    Case("roll", lambda a: a.roll((1, -2), (0, 1)), [U((3, 4))], name="dims"),
    Case("repeat", lambda a: a.repeat(2, 1, 3), [U((3, 2))], name="new_dim"),
    Case("getitem", lambda a: a.split([1, 2], 1)[1], [U((3, 3))], name="split"),
    Case("getitem", lambda a: a.chunk(2, 0)[1], [U((3, 2))], name="chunk"),
    Case("getitem", lambda a: a.narrow(1, -3, 2), [U((2, 4))], name="narrow"),
    Case("reshape", lambda a: a.unflatten(1, (2, -1)), [U((3, 4))], name="unflatten"),
    Case("permute", lambda a: a.T, [U((3, 4))], name="T"),
    Case("transpose", lambda a: a.mT, [U((2, 3, 4))], name="mT"),
    # ----- reductions and scans (ops/reduce.py) -----
    Case("var", lambda a: a.var(1), [U((3, 4))], name="dim"),
    Case("var", lambda a: a.var(0, keepdim=True, correction=0), [U((3, 4))], name="correction0_keepdim"),
    Case("std", lambda a: a.std(), [U((3, 4))], name="all"),
    Case("std", lambda a: a.std((0, 2), unbiased=False), [U((2, 3, 4))], name="dims_biased"),
    Case("prod", lambda a: a.prod(), [U((2, 3))], name="all"),
    Case("prod", lambda a: a.prod(1, keepdim=True), [Z((3, 4), at=(1, 4, 6))], name="zeros_keepdim"),
    Case("prod", lambda a: a.prod(), [Z((2, 3), at=(2,))], name="one_zero_all"),
    Case("logsumexp", lambda a: a.logsumexp(1), [U((3, 4))], name="dim"),
    Case("logsumexp", lambda a: a.logsumexp((0, 2), keepdim=True), [U((2, 3, 4), -30, 30)], name="dims_large"),
    Case("cumsum", lambda a: a.cumsum(1), [U((3, 4))]),
    Case("cumprod", lambda a: a.cumprod(-1), [U((2, 3, 4))]),
    Case("cumprod", lambda a: a.cumprod(1), [Z((3, 5), at=(1, 7, 9, 11))], name="zeros"),
    # ----- einsum (ops/einsum.py) -----
    Case("einsum", lambda a, b: mg.einsum("ij,jk->ik", a, b), [U((2, 3)), U((3, 4))], name="matmul",
         torch_fn=lambda a, b: torch.einsum("ij,jk->ik", a, b)),
    Case("einsum", lambda a, b, c: mg.einsum("bij,bjk,k->bi", [a, b, c]), [U((2, 3, 4)), U((2, 4, 2)), U((2,))],
         name="three_operands", torch_fn=lambda a, b, c: torch.einsum("bij,bjk,k->bi", [a, b, c])),
    Case("einsum", lambda a: mg.einsum("ii->i", a), [U((3, 3))], name="diagonal",
         torch_fn=lambda a: torch.einsum("ii->i", a)),
    Case("einsum", lambda a, b: mg.einsum("iij,j", a, b), [U((3, 3, 2)), U((2,))], name="implicit_trace",
         torch_fn=lambda a, b: torch.einsum("iij,j", a, b)),
    Case("einsum", lambda a: mg.einsum("ij->", a), [U((3, 4))], name="sum_alone",
         torch_fn=lambda a: torch.einsum("ij->", a)),
    Case("einsum", lambda a, b: mg.einsum("...i,...i->...", a, b), [U((2, 1, 3)), U((4, 3))],
         name="ellipsis_broadcast", torch_fn=lambda a, b: torch.einsum("...i,...i->...", a, b)),
    Case("einsum", lambda a, b: mg.outer(a, b), [U((3,)), U((2,))], name="outer",
         torch_fn=lambda a, b: torch.outer(a, b)),
    # empty tensors: the empty result (or nan for a mean over nothing), as in PyTorch
    Case("sum", lambda a: a.sum(dim=0), [U((4, 0))], name="empty_dim"),
    Case("sum", lambda a: a.sum(dim=1), [U((4, 0))], name="over_empty_dim"),
    Case("mean", lambda a: a.mean(dim=1), [U((4, 0))], name="over_empty_dim_nan"),
    Case("amax", lambda a: a.amax(dim=0), [D((4, 0))], name="empty_kept_dim"),
    Case("softmax", lambda x: x.softmax(dim=1), [U((2, 0))], name="empty"),
    Case("log_softmax", lambda x: x.log_softmax(dim=1), [U((2, 0))], name="empty"),
    Case("add", lambda a, b: a + b, [U((0, 3)), U((3,))], name="empty_broadcast"),
    Case("matmul", lambda a, b: a @ b, [U((2, 0)), U((0, 3))], name="empty_inner"),
]

tF = torch.nn.functional
CASES += [
    Case("gelu", lambda x: F.gelu(x), [U((3, 4), -4, 4)], torch_fn=tF.gelu),
    Case("gelu", lambda x: F.gelu(x, approximate="tanh"), [U((3, 4), -4, 4)], name="tanh",
         torch_fn=lambda x: tF.gelu(x, approximate="tanh")),
    Case("elu", lambda x: F.elu(x, 0.7), [U((3, 4), avoid=(0.0,))], torch_fn=lambda x: tF.elu(x, 0.7)),
    Case("elu", lambda x: F.selu(x), [U((3, 4), avoid=(0.0,))], name="selu", torch_fn=tF.selu),
    Case("elu", lambda x: F.celu(x, 0.5), [U((3, 4), avoid=(0.0,))], name="celu",
         torch_fn=lambda x: tF.celu(x, 0.5)),
    Case("silu", lambda x: F.silu(x), [U((3, 4), -6, 6)], torch_fn=tF.silu),
    Case("mish", lambda x: F.mish(x), [U((3, 4), -6, 6)], torch_fn=tF.mish),
    Case("softplus", lambda x: F.softplus(x), [U((3, 4), -6, 6)], torch_fn=tF.softplus),
    Case("softplus", lambda x: F.softplus(x, beta=2.0, threshold=3.0), [U((3, 4), -3, 3, avoid=(1.5,))],
         name="beta_threshold", torch_fn=lambda x: tF.softplus(x, beta=2.0, threshold=3.0)),
    Case("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.5), [U((3, 4), avoid=(-0.5, 1.5))],
         torch_fn=lambda x: tF.hardtanh(x, -0.5, 1.5)),
    Case("hardtanh", lambda x: F.relu6(x), [U((3, 4), -2, 8, avoid=(0.0, 6.0))], name="relu6", torch_fn=tF.relu6),
    Case("hardswish", lambda x: F.hardswish(x), [U((3, 4), -5, 5, avoid=(-3.0, 3.0))], torch_fn=tF.hardswish),
    Case("hardsigmoid", lambda x: F.hardsigmoid(x), [U((3, 4), -5, 5, avoid=(-3.0, 3.0))],
         torch_fn=tF.hardsigmoid),
    Case("logsigmoid", lambda x: F.logsigmoid(x), [U((3, 4), -6, 6)], torch_fn=tF.logsigmoid),
    Case("softsign", lambda x: F.softsign(x), [U((3, 4), avoid=(0.0,))], torch_fn=tF.softsign),
]

CE_WEIGHT = np.array([0.5, 2.0, 1.0, 0.25, 1.5])
CASES += [
    Case("l1_loss", lambda x, t: F.l1_loss(x, t), [U((3, 4)), U((3, 4))], torch_fn=tF.l1_loss),
    Case("smooth_l1_loss", lambda x, t: F.smooth_l1_loss(x, t, beta=0.5), [U((3, 4)), U((3, 4))],
         torch_fn=lambda x, t: tF.smooth_l1_loss(x, t, beta=0.5)),
    Case("smooth_l1_loss", lambda x, t: F.smooth_l1_loss(x, t, reduction="sum", beta=0.0), [U((3, 4)), U((3, 4))],
         name="beta0_sum", torch_fn=lambda x, t: tF.smooth_l1_loss(x, t, reduction="sum", beta=0.0)),
    Case("huber_loss", lambda x, t: F.huber_loss(x, t, reduction="none", delta=0.7), [U((3, 4)), U((3, 4))],
         torch_fn=lambda x, t: tF.huber_loss(x, t, reduction="none", delta=0.7)),
    Case("kl_div", lambda x, t: F.kl_div(x, t, reduction="batchmean"), [U((3, 4), -3, 0), U((3, 4), 0.1, 1)],
         torch_fn=lambda x, t: tF.kl_div(x, t, reduction="batchmean")),
    Case("kl_div", lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True), [U((3, 4), -3, 0), U((3, 4), -3, 0)],
         name="log_target_sum", torch_fn=lambda x, t: tF.kl_div(x, t, reduction="sum", log_target=True)),
    Case("nll_loss", lambda x, t: F.nll_loss(x, t, weight=CE_WEIGHT, ignore_index=1), [U((6, 5)), I((6,), 0, 5)],
         name="weight_ignore_index", torch_fn=lambda x, t: tF.nll_loss(x, t, weight=torch.tensor(CE_WEIGHT),
                                                                        ignore_index=1)),
    Case("nll_loss", lambda x, t: F.cross_entropy(x, t, weight=CE_WEIGHT, ignore_index=2, label_smoothing=0.2),
         [U((6, 5)), I((6,), 0, 5)], name="cross_entropy_smoothing_weight_ignore",
         torch_fn=lambda x, t: tF.cross_entropy(x, t, weight=torch.tensor(CE_WEIGHT), ignore_index=2,
                                                label_smoothing=0.2)),
    Case("nll_loss", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), [U((2, 3, 2, 5)), I((2, 3, 2), 0, 5)],
         name="cross_entropy_nhwc", torch_fn=lambda x, t: tF.cross_entropy(nchw(x), t, label_smoothing=0.1)),
]
