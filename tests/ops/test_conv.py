"""conv2d: the seed's helpers, the library's reference against them and against PyTorch, the
fast path against the reference on the whole geometry table, known answers, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.functional as F
from minigrad import nn
from minigrad.ops.conv import (add_padding, conv2d_reference, conv2d_vjp_reference, convolve,
                               dilate, flip_kernels)
from minigrad.ops.geometry import output_size

FAST_VS_REFERENCE_RTOL = 1e-9      # float64 on both sides: only the summation order differs
FAST_VS_REFERENCE_ATOL = 1e-12
# float32 fast path against the float64 reference, relative to the largest entry: sums of up
# to ~200 products, each rounded at 6e-8; the worst seen on the table is 4e-7, 10x margin
FLOAT32_TOLERANCE = 4e-6
REFERENCE_VS_TORCH_RTOL = 1e-10    # float64 both sides
KNOWN_ANSWER_ATOL = 1e-8           # the seed's printed numbers have 8 decimals

# (N, H, W, C, O, kernel, stride, padding, dilation): every branch of the geometry and of the
# fast path (per-tap input gradient from C = 16, scatter below; strided phases; narrow im2col;
# column-major im2col up to C = 4, row-major above)
GEOMETRY = {
    "pad1": (2, 5, 5, 3, 4, 3, 1, 1, 1),
    "seed002_backward_shapes": (3, 8, 8, 3, 12, 4, 2, 1, 1),
    "stride_remainder": (2, 7, 6, 2, 3, 3, 2, 0, 1),
    "stride3_remainder_pad2": (1, 9, 9, 1, 2, 5, 3, 2, 1),
    "1x1_stride2_phase_no_tap_reaches": (2, 6, 6, 2, 2, 1, 2, 0, 1),
    "stride_above_kernel": (1, 8, 7, 2, 2, 2, 3, 0, 1),
    "16_channels_per_tap": (2, 6, 7, 16, 3, 3, 1, 1, 1),
    "8_channels_scatter_row_major_cols": (2, 6, 7, 8, 3, 3, 1, 1, 1),
    "16_channels_strided_phases": (2, 7, 6, 16, 2, 3, 2, 0, 1),
    "9_channels_strided_scatter": (2, 7, 6, 9, 2, 3, 2, 0, 1),
    "16_channels_taps_in_padding": (1, 4, 5, 16, 2, 2, 3, 3, 1),
    "narrow_im2col": (2, 6, 6, 1, 8, 3, 1, 1, 1),
    "dilation2": (2, 9, 9, 3, 4, 3, 1, 2, 2),
    "dilation2_stride2_remainder_16_channels": (2, 11, 10, 16, 3, 3, 2, 1, 2),
    "dilation2_stride2_remainder_4_channels": (2, 11, 10, 4, 3, 3, 2, 1, 2),
    "same": (2, 6, 6, 3, 4, 3, 1, "same", 1),
    "same_even_kernel_dilated_pairs": (2, 6, 7, 2, 3, (2, 4), 1, "same", (1, 2)),
    "same_even_kernel_16_channels": (1, 5, 4, 16, 2, 2, 1, "same", 1),
    "valid": (2, 6, 5, 2, 3, 3, 1, "valid", 1),
    "pairs": (2, 7, 8, 3, 2, (2, 3), (2, 1), (1, 0), (1, 2)),
    "pairs_16_channels": (2, 8, 7, 16, 3, (3, 2), (1, 2), (0, 2), (2, 1)),
}


def pair(v):
    return v if isinstance(v, tuple) else (v, v)


def make_problem(N, H, W, C, O, kernel, stride, padding, dilation, seed=0):
    """Random x, w, b and an output gradient g of the right shape."""
    rng = np.random.default_rng(seed)
    (KH, KW), S, D = pair(kernel), pair(stride), pair(dilation)
    x, w, b = rng.standard_normal((N, H, W, C)), rng.standard_normal((KH, KW, C, O)), rng.standard_normal(O)
    if padding == "same":
        out = (H, W)
    else:
        P = (0, 0) if padding == "valid" else pair(padding)
        out = tuple(output_size(n, k, s, 2 * p, d) for n, k, s, p, d in zip((H, W), (KH, KW), S, P, D))
    g = rng.standard_normal((N, *out, O))
    return x, w, b, g, dict(stride=stride, padding=padding, dilation=dilation)


def fast_conv2d_and_grads(x, w, b, g, dtype=np.float64, **geometry):
    xt, wt, bt = (mg.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, **geometry)
    y.backward(g.astype(dtype))
    return y.numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def reference_conv2d_and_grads(x, w, b, g, **geometry):
    return (conv2d_reference(x, w, b, **geometry), *conv2d_vjp_reference(g, x, w, **geometry))


@pytest.mark.parametrize("shape", GEOMETRY.values(), ids=GEOMETRY.keys())
def test_fast_path_matches_the_reference_forward_and_all_gradients_float64(shape) -> None:
    x, w, b, g, geometry = make_problem(*shape)
    for name, fast, reference in zip("y gx gw gb".split(), fast_conv2d_and_grads(x, w, b, g, **geometry),
                                     reference_conv2d_and_grads(x, w, b, g, **geometry)):
        assert fast.shape == reference.shape, name
        np.testing.assert_allclose(fast, reference, rtol=FAST_VS_REFERENCE_RTOL,
                                   atol=FAST_VS_REFERENCE_ATOL, err_msg=name)


@pytest.mark.parametrize("shape", GEOMETRY.values(), ids=GEOMETRY.keys())
def test_fast_path_matches_the_reference_in_float32(shape) -> None:
    x, w, b, g, geometry = make_problem(*shape)
    x, w, b, g = (a.astype(np.float32).astype(np.float64) for a in (x, w, b, g))
    for name, fast, reference in zip("y gx gw gb".split(),
                                     fast_conv2d_and_grads(x, w, b, g, dtype=np.float32, **geometry),
                                     reference_conv2d_and_grads(x, w, b, g, **geometry)):
        assert fast.dtype == np.float32, name
        np.testing.assert_allclose(fast, reference, rtol=0, err_msg=name,
                                   atol=FLOAT32_TOLERANCE * np.abs(reference).max())


@pytest.mark.parametrize("shape", [GEOMETRY[k] for k in ("16_channels_per_tap", "16_channels_strided_phases",
                                                         "stride_remainder", "pad1")],
                         ids=["per_tap_in_place", "per_tap_phases", "scatter", "scatter_padded"])
def test_input_gradient_in_blocks_of_images_matches_the_reference(monkeypatch, shape) -> None:
    for constant in ("BLOCK_BYTES", "SCATTER_WHOLE_BYTES", "SCATTER_BLOCK_BYTES"):
        monkeypatch.setattr(f"minigrad.ops.conv_fast.{constant}", 1)   # one image per block
    x, w, b, g, geometry = make_problem(3, *shape[1:], seed=1)
    np.testing.assert_allclose(fast_conv2d_and_grads(x, w, b, g, **geometry)[1],
                               conv2d_vjp_reference(g, x, w, **geometry)[0],
                               rtol=FAST_VS_REFERENCE_RTOL, atol=FAST_VS_REFERENCE_ATOL)


def torch_conv2d_and_grads(x, w, b, g, stride, padding, dilation, groups=1):
    xt = torch.tensor(x).permute(0, 3, 1, 2).requires_grad_()
    wt = torch.tensor(w).permute(3, 2, 0, 1).requires_grad_()
    bt = torch.tensor(b).requires_grad_()
    y = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding, dilation=dilation,
                                   groups=groups)
    y.backward(torch.tensor(g).permute(0, 3, 1, 2))
    return (y.detach().permute(0, 2, 3, 1).numpy(), xt.grad.permute(0, 2, 3, 1).numpy(),
            wt.grad.permute(2, 3, 1, 0).numpy(), bt.grad.numpy())


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("shape", GEOMETRY.values(), ids=GEOMETRY.keys())
def test_reference_matches_pytorch_forward_and_all_gradients(shape) -> None:
    x, w, b, g, geometry = make_problem(*shape)
    for name, ours, theirs in zip("y gx gw gb".split(), reference_conv2d_and_grads(x, w, b, g, **geometry),
                                  torch_conv2d_and_grads(x, w, b, g, **geometry)):
        np.testing.assert_allclose(ours, theirs, rtol=REFERENCE_VS_TORCH_RTOL, atol=1e-12, err_msg=name)


def test_reference_is_the_seed_derivation_on_the_worked_example_of_docs_conv_md() -> None:
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    k = np.array([[1.0, 0.0], [0.0, -1.0]]).reshape(2, 2, 1, 1)
    g = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(conv2d_reference(x, k)[0, :, :, 0], [[-4, -4], [-4, -4]])
    gx, gw, gb = conv2d_vjp_reference(g, x, k)
    assert gb.tolist() == [10.0]
    np.testing.assert_array_equal(gw[:, :, 0, 0], [[37, 47], [67, 77]])
    np.testing.assert_array_equal(gx[0, :, :, 0], [[1, 2, 0], [3, 3, -2], [0, -3, -4]])


def test_conv2d_backward_of_a_broadcast_gradient_matches_an_explicit_one() -> None:
    """y.sum().backward() hands conv2d a stride-0 view of ones; the result must not depend on it."""
    x, w, b, g, geometry = make_problem(*GEOMETRY["16_channels_strided_phases"])
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    F.conv2d(xt, wt, **geometry).sum().backward()
    _, gx, gw, _ = fast_conv2d_and_grads(x, w, b, np.ones_like(g), **geometry)
    np.testing.assert_allclose(xt.grad.numpy(), gx, rtol=FAST_VS_REFERENCE_RTOL)
    np.testing.assert_allclose(wt.grad.numpy(), gw, rtol=FAST_VS_REFERENCE_RTOL)


# (N, H, W, C, O, kernel, stride, padding, dilation, groups)
GROUPED = {
    "groups2": (2, 6, 5, 4, 6, 3, 2, 1, 1, 2),
    "depthwise": (2, 5, 6, 3, 3, 3, 1, "same", 1, 3),
    "depthwise_multiplier2_dilated": (1, 7, 6, 2, 4, (2, 3), (1, 2), 1, 2, 2),
    "groups2_8_channels_each": (1, 6, 5, 16, 4, 3, 2, 0, 1, 2),
}


def grouped_problem(N, H, W, C, O, kernel, stride, padding, dilation, groups):
    x, w, b, g, geometry = make_problem(N, H, W, C, O, kernel, stride, padding, dilation)
    return x, w[:, :, :C // groups], b, g, dict(geometry, groups=groups)


@pytest.mark.parametrize("shape", GROUPED.values(), ids=GROUPED.keys())
def test_grouped_fast_path_matches_the_reference_and_the_reference_matches_pytorch(shape) -> None:
    x, w, b, g, geometry = grouped_problem(*shape)
    reference = reference_conv2d_and_grads(x, w, b, g, **geometry)
    for name, fast, ref, theirs in zip("y gx gw gb".split(), fast_conv2d_and_grads(x, w, b, g, **geometry),
                                       reference, torch_conv2d_and_grads(x, w, b, g, **geometry)):
        np.testing.assert_allclose(fast, ref, rtol=FAST_VS_REFERENCE_RTOL, atol=FAST_VS_REFERENCE_ATOL,
                                   err_msg=name)
        np.testing.assert_allclose(ref, theirs, rtol=REFERENCE_VS_TORCH_RTOL, atol=1e-12, err_msg=name)


TRANSPOSE_OF = {k: GEOMETRY[k] for k in ("pad1", "stride_remainder", "16_channels_strided_phases",
                                          "dilation2_stride2_remainder_16_channels", "pairs",
                                          "9_channels_strided_scatter")}


@pytest.mark.parametrize("shape", [*TRANSPOSE_OF.values(), *GROUPED.values()],
                         ids=[*TRANSPOSE_OF.keys(), *GROUPED.keys()])
def test_conv_transpose2d_is_the_input_gradient_of_conv2d_with_the_same_weight(shape) -> None:
    x, w, b, g, geometry = grouped_problem(*shape) if len(shape) == 10 else make_problem(*shape)
    if geometry["padding"] == "same":
        geometry["padding"] = 1                                  # 3x3 'same' is padding 1
    S = np.array(pair(geometry["stride"]))
    H_x = np.array(x.shape[1:3])
    # the stride remainder r: conv_transpose2d produces it as output_padding
    K, D, P = np.array(w.shape[:2]), np.array(pair(geometry["dilation"])), np.array(pair(geometry["padding"]))
    remainder = H_x + 2 * P - D * (K - 1) - 1 - (np.array(g.shape[1:3]) - 1) * S
    y = F.conv_transpose2d(mg.tensor(g), mg.tensor(w), output_padding=tuple(int(r) for r in remainder),
                           **geometry).numpy()
    np.testing.assert_allclose(y, conv2d_vjp_reference(g, x, w, **geometry)[0],
                               rtol=FAST_VS_REFERENCE_RTOL, atol=FAST_VS_REFERENCE_ATOL)


def test_conv_transpose2d_backward_is_conv2d_forward_and_weight_gradient() -> None:
    """Its VJP: gx = conv2d(g, w), gw = conv2d's weight gradient with g as the conv input."""
    x, w, b, g, geometry = make_problem(*GEOMETRY["16_channels_strided_phases"])
    gt, wt = mg.tensor(g, requires_grad=True), mg.tensor(w, requires_grad=True)
    y = F.conv_transpose2d(gt, wt, output_padding=(0, 1), **geometry)  # x 7x6: remainders 0, 1
    assert y.shape == x.shape
    y.backward(x)
    np.testing.assert_allclose(gt.grad.numpy(), conv2d_reference(x, w, **geometry),
                               rtol=FAST_VS_REFERENCE_RTOL, atol=FAST_VS_REFERENCE_ATOL)
    np.testing.assert_allclose(wt.grad.numpy(), conv2d_vjp_reference(g, x, w, **geometry)[1],
                               rtol=FAST_VS_REFERENCE_RTOL, atol=FAST_VS_REFERENCE_ATOL)


def test_empty_batch_gives_the_empty_result_as_pytorch() -> None:
    x = mg.zeros(0, 5, 5, 3, requires_grad=True)
    w = mg.randn(3, 3, 3, 4, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.shape == (0, 5, 5, 4) and x.grad.shape == x.shape and not w.grad.numpy().any()
    assert F.conv_transpose2d(mg.zeros(0, 2, 2, 4), w, stride=2).shape == (0, 5, 5, 3)


def test_conv2d_stride_remainder_rows_get_zero_gradient() -> None:
    x = mg.randn(1, 6, 6, 1, requires_grad=True)                   # K=3, S=2: row/col 5 unread
    F.conv2d(x, mg.ones(3, 3, 1, 1), stride=2).sum().backward()
    assert np.all(x.grad.numpy()[:, 5, :, :] == 0) and np.all(x.grad.numpy()[:, :, 5, :] == 0)
    assert np.all(x.grad.numpy()[:, :5, :5, :] != 0)


def test_seed_helpers_on_small_known_arrays() -> None:
    images = np.arange(4.0).reshape(1, 2, 2, 1)
    assert add_padding(images, 1).shape == (1, 4, 4, 1) and add_padding(images, 1)[0, 0].sum() == 0
    assert add_padding(images, (1, 2)).shape == (1, 4, 6, 1)
    np.testing.assert_array_equal(dilate(images, 2)[0, :, :, 0], [[0, 0, 1], [0, 0, 0], [2, 0, 3]])
    np.testing.assert_array_equal(dilate(images, (1, 2))[0, :, :, 0], [[0, 0, 1], [2, 0, 3]])
    kernels = np.arange(8.0).reshape(2, 2, 1, 2)
    flipped = flip_kernels(kernels)
    assert flipped.shape == (2, 2, 2, 1) and flipped[0, 0, 1, 0] == kernels[1, 1, 0, 1]
    np.testing.assert_array_equal(convolve(np.ones((2, 2, 1, 1)), images, 1)[0, :, :, 0], [[6.0]])


def test_known_answer_forward_from_seed_002() -> None:
    """seeds/002: an 8x8 ramp, a 5x5x1x2 ramp kernel, bias ramp, stride 1, no padding."""
    image = np.linspace(-0.1, 0.4, num=64).reshape(1, 8, 8, 1)
    w = np.linspace(-0.2, 0.2, num=5 * 5 * 1 * 2).reshape(5, 5, 1, 2)
    b = np.linspace(-0.3, 0.3, num=2)
    expected_first_row = [[-0.03874312, 0.57000324], [-0.03955296, 0.57081309],
                          [-0.04036281, 0.57162293], [-0.04117266, 0.57243278]]
    expected_last_row = [[-0.05817946, 0.58943959], [-0.05898931, 0.59024943],
                         [-0.05979916, 0.59105928], [-0.06060901, 0.59186913]]
    out = F.conv2d(mg.tensor(image), mg.tensor(w), mg.tensor(b)).numpy()
    assert out.shape == (1, 4, 4, 2)
    np.testing.assert_allclose(out[0, 0], expected_first_row, atol=KNOWN_ANSWER_ATOL)
    np.testing.assert_allclose(out[0, 3], expected_last_row, atol=KNOWN_ANSWER_ATOL)
    np.testing.assert_allclose(convolve(w, image, 1) + b, out, atol=KNOWN_ANSWER_ATOL)


def test_output_size_from_seed_002() -> None:
    """32 RGB 28x28 images, kernel 4, 16 filters, stride 2, padding 3 -> (32, 16, 16, 16)."""
    out = F.conv2d(mg.zeros(32, 28, 28, 3), mg.zeros(4, 4, 3, 16), stride=2, padding=3)
    assert out.shape == (32, 16, 16, 16)


def test_fast_path_keeps_float32() -> None:
    x = mg.randn(2, 6, 6, 3, requires_grad=True)
    w = mg.randn(3, 3, 3, 4, requires_grad=True)
    y = F.conv2d(x, w, padding="same")
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32 and y.shape == (2, 6, 6, 4)


def test_weight_only_backward_skips_the_input_gradient() -> None:
    x = mg.randn(2, 5, 5, 1)                                       # an image: no grad wanted
    w = mg.randn(3, 3, 1, 2, requires_grad=True)
    F.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (3, 3, 1, 2)


@pytest.mark.parametrize("make, error, message", [
    (lambda: F.conv2d(mg.zeros(8, 28, 28, 3), mg.zeros(3, 3, 1, 16)), ValueError,
     r"conv2d: input has 3 channels but weight expects 1 \(input \(8, 28, 28, 3\), weight \(3, 3, 1, 16\)\)"),
    (lambda: F.conv2d(mg.zeros(1, 4, 4, 1), mg.zeros(5, 5, 1, 1)), ValueError,
     r"conv2d: kernel 5x5 .*larger than the padded input 4x4"),
    (lambda: F.conv2d(mg.zeros(1, 4, 4, 1), mg.zeros(3, 3, 1, 1), stride=0), ValueError,
     r"conv2d: stride and dilation must be positive, got stride=0"),
    (lambda: F.conv2d(mg.zeros(4, 4, 1), mg.zeros(3, 3, 1, 1)), ValueError,
     r"conv2d: expected input \(N, H, W, C\)"),
    (lambda: F.conv2d(mg.zeros(1, 4, 4, 1), mg.zeros(3, 3, 1, 2), mg.zeros(3)), ValueError,
     r"conv2d: bias must have shape \(2,\), got \(3,\)"),
    (lambda: F.conv2d(mg.zeros(1, 4, 4, 1), mg.zeros(3, 3, 1, 2), stride=2, padding="same"), ValueError,
     r"padding='same' needs stride 1"),
    (lambda: F.conv2d(mg.zeros(1, 4, 4, 1), mg.zeros(3, 3, 1, 2), padding=-1), ValueError,
     r"padding must be non-negative"),
    (lambda: F.conv2d(mg.zeros(1, 4, 4, 1), mg.zeros(3, 3, 1, 2), padding="full"), TypeError,
     r"conv2d: padding must be an int or a pair"),
    (lambda: F.conv2d(mg.zeros(28, 28, 3), mg.zeros(3, 3, 3, 4)), ValueError,
     r"conv2d: .*got input \(28, 28, 3\).*the batch dimension is missing: for one image use x.unsqueeze\(0\)"),
    (lambda: F.conv2d(mg.zeros(2, 5, 5, 3), mg.zeros(3, 3, 0, 4)), ValueError,
     r"conv2d: input has 3 channels but weight expects 0"),
    (lambda: F.conv2d(mg.zeros(2, 5, 5, 0), mg.zeros(3, 3, 0, 4)), ValueError,
     r"conv2d: input \(2, 5, 5, 0\) and weight \(3, 3, 0, 4\) have 0 input channels"),
    (lambda: F.conv2d(mg.zeros(2, 5, 5, 3), mg.zeros(3, 3, 3, 0)), ValueError,
     r"conv2d: weight \(3, 3, 3, 0\) has 0 output channels"),
    (lambda: F.conv2d(mg.zeros(1, 5, 5, 1), mg.zeros(0, 3, 1, 2)), ValueError,
     r"conv2d: kernel size must be positive, got weight \(0, 3, 1, 2\)"),
    (lambda: F.conv2d(mg.zeros(1, 8, 8, 5), mg.zeros(3, 3, 3, 4), groups=2), ValueError,
     r"conv2d: input has 5 channels but weight expects 6 = groups 2 x 3"),
    (lambda: F.conv2d(mg.zeros(1, 8, 8, 6), mg.zeros(3, 3, 3, 5), groups=2), ValueError,
     r"conv2d: groups=2 must divide the weight's 5 output channels"),
    (lambda: F.conv2d(mg.zeros(1, 8, 8, 6), mg.zeros(3, 3, 3, 4), groups=0), ValueError,
     r"conv2d: groups must be a positive integer, got 0"),
    (lambda: F.conv2d(mg.zeros(1, 8, 8, 6), mg.zeros(3, 3, 3, 4), groups=2.0), TypeError,
     r"conv2d: groups must be an int, got 2.0"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 5, 5, 4), mg.zeros(3, 3, 3, 4), stride=2, output_padding=2),
     ValueError, r"conv_transpose2d: output_padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 5, 5, 4), mg.zeros(3, 3, 3, 4), output_padding=-1),
     ValueError, r"conv_transpose2d: padding and output_padding must be non-negative"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 5, 5, 4), mg.zeros(3, 3, 3, 4), padding="same"), TypeError,
     r"conv_transpose2d: padding must be an int or a pair of ints, got 'same'"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 2, 2, 4), mg.zeros(3, 3, 3, 4), padding=3), ValueError,
     r"conv_transpose2d: output size -2x-2 is too small"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 5, 5, 5), mg.zeros(3, 3, 3, 4)), ValueError,
     r"conv_transpose2d: input has 5 channels but weight expects 4"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 5, 5, 4), mg.zeros(3, 3, 3, 4), groups=3), ValueError,
     r"conv_transpose2d: groups=3 must divide the 4 input channels"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 5, 5, 4), mg.zeros(3, 3, 0, 4)), ValueError,
     r"conv_transpose2d: weight \(3, 3, 0, 4\) .* has 0 channels"),
    (lambda: F.conv_transpose2d(mg.zeros(5, 5, 4), mg.zeros(3, 3, 2, 4)), ValueError,
     r"conv_transpose2d: .*the batch dimension is missing"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 5, 5, 4), mg.zeros(3, 3, 2, 4), mg.zeros(4)), ValueError,
     r"conv_transpose2d: bias must have shape \(2,\), got \(4,\)"),
])
def test_conv2d_errors_name_the_function_and_shapes(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_worked_example_of_docs_conv_md() -> None:
    x = mg.tensor(np.arange(1.0, 10.0).reshape(1, 3, 3, 1), requires_grad=True)
    k = mg.tensor(np.array([[1.0, 0.0], [0.0, -1.0]]).reshape(2, 2, 1, 1), requires_grad=True)
    b = mg.zeros(1, dtype=np.float64, requires_grad=True)
    z = F.conv2d(x, k, b)
    z.backward(np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1))
    np.testing.assert_array_equal(z.numpy()[0, :, :, 0], [[-4, -4], [-4, -4]])
    assert b.grad.tolist() == [10.0]
    np.testing.assert_array_equal(k.grad.numpy()[:, :, 0, 0], [[37, 47], [67, 77]])
    np.testing.assert_array_equal(x.grad.numpy()[0, :, :, 0], [[1, 2, 0], [3, 3, -2], [0, -3, -4]])


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Conv2d(3, 4, 0), ValueError, r"Conv2d: kernel_size must be positive, got kernel_size=0"),
    (lambda: nn.Conv2d(3, 4, -1), ValueError, r"Conv2d: kernel_size must be positive, got kernel_size=-1"),
    (lambda: nn.Conv2d(3, 4, 3, stride=0), ValueError, r"Conv2d: stride and dilation must be positive"),
    (lambda: nn.Conv2d(3.5, 4, 3), TypeError, r"Conv2d: in_channels must be an int, got 3.5"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, r"Conv2d: in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), ValueError, r"Conv2d: out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), ValueError, r"Conv2d: groups must be a positive integer"),
    (lambda: nn.Conv2d(3, 4, 3)(mg.zeros(28, 28, 3)), ValueError,
     r"Conv2d: expected input \(N, H, W, C\) with 3 in the last dimension, got shape \(28, 28, 3\): "
     r"the batch dimension is missing"),
    (lambda: nn.ConvTranspose2d(4, 3, 3, groups=2), ValueError,
     r"ConvTranspose2d: out_channels must be divisible by groups"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, padding="same"), TypeError,
     r"ConvTranspose2d: padding must be an int or a pair of ints, got 'same'"),
    (lambda: nn.ConvTranspose2d(4, 6, 0), ValueError, r"ConvTranspose2d: kernel_size must be positive"),
])
def test_conv_layers_refuse_bad_arguments(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("layer, torch_layer, to_torch", [
    (lambda: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2),
     lambda: torch.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2), (3, 2, 0, 1)),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1),
     lambda: torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), (3, 2, 0, 1)),
    (lambda: nn.ConvTranspose2d(3, 5, 2, bias=False, dilation=2),
     lambda: torch.nn.ConvTranspose2d(3, 5, 2, bias=False, dilation=2), (3, 2, 0, 1)),
])
def test_conv_layers_have_pytorch_shapes_init_repr_and_outputs(layer, torch_layer, to_torch) -> None:
    mg.manual_seed(0)
    ours, theirs = layer(), torch_layer()
    assert ours.weight.shape == tuple(theirs.weight.permute(2, 3, 1, 0).shape)
    assert repr(ours) == repr(theirs)
    bound = 1 / np.sqrt(np.prod(ours.weight.shape[:3]))             # PyTorch's 1/sqrt(fan_in)
    for ours_p, theirs_p in [(ours.weight, theirs.weight), (ours.bias, theirs.bias)]:
        if theirs_p is not None:
            assert np.abs(ours_p.numpy()).max() <= bound
            assert np.abs(theirs_p.detach().numpy()).max() <= bound
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()).permute(*to_torch))
        if theirs.bias is not None:
            theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    x = np.random.default_rng(0).standard_normal((2, 5, 6, ours.in_channels)).astype(np.float32)
    expected = theirs(torch.tensor(x).permute(0, 3, 1, 2)).detach().permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
