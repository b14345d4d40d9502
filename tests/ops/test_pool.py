"""Pooling: the fast paths against the library's references, PyTorch's edge rules (ties, NaN,
-inf windows, ceil mode, indices), unpooling, layers and errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.functional as F
from minigrad import nn
from minigrad.nn import layers
from minigrad.ops import pool, pool_fast
from tests.ops.cases import nchw, nhwc

KNOWN_ANSWER_ATOL = 1e-8
REFERENCE_RTOL = 1e-12          # float64; the fast path only sums in another order

# (H, W, kernel_size, stride, padding, dilation, ceil_mode): overlapping, disjoint, tiling,
# remainder rows, padding, dilation, ceil mode past the padding, pairs, kernels of > 256 taps
GEOMETRIES = [
    (4, 6, 2, None, 0, 1, False),
    (5, 5, 2, None, 0, 1, True),
    (6, 7, 3, 2, 1, 1, False),
    (6, 7, 3, 2, 1, 1, True),
    (5, 6, 3, 1, 1, 1, False),
    (7, 7, (2, 3), (1, 2), (1, 0), 1, True),
    (7, 8, 3, 2, 1, 2, False),
    (8, 6, 2, 3, 1, (2, 1), True),
    (17, 18, 17, 1, 0, 1, False),
]


def edgy_input(shape: tuple, seed: int = 0) -> np.ndarray:
    """Values on a coarse grid (many ties) with NaN and -inf sprinkled in."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(shape), 1)
    x[rng.random(shape) < 0.08] = np.nan
    x[rng.random(shape) < 0.15] = -np.inf
    return x


@pytest.mark.parametrize("H, W, K, S, P, D, ceil_mode", GEOMETRIES)
def test_max_pool2d_fast_path_matches_the_reference(H, W, K, S, P, D, ceil_mode) -> None:
    x = edgy_input((2, H, W, 3))
    windows = pool.pool_windows("max_pool2d", x.shape, K, S, P, D, ceil_mode)
    y_ref, indices_ref = pool.max_pool2d_reference(x, windows)
    attrs = dict(kernel_size=K, stride=S, padding=P, dilation=D, ceil_mode=ceil_mode)
    y, saved = pool.MaxPool2d.forward(x, **attrs)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(pool.max_pool2d_indices(x, **attrs), indices_ref)
    g = np.random.default_rng(1).standard_normal(y.shape)
    np.testing.assert_allclose(pool.MaxPool2d.vjp(g, saved, (True,))[0],
                               pool.max_pool2d_vjp_reference(g, indices_ref, x.shape), rtol=REFERENCE_RTOL)


@pytest.mark.parametrize("count_include_pad, divisor_override", [(True, None), (False, None), (True, 5)])
@pytest.mark.parametrize("H, W, K, S, P, D, ceil_mode", [g for g in GEOMETRIES if g[5] == 1])
def test_avg_pool2d_fast_path_matches_the_reference(H, W, K, S, P, D, ceil_mode, count_include_pad,
                                                    divisor_override) -> None:
    x = np.random.default_rng(0).standard_normal((2, H, W, 3))
    windows = pool.pool_windows("avg_pool2d", x.shape, K, S, P, 1, ceil_mode)
    options = dict(count_include_pad=count_include_pad, divisor_override=divisor_override)
    y, saved = pool.AvgPool2d.forward(x, kernel_size=K, stride=S, padding=P, ceil_mode=ceil_mode, **options)
    np.testing.assert_allclose(y, pool.avg_pool2d_reference(x, windows, **options), rtol=REFERENCE_RTOL)
    g = np.random.default_rng(1).standard_normal(y.shape)
    np.testing.assert_allclose(pool.AvgPool2d.vjp(g, saved, (True,))[0],
                               pool.avg_pool2d_vjp_reference(g, windows, x.shape, **options),
                               rtol=REFERENCE_RTOL)


# (H, W, output_size): dividing, overlapping windows, more outputs than inputs, None, global
ADAPTIVE = [(4, 6, 2), (5, 7, 3), (3, 2, (5, 4)), (6, 5, (None, 2)), (7, 7, 1)]


@pytest.mark.parametrize("H, W, output_size", ADAPTIVE)
def test_adaptive_pools_fast_paths_match_the_references(H, W, output_size) -> None:
    x = edgy_input((2, H, W, 3))
    windows = pool.adaptive_windows("adaptive_max_pool2d", x.shape, output_size)
    y_ref, indices_ref = pool.max_pool2d_reference(x, windows)
    y, saved = pool.AdaptiveMaxPool2d.forward(x, output_size=output_size)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(pool.adaptive_max_pool2d_indices(x, output_size=output_size), indices_ref)
    g = np.random.default_rng(1).standard_normal(y.shape)
    np.testing.assert_allclose(pool.AdaptiveMaxPool2d.vjp(g, saved, (True,))[0],
                               pool.max_pool2d_vjp_reference(g, indices_ref, x.shape), rtol=REFERENCE_RTOL)

    x = np.random.default_rng(2).standard_normal((2, H, W, 3))
    y, saved = pool.AdaptiveAvgPool2d.forward(x, output_size=output_size)
    np.testing.assert_allclose(y, pool.avg_pool2d_reference(x, windows), rtol=REFERENCE_RTOL)
    np.testing.assert_allclose(pool.AdaptiveAvgPool2d.vjp(g, saved, (True,))[0],
                               pool.avg_pool2d_vjp_reference(g, windows, x.shape), rtol=REFERENCE_RTOL)


def test_global_average_pool_gradient_is_a_read_only_view_that_leaves_get_a_copy_of() -> None:
    """The 1x1 average's VJP is a broadcast view of g / (H*W): .grad (of a leaf, a retained
    gradient) is a writable copy, and later gradients add into that copy, never into the view."""
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 5)), requires_grad=True)
    y, saved = pool.AdaptiveAvgPool2d.forward(x.data, output_size=1)
    assert not pool.AdaptiveAvgPool2d.vjp(np.ones(y.shape), saved, (True,))[0].flags.writeable
    hidden = x * 1
    hidden.retain_grad()
    F.adaptive_avg_pool2d(hidden, 1).sum().backward()
    F.adaptive_avg_pool2d(x, 1).sum().backward()                       # accumulates into x.grad
    (F.adaptive_avg_pool2d(x, 1).sum() + F.adaptive_avg_pool2d(x, 1).sum()).backward()  # two meet
    for grad, times in ((hidden.grad, 1), (x.grad, 4)):
        assert grad.data.flags.writeable
        np.testing.assert_allclose(grad.numpy(), np.full(x.shape, times / 12), rtol=REFERENCE_RTOL)
    x.grad.data += 1                                                  # the user's copy to change


def test_adaptive_windows_follow_pytorchs_start_and_end_rule() -> None:
    starts, counts = pool.adaptive_windows("adaptive_avg_pool2d", (1, 5, 5, 1), 3).bounds(0)
    np.testing.assert_array_equal(starts, [0, 1, 3])                 # floor(i * 5 / 3)
    np.testing.assert_array_equal(starts + counts, [2, 4, 5])        # ceil((i + 1) * 5 / 3)


def test_windows_with_more_than_256_taps_number_their_winner_in_int32() -> None:
    assert pool_fast.tap_index_dtype(pool_fast.TAPS_IN_UINT8) == np.uint8
    assert pool_fast.tap_index_dtype(pool_fast.TAPS_IN_UINT8 + 1) == np.int32
    _, (winner, _, _) = pool.MaxPool2d.forward(np.zeros((1, 17, 17, 1)), kernel_size=17)
    assert winner.dtype == np.int32


# ---- PyTorch's edge rules, each against torch --------------------------------------------

def torch_max_pool(x: np.ndarray, g: np.ndarray, **kwargs):
    xt = nchw(torch.tensor(x)).detach().requires_grad_()
    y, indices = torch.nn.functional.max_pool2d(xt, return_indices=True, **kwargs)
    y.backward(nchw(torch.tensor(g)))
    return nhwc(y).detach().numpy(), nhwc(indices).numpy(), nhwc(xt.grad).numpy()


NAN, INF = np.nan, np.inf
EDGE_INPUTS = {                 # name: (image (H, W), max_pool2d arguments)
    "tie_goes_to_the_first_maximum": ([[1, 3, 3], [3, 0, 3], [1, 3, 2]], dict(kernel_size=2, stride=1)),
    "nan_wins_and_the_last_nan_takes_the_gradient": ([[1, NAN], [NAN, 2]], dict(kernel_size=2)),
    "nan_beats_inf": ([[INF, 0, NAN], [1, NAN, 5], [2, 3, 4]], dict(kernel_size=2, stride=1)),
    "all_minus_inf_with_padding_picks_the_first_input_position":
        ([[-INF] * 3] * 3, dict(kernel_size=2, stride=2, padding=1)),
    "minus_inf_window_beside_a_finite_one": ([[-INF, -INF, 1], [-INF, -INF, -INF]],
                                             dict(kernel_size=(2, 2), stride=1, padding=(0, 1))),
    "ceil_mode_window_past_the_padding": ([[-INF, 2, 7], [1, -INF, 1], [5, 5, -INF]],
                                          dict(kernel_size=2, stride=2, ceil_mode=True)),
    "dilated_ties": ([[2, 0, 2, 2], [0, 2, 1, 2], [2, 2, 2, 0]], dict(kernel_size=2, stride=1, dilation=(1, 2))),
}


@pytest.mark.parametrize("name", EDGE_INPUTS)
def test_max_pool2d_edge_inputs_match_pytorch_value_index_and_gradient(name) -> None:
    image, kwargs = EDGE_INPUTS[name]
    x = np.stack([np.array(image, dtype=float)] * 2, axis=-1)[None]     # (1, H, W, 2)
    xt = mg.tensor(x, requires_grad=True)
    y, indices = F.max_pool2d(xt, **kwargs, return_indices=True)
    g = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(g)
    y_torch, indices_torch, grad_torch = torch_max_pool(x, g, **kwargs)
    np.testing.assert_array_equal(y.numpy(), y_torch)
    np.testing.assert_array_equal(indices.numpy(), indices_torch)
    np.testing.assert_array_equal(xt.grad.numpy(), grad_torch)


def test_max_pool_nan_window_sends_the_gradient_to_the_nan() -> None:
    x = mg.tensor(np.array([[5.0, NAN], [1.0, 2.0]]).reshape(1, 2, 2, 1), requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.sum().backward()
    assert np.isnan(y.item())
    np.testing.assert_array_equal(x.grad.numpy()[0, :, :, 0], [[0, 1], [0, 0]])


def test_max_pool_all_minus_inf_padded_window_sends_the_gradient_inside_the_input() -> None:
    x = mg.tensor(np.full((1, 2, 2, 1), -np.inf), requires_grad=True)
    F.max_pool2d(x, 3, stride=1, padding=1).sum().backward()
    # every one of the four windows starts its scan at input (0, 0), as PyTorch's kernel does
    np.testing.assert_array_equal(x.grad.numpy()[0, :, :, 0], [[4, 0], [0, 0]])


def test_adaptive_max_pool_nan_and_ties_match_pytorch() -> None:
    x = edgy_input((2, 5, 7, 3), seed=3)
    xt = mg.tensor(x, requires_grad=True)
    y, indices = F.adaptive_max_pool2d(xt, (3, 4), return_indices=True)
    g = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(g)
    tt = nchw(torch.tensor(x)).detach().requires_grad_()
    y_torch, indices_torch = torch.nn.functional.adaptive_max_pool2d(tt, (3, 4), return_indices=True)
    y_torch.backward(nchw(torch.tensor(g)))
    np.testing.assert_array_equal(y.numpy(), nhwc(y_torch).detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), nhwc(indices_torch).numpy())
    np.testing.assert_array_equal(xt.grad.numpy(), nhwc(tt.grad).numpy())


def test_avg_pool_nan_stays_in_the_windows_that_hold_it() -> None:
    x = np.ones((1, 4, 4, 1))
    x[0, 0, 0, 0] = np.nan
    for y in (F.avg_pool2d(mg.tensor(x), 2), F.adaptive_avg_pool2d(mg.tensor(x), 2)):
        np.testing.assert_array_equal(np.isnan(y.numpy()[0, :, :, 0]), [[True, False], [False, False]])


# ---- known answers and arguments ------------------------------------------------------

def test_known_answer_max_pool_kernel4_stride2_from_seed_002() -> None:
    image = mg.tensor(np.linspace(-0.1, 0.4, num=64).reshape(1, 8, 8, 1))
    expected = [[0.11428571, 0.13015873, 0.14603175],
                [0.24126984, 0.25714286, 0.27301587],
                [0.36825397, 0.38412698, 0.4]]
    out = F.max_pool2d(image, 4, stride=2)
    assert out.shape == (1, 3, 3, 1)
    np.testing.assert_allclose(out.numpy()[0, :, :, 0], expected, atol=KNOWN_ANSWER_ATOL)


def test_overlapping_windows_accumulate_gradient_at_a_shared_maximum() -> None:
    x = np.zeros((1, 3, 3, 1))
    x[0, 1, 1, 0] = 5                                      # the max of all four 2x2 windows
    xt = mg.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2, stride=1).sum().backward()
    assert xt.grad.numpy()[0, 1, 1, 0] == 4 and xt.grad.numpy().sum() == 4


def test_avg_pool_counts_zero_padding_like_pytorch() -> None:
    out = F.avg_pool2d(mg.ones(1, 2, 2, 1), 2, stride=2, padding=1)
    np.testing.assert_allclose(out.numpy()[0, :, :, 0], [[0.25, 0.25], [0.25, 0.25]])


def test_avg_pool_without_padding_counts_and_with_a_divisor_override() -> None:
    ones = mg.ones(1, 2, 2, 1)
    np.testing.assert_array_equal(F.avg_pool2d(ones, 2, padding=1, count_include_pad=False).numpy(), 1)
    np.testing.assert_array_equal(F.avg_pool2d(ones, 2, divisor_override=8).numpy(), 0.5)


def test_ceil_mode_adds_a_last_window_only_if_it_starts_inside_the_input_or_left_padding() -> None:
    assert F.max_pool2d(mg.zeros(1, 5, 5, 1), 2, ceil_mode=True).shape == (1, 3, 3, 1)
    assert F.max_pool2d(mg.zeros(1, 6, 6, 1), 3, stride=2, padding=1, ceil_mode=True).shape == (1, 4, 4, 1)
    # ceil((5 + 2 - 2) / 2) + 1 = 4, but window 3 would start at 3 * 2 - 1 = 5 = H, in the right padding
    assert F.max_pool2d(mg.zeros(1, 5, 5, 1), 2, stride=2, padding=1, ceil_mode=True).shape == (1, 3, 3, 1)
    assert F.max_pool2d(mg.zeros(1, 5, 5, 1), 6, stride=2, ceil_mode=True).shape == (1, 1, 1, 1)


def test_return_indices_are_int64_per_plane_flat_indices_laid_out_nhwc() -> None:
    x = np.zeros((1, 4, 4, 2))
    x[0, 1, 2, 0] = x[0, 3, 3, 1] = 1
    y, indices = F.max_pool2d(mg.tensor(x), 4, return_indices=True)
    assert indices.dtype == np.int64 and indices.shape == y.shape == (1, 1, 1, 2)
    assert indices.tolist() == [[[[1 * 4 + 2, 3 * 4 + 3]]]]


def test_max_unpool_puts_each_maximum_back_and_matches_pytorch() -> None:
    x = np.random.default_rng(0).standard_normal((2, 6, 7, 3))
    y, indices = F.max_pool2d(mg.tensor(x), 3, stride=2, padding=1, return_indices=True)
    yt = mg.tensor(y.numpy(), requires_grad=True)
    unpooled = F.max_unpool2d(yt, indices, 3, stride=2, padding=1, output_size=(2, 6, 7, 3))
    g = np.random.default_rng(1).standard_normal(unpooled.shape)
    unpooled.backward(g)
    theirs = nchw(torch.tensor(y.numpy())).detach().requires_grad_()
    unpooled_torch = torch.nn.functional.max_unpool2d(theirs, nchw(torch.tensor(indices.numpy())), 3,
                                                      stride=2, padding=1, output_size=(6, 7))
    unpooled_torch.backward(nchw(torch.tensor(g)))
    np.testing.assert_array_equal(unpooled.numpy(), nhwc(unpooled_torch).detach().numpy())
    np.testing.assert_array_equal(yt.grad.numpy(), nhwc(theirs.grad).numpy())


def test_unpool_layers_round_trip_the_maxima() -> None:
    x = mg.tensor(np.random.default_rng(0).permutation(32).reshape(1, 4, 4, 2).astype(float))
    y, indices = layers.MaxPool2d(2, return_indices=True)(x)
    restored = layers.MaxUnpool2d(2)(y, indices)
    assert restored.shape == x.shape
    np.testing.assert_array_equal(F.max_pool2d(restored, 2).numpy(), y.numpy())
    assert np.count_nonzero(restored.numpy()) == y.numpy().size     # the maxima, zeros elsewhere


def test_adaptive_output_size_none_keeps_the_input_size_and_zero_gives_an_empty_output() -> None:
    x = mg.ones(2, 5, 6, 3, requires_grad=True)
    assert nn.AdaptiveAvgPool2d((None, 2))(x).shape == (2, 5, 2, 3)
    empty = layers.AdaptiveMaxPool2d(0)(x)
    assert empty.shape == (2, 0, 0, 3)
    empty.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)


def test_max_pool_keeps_integer_dtypes_and_the_averages_refuse_them() -> None:
    ints = mg.tensor(np.arange(16).reshape(1, 4, 4, 1))
    y = F.max_pool2d(ints, 2, padding=1)
    assert y.dtype == np.int64 and y.numpy()[0, :, :, 0].tolist() == [[0, 2, 3], [8, 10, 11], [12, 14, 15]]
    for call in (lambda: F.avg_pool2d(ints, 2), lambda: F.adaptive_avg_pool2d(ints, 1),
                 lambda: F.adaptive_max_pool2d(ints, 1)):
        with pytest.raises(TypeError, match="not implemented for int64"):
            call()


def test_pools_accept_an_empty_batch_like_pytorch() -> None:
    x = mg.zeros(0, 4, 4, 2)
    assert F.max_pool2d(x, 2).shape == F.avg_pool2d(x, 2).shape == (0, 2, 2, 2)
    assert F.adaptive_max_pool2d(x, 3).shape == (0, 3, 3, 2)


def test_layers_take_pytorchs_arguments_and_print_like_pytorch() -> None:
    assert repr(nn.MaxPool2d(3, 1, 1, 2, True, True)) == \
        "MaxPool2d(kernel_size=3, stride=1, padding=1, dilation=2, ceil_mode=True)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(layers.MaxUnpool2d((2, 3), 1, 1)) == "MaxUnpool2d(kernel_size=(2, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(layers.AdaptiveMaxPool2d((None, 3))) == "AdaptiveMaxPool2d(output_size=(None, 3))"
    pooled = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)(mg.ones(1, 6, 6, 1))
    np.testing.assert_array_equal(pooled.numpy(), 1)


def test_an_nchw_batch_is_caught_by_the_layers_that_know_their_channels() -> None:
    nchw_batch = mg.zeros(2, 3, 8, 8)              # (N, C, H, W): a pool reads it as 3x8 images
    assert nn.MaxPool2d(2)(nchw_batch).shape == (2, 1, 4, 8)      # undetectable: documented
    for model in (nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2)),
                  nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(3, 4, 1))):
        with pytest.raises(ValueError, match=r"Conv2d.*\(N, H, W, C\)"):
            model(nchw_batch)


@pytest.mark.parametrize("make, error, message", [
    (lambda: F.max_pool2d(mg.zeros(1, 4, 4, 1), 2, stride=0), ValueError, r"max_pool2d: kernel_size and stride and dilation must be positive"),
    (lambda: F.max_pool2d(mg.zeros(1, 4, 4, 1), 0), ValueError, r"max_pool2d: kernel_size and stride and dilation must be positive"),
    (lambda: F.max_pool2d(mg.zeros(1, 4, 4, 1), 2, dilation=0), ValueError, r"dilation=0"),
    (lambda: F.max_pool2d(mg.zeros(1, 2, 2, 1), 3), ValueError, r"max_pool2d: kernel 3x3 is larger than the padded input 2x2"),
    (lambda: F.max_pool2d(mg.zeros(1, 4, 4, 1), 2.5), TypeError, r"max_pool2d: kernel_size must be an int or a pair"),
    (lambda: F.max_pool2d(mg.zeros(1, 4, 4, 1), 2, ceil_mode="yes"), TypeError, r"max_pool2d: ceil_mode must be a bool"),
    (lambda: F.max_pool2d(mg.zeros(1, 2, 2, 1), 2, stride=1, padding=1, dilation=3), ValueError,
     r"max_pool2d: the window of output row 0 covers only padding"),
    (lambda: F.avg_pool2d(mg.zeros(1, 4, 4, 1), 2, padding=2), ValueError, r"avg_pool2d: padding must be between 0 and half"),
    (lambda: F.avg_pool2d(mg.zeros(1, 4, 4, 1), 2, divisor_override=0), ValueError, r"avg_pool2d: divisor_override must not be zero"),
    (lambda: F.avg_pool2d(mg.zeros(1, 4, 4, 1), 2, divisor_override=1.5), TypeError, r"avg_pool2d: divisor_override must be an int"),
    (lambda: F.max_pool2d(mg.zeros(4, 4, 1), 2), ValueError, r"max_pool2d: expected input \(N, H, W, C\), got shape \(4, 4, 1\) \(the batch dimension is missing"),
    (lambda: F.max_pool2d(mg.zeros(1, 4, 0, 1), 1), ValueError, r"max_pool2d: expected non-empty H, W and C"),
    (lambda: nn.MaxPool2d(2, padding=3), ValueError, r"MaxPool2d: padding must be between 0 and half"),
    (lambda: nn.AdaptiveAvgPool2d(-1), ValueError, r"AdaptiveAvgPool2d: output_size must be >= 0, got -1"),
    (lambda: nn.AdaptiveAvgPool2d(1.5), TypeError, r"AdaptiveAvgPool2d: output_size must be an int, None or a pair"),
    (lambda: nn.AdaptiveAvgPool2d((1, 2, 3)), TypeError, r"AdaptiveAvgPool2d: output_size must be an int, None or a pair"),
    (lambda: F.adaptive_avg_pool2d(mg.zeros(1, 0, 3, 1), 2), ValueError, r"adaptive_avg_pool2d: expected non-empty H, W and C"),
    (lambda: F.max_unpool2d(mg.zeros(1, 2, 2, 1), mg.tensor(np.zeros((1, 2, 1, 1), dtype=np.int64)), 2), ValueError,
     r"max_unpool2d: indices must have the input's shape \(1, 2, 2, 1\), got \(1, 2, 1, 1\)"),
    (lambda: F.max_unpool2d(mg.zeros(1, 2, 2, 1), mg.tensor(np.zeros((1, 2, 2, 1), dtype=np.int32)), 2), TypeError,
     r"max_unpool2d: indices must be int64, got int32"),
    (lambda: F.max_unpool2d(mg.zeros(1, 2, 2, 1), mg.tensor(np.full((1, 2, 2, 1), 16)), 2), ValueError,
     r"max_unpool2d: found an invalid max index 16 \(the output planes are 4x4\)"),
    (lambda: F.max_unpool2d(mg.zeros(1, 2, 2, 1), mg.tensor(np.zeros((1, 2, 2, 1), dtype=np.int64)), 2, output_size=(6, 4)),
     ValueError, r"max_unpool2d: invalid output_size \(6, 4\): OH must be between 2 and 6 \(exclusive\)"),
    (lambda: F.max_unpool2d(mg.zeros(1, 2, 2, 1), mg.tensor(np.zeros((1, 2, 2, 1), dtype=np.int64)), 2, output_size=(1, 4, 4)),
     ValueError, r"max_unpool2d: output_size must hold 2 \(OH, OW\) or 4"),
])
def test_pool_errors_name_the_function_and_the_value(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_float32_global_average_pool_of_a_large_image_stays_accurate() -> None:
    """The sum runs rows then columns: one product over all 512*512 values rounded 6.8e-6."""
    x = (np.random.default_rng(0).random((2, 512, 512, 8)) + 10).astype(np.float32)
    y = F.adaptive_avg_pool2d(mg.tensor(x), 1).numpy()
    expected = x.astype(np.float64).mean(axis=(1, 2), keepdims=True)
    assert np.abs(y - expected).max() / np.abs(expected).max() < 1e-6
