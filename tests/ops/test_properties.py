"""Hypothesis: random conv2d and pooling geometries against PyTorch, forward and gradients."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.ops import pool
from tests.ops.cases import nchw, nhwc, torch_conv2d

RTOL = 1e-9                     # float64 on both sides


@st.composite
def conv_geometry(draw):
    K = draw(st.integers(1, 4))
    D = draw(st.integers(1, 3))
    P = draw(st.integers(0, 2))
    reach = D * (K - 1) + 1
    smallest = max(1, reach - 2 * P)                 # the kernel must fit the padded input
    H = draw(st.integers(smallest, smallest + 7))
    W = draw(st.integers(smallest, smallest + 7))
    return dict(N=draw(st.integers(1, 3)), H=H, W=W, C=draw(st.sampled_from([1, 2, 3, 8, 9])), O=draw(st.integers(1, 4)),
                K=K, S=draw(st.integers(1, 3)), P=P, D=D, bias=draw(st.booleans()), seed=draw(st.integers(0, 99)))


@settings(max_examples=60, deadline=None)
@given(conv_geometry())
def test_conv2d_matches_pytorch_on_random_geometries(geo) -> None:
    rng = np.random.default_rng(geo["seed"])
    x = rng.standard_normal((geo["N"], geo["H"], geo["W"], geo["C"]))
    w = rng.standard_normal((geo["K"], geo["K"], geo["C"], geo["O"]))
    b = rng.standard_normal(geo["O"]) if geo["bias"] else None
    kwargs = dict(stride=geo["S"], padding=geo["P"], dilation=geo["D"])
    ours = [mg.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    y = F.conv2d(*ours, **kwargs)
    y_torch = torch_conv2d(*theirs, **kwargs)
    np.testing.assert_allclose(y.numpy(), y_torch.detach().numpy(), rtol=RTOL, atol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    y_torch.backward(torch.tensor(g))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=1e-12)


@st.composite
def pool_geometry(draw):
    K = draw(st.integers(1, 4))
    geo = dict(N=draw(st.integers(1, 3)), H=draw(st.integers(1, 9)), W=draw(st.integers(1, 9)),
               C=draw(st.integers(1, 3)), K=K, S=draw(st.integers(1, 4)), P=draw(st.integers(0, K // 2)),
               D=draw(st.integers(1, 2)), ceil_mode=draw(st.booleans()), seed=draw(st.integers(0, 99)))
    try:            # PyTorch too refuses an output smaller than 1 (minigrad also all-padding windows)
        pool.pool_windows("max_pool2d", (1, geo["H"], geo["W"], 1), K, geo["S"], geo["P"], geo["D"],
                          geo["ceil_mode"])
    except ValueError:
        assume(False)
    return geo


def _compare_with_pytorch(ours_fn, torch_fn, x, rng) -> None:
    xt, tt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, y_torch = ours_fn(xt), nhwc(torch_fn(nchw(tt)))
    np.testing.assert_allclose(y.numpy(), y_torch.detach().numpy(), rtol=RTOL, atol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    y_torch.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), tt.grad.numpy(), rtol=RTOL, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(pool_geometry())
def test_max_and_avg_pool2d_match_pytorch_on_random_geometries(geo) -> None:
    rng = np.random.default_rng(geo["seed"])
    size = geo["N"] * geo["H"] * geo["W"] * geo["C"]
    x = rng.permutation(size).reshape(geo["N"], geo["H"], geo["W"], geo["C"]) / size   # no ties
    window = dict(kernel_size=geo["K"], stride=geo["S"], padding=geo["P"], ceil_mode=geo["ceil_mode"])
    _compare_with_pytorch(lambda t: F.max_pool2d(t, dilation=geo["D"], **window),
                          lambda t: torch.nn.functional.max_pool2d(t, dilation=geo["D"], **window), x, rng)
    include_pad = bool(geo["seed"] % 2)
    _compare_with_pytorch(lambda t: F.avg_pool2d(t, count_include_pad=include_pad, **window),
                          lambda t: torch.nn.functional.avg_pool2d(t, count_include_pad=include_pad, **window),
                          x, rng)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 6), st.integers(1, 6), st.integers(0, 99))
def test_adaptive_pools_match_pytorch_on_random_sizes(H, W, OH, OW, seed) -> None:
    rng = np.random.default_rng(seed)
    x = rng.permutation(2 * H * W * 2).reshape(2, H, W, 2) / (H * W)                     # no ties
    for name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        _compare_with_pytorch(lambda t: getattr(F, name)(t, (OH, OW)),
                              lambda t: getattr(torch.nn.functional, name)(t, (OH, OW)), x, rng)
