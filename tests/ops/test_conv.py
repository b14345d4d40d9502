"""conv2d: the seed's helpers, the fast path against them, known answers, errors."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.ops.conv import add_padding, convolve, dilate, flip_kernels

FAST_VS_REFERENCE_RTOL = 1e-9      # float64 on both sides
KNOWN_ANSWER_ATOL = 1e-8           # the seed's printed numbers have 8 decimals


def reference_conv2d_and_grads(x, w, b, g, S, P):
    """The seed's formulas, composed literally from its helpers (D = 1).

    Forward Eq. 4; bias Eq. 8; kernel Eq. 9-10; input Eq. 11-12.
    """
    K = w.shape[0]
    xp = add_padding(x, P)
    y = convolve(w, xp, S) + b
    gb = g.sum(axis=(0, 1, 2))
    gd = dilate(g, S)                                                # (N, Hd, Wd, O)
    # Eq. 9: dL/dk[i,j,c,o] = sum_{n,s,t} g_d[n,s-i,t-j,o] x[n,s,t,c]: a convolution whose
    # "images" are the input channels and whose "kernels" are the dilated gradient, with the
    # batch playing the role of the channel that is summed over.
    gw = convolve(gd.transpose(1, 2, 0, 3), xp.transpose(3, 1, 2, 0), 1)  # (C, K+r, K+r, O)
    gw = gw.transpose(1, 2, 0, 3)[:K, :K]                            # rows past the reach: unused
    gamma = add_padding(gd, K - 1)                                   # Eq. 12's gamma
    gxp = convolve(flip_kernels(w), gamma, 1)                        # (N, reach, reach, C)
    full = np.zeros_like(xp)
    full[:, :gxp.shape[1], :gxp.shape[2]] = gxp                      # stride remainder: zero
    gx = full[:, P:full.shape[1] - P, P:full.shape[2] - P]
    return y, gx, gw, gb


def minigrad_conv2d_and_grads(x, w, b, g, S, P):
    xt, wt, bt = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride=S, padding=P)
    y.backward(g)
    return y.numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("N, H, W, C, O, K, S, P", [
    (2, 5, 5, 3, 4, 3, 1, 1),
    (3, 8, 8, 3, 12, 4, 2, 1),        # the seed-002 backward test's shapes
    (2, 7, 6, 2, 3, 3, 2, 0),         # stride does not divide H + 2P - K
    (1, 9, 9, 1, 2, 5, 3, 2),
    (2, 6, 6, 2, 2, 1, 2, 0),
    (2, 6, 7, 8, 3, 3, 1, 1),         # C >= 8: the per-tap input gradient
    (2, 7, 6, 9, 2, 3, 2, 0),
    (2, 6, 6, 1, 8, 3, 1, 1),         # narrow im2col (KK < 2*O): the transposed weight product
])
def test_fast_path_matches_the_seed_formulas_forward_and_all_gradients(N, H, W, C, O, K, S, P) -> None:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((N, H, W, C)), rng.standard_normal((K, K, C, O)), rng.standard_normal(O)
    OH = (H + 2 * P - K) // S + 1
    OW = (W + 2 * P - K) // S + 1
    g = rng.standard_normal((N, OH, OW, O))
    for fast, reference in zip(minigrad_conv2d_and_grads(x, w, b, g, S, P),
                               reference_conv2d_and_grads(x, w, b, g, S, P)):
        np.testing.assert_allclose(fast, reference, rtol=FAST_VS_REFERENCE_RTOL, atol=1e-12)


@pytest.mark.parametrize("N, H, W, C, O, K, S, P", [
    (3, 6, 7, 8, 3, 3, 1, 1),         # C >= 8, one phase written in place per block
    (3, 7, 6, 9, 2, 3, 2, 1),         # C >= 8, phases interleaved per block
    (3, 6, 6, 2, 3, 3, 1, 0),         # C < 8, scattered straight into the block
    (3, 7, 6, 2, 3, 3, 2, 1),         # C < 8, scattered into a padded block, then cropped
])
def test_input_gradient_in_blocks_of_images_matches_the_seed_formulas(
        monkeypatch, N, H, W, C, O, K, S, P) -> None:
    monkeypatch.setattr("minigrad.ops.conv.BLOCK_BYTES", 1)     # one image per block
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((N, H, W, C)), rng.standard_normal((K, K, C, O)), rng.standard_normal(O)
    g = rng.standard_normal((N, (H + 2 * P - K) // S + 1, (W + 2 * P - K) // S + 1, O))
    gx = minigrad_conv2d_and_grads(x, w, b, g, S, P)[1]
    np.testing.assert_allclose(gx, reference_conv2d_and_grads(x, w, b, g, S, P)[1],
                               rtol=FAST_VS_REFERENCE_RTOL, atol=1e-12)


def test_conv2d_stride_remainder_rows_get_zero_gradient() -> None:
    x = mg.randn(1, 6, 6, 1, requires_grad=True)                   # K=3, S=2: row/col 5 unread
    F.conv2d(x, mg.ones(3, 3, 1, 1), stride=2).sum().backward()
    assert np.all(x.grad.numpy()[:, 5, :, :] == 0) and np.all(x.grad.numpy()[:, :, 5, :] == 0)
    assert np.all(x.grad.numpy()[:, :5, :5, :] != 0)


def test_seed_helpers_on_small_known_arrays() -> None:
    images = np.arange(4.0).reshape(1, 2, 2, 1)
    assert add_padding(images, 1).shape == (1, 4, 4, 1) and add_padding(images, 1)[0, 0].sum() == 0
    np.testing.assert_array_equal(dilate(images, 2)[0, :, :, 0], [[0, 0, 1], [0, 0, 0], [2, 0, 3]])
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
