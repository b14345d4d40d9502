"""Winograd F(2x2,3x3) and F(4x4,3x3) against a direct float64 reference on a geometry table."""
from __future__ import annotations

import numpy as np
import pytest

from minigrad.ops import winograd

FLOAT64_RELATIVE_ERROR = 1e-10
# max |winograd - reference| / max |reference| in float32 (reference: float64), the worst of
# forward, input and weight gradient. Measured on this table: F(2x2) 4.1e-7, F(4x4) 3.3e-6
# (PyTorch's own float32 conv2d: 2.9e-7). The bounds are for this table's sizes: the weight
# gradient sums over every tile and its error grows with the batch; on the benchmark shapes
# (docs/decisions.md) it reaches F(2x2) 2.0e-6, F(4x4) 1.2e-5, PyTorch 2.5e-6.
# F(4x4)'s transforms hold 1/24 .. 8: ~10x F(2x2)'s error.
FLOAT32_RELATIVE_ERROR = {2: 1e-6, 4: 1e-5}

GEOMETRIES = [  # N, H, W, C, O, pads ((top, bottom), (left, right))
    (1, 6, 6, 1, 1, ((1, 1), (1, 1))),
    (4, 7, 5, 3, 16, ((1, 1), (1, 1))),       # odd H and W: tiles cropped at the border
    (1, 8, 9, 16, 3, ((0, 0), (0, 0))),
    (4, 5, 8, 16, 16, ((0, 0), (0, 0))),
    (1, 3, 3, 3, 1, ((0, 0), (0, 0))),        # a single output pixel
    (4, 9, 6, 1, 3, ((1, 0), (0, 1))),        # padding different on each side
    (1, 6, 7, 3, 3, ((3, 3), (2, 2))),        # pad > 2: the input gradient crops g
]


def shifted_windows(xp: np.ndarray, out: tuple):
    """(i, j, xp[:, i:i+OH, j:j+OW]) for the 9 kernel offsets."""
    for i in range(3):
        for j in range(3):
            yield i, j, xp[:, i:i + out[0], j:j + out[1]]


def reference(x, w, g, pads):
    """Direct convolution and its gradients in float64, one einsum per kernel offset (i, j).

    y[n,p,q] = sum_ij xp[n,p+i,q+j] @ w[i,j];  dL/dw[i,j] = sum_npq xp[n,p+i,q+j]^T g[n,p,q];
    dL/dxp[n,p+i,q+j] += g[n,p,q] @ w[i,j]^T, cropped to the unpadded input; dL/db = sum g.
    """
    x, w, g = (a.astype(np.float64) for a in (x, w, g))
    xp = np.pad(x, ((0, 0), *pads, (0, 0)))
    out = g.shape[1:3]
    y = np.zeros(g.shape)
    gw = np.zeros(w.shape)
    gxp = np.zeros(xp.shape)
    for i, j, window in shifted_windows(xp, out):
        y += np.einsum("nhwc,co->nhwo", window, w[i, j])
        gw[i, j] = np.einsum("nhwc,nhwo->co", window, g)
        gxp[:, i:i + out[0], j:j + out[1]] += np.einsum("nhwo,co->nhwc", g, w[i, j])
    (top, bottom), (left, right) = pads
    gx = gxp[:, top:xp.shape[1] - bottom, left:xp.shape[2] - right]
    return y, gx, gw, g.sum(axis=(0, 1, 2))


def data(N, H, W, C, O, pads, dtype, seed=0):
    rng = np.random.default_rng(seed)
    out = winograd.output_size((N, H, W, C), pads)
    return (rng.standard_normal((N, H, W, C)).astype(dtype),
            rng.standard_normal((3, 3, C, O)).astype(dtype),
            rng.standard_normal((N, *out, O)).astype(dtype))


def winograd_all(x, w, g, pads, m):
    return (winograd.forward(x, w, pads, m), winograd.input_grad(g, w, pads, m),
            *winograd.weight_grad(x, g, pads, m))


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("N, H, W, C, O, pads", [geometry for geometry in GEOMETRIES
                                                 if min(min(p) for p in geometry[5]) >= 0])
def test_backward_gives_both_gradients_of_the_reference(m, N, H, W, C, O, pads) -> None:
    x, w, g = data(N, H, W, C, O, pads, np.float64)
    expected = reference(x, w, g, pads)[1:]                          # gx, gw, gb
    assert max(relative_errors(winograd.backward(x, g, w, pads, m), expected)) < FLOAT64_RELATIVE_ERROR
    x32, w32, g32 = (a.astype(np.float32) for a in (x, w, g))
    grads = winograd.backward(x32, g32, w32, pads, m)
    assert all(grad.dtype == np.float32 for grad in grads)
    assert max(relative_errors(grads, expected)) < FLOAT32_RELATIVE_ERROR[m]


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_bias_added_in_the_transformed_domain_reaches_every_output(m, dtype) -> None:
    pads = ((1, 0), (0, 1))                                         # tiles cropped at the border
    x, w, g = data(3, 7, 9, 5, 6, pads, dtype)
    b = np.random.default_rng(2).standard_normal(6).astype(dtype)
    y = winograd.forward(x, w, pads, m, bias=b)
    expected = reference(x, w, g, pads)[0] + b
    assert y.dtype == dtype
    assert relative_errors([y], [expected])[0] < (FLOAT64_RELATIVE_ERROR if dtype == np.float64
                                                  else FLOAT32_RELATIVE_ERROR[m])


def test_results_do_not_depend_on_what_fresh_memory_holds(monkeypatch) -> None:
    """The functions zero only what their copies leave unwritten: with every np.empty full of
    NaN they must give the same numbers."""
    pads = ((1, 1), (1, 1))
    x, w, g = data(3, 7, 6, 3, 4, pads, np.float64)
    expected = [*winograd_all(x, w, g, pads, 4), *winograd.backward(x, g, w, pads, 4)]
    real_empty = np.empty
    monkeypatch.setattr(np, "empty", lambda *args, **kwargs: real_empty(*args, **kwargs) * np.nan
                        if np.issubdtype(np.dtype(kwargs.get("dtype", np.float64)), np.floating)
                        else real_empty(*args, **kwargs))
    assert np.isnan(np.empty(3, dtype=np.float32)).all()
    for result, first in zip([*winograd_all(x, w, g, pads, 4), *winograd.backward(x, g, w, pads, 4)], expected):
        np.testing.assert_array_equal(result, first)


def test_backward_reuses_the_forward_tiles_with_the_same_result(monkeypatch) -> None:
    pads = ((1, 1), (0, 1))
    x, w, g = data(5, 9, 8, 3, 4, pads, np.float64)
    monkeypatch.setattr(winograd, "BLOCK_BYTES", 1)            # several blocks
    y, tiles = winograd.forward(x, w, pads, keep_tiles=True)
    assert len(tiles) == 5                                     # one block per image
    np.testing.assert_array_equal(y, winograd.forward(x, w, pads))
    for reused, recomputed in zip(winograd.backward(x, g, w, pads, tiles=tiles), winograd.backward(x, g, w, pads)):
        np.testing.assert_array_equal(reused, recomputed)


def relative_errors(results, references) -> list[float]:
    return [float(np.abs(r - ref).max() / np.abs(ref).max()) for r, ref in zip(results, references)]


def test_reference_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    pads = ((1, 0), (2, 1))
    x, w, g = data(2, 5, 6, 3, 4, pads, np.float64)
    xt = torch.tensor(x).permute(0, 3, 1, 2).requires_grad_()            # NHWC -> NCHW
    wt = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1))).requires_grad_()  # (O,C,3,3)
    (top, bottom), (left, right) = pads
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (left, right, top, bottom)), wt)
    y.backward(torch.tensor(g).permute(0, 3, 1, 2))
    expected = (y.detach().permute(0, 2, 3, 1).numpy(), xt.grad.permute(0, 2, 3, 1).numpy(),
                wt.grad.permute(2, 3, 1, 0).numpy())
    for ours, theirs in zip(reference(x, w, g, pads), expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("N, H, W, C, O, pads", GEOMETRIES)
def test_matches_the_direct_reference_in_float64(m, N, H, W, C, O, pads) -> None:
    x, w, g = data(N, H, W, C, O, pads, np.float64)
    results = winograd_all(x, w, g, pads, m)
    for result, expected in zip(results, reference(x, w, g, pads)):
        assert result.shape == expected.shape and result.dtype == np.float64
    assert max(relative_errors(results, reference(x, w, g, pads))) < FLOAT64_RELATIVE_ERROR


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("N, H, W, C, O, pads", GEOMETRIES)
def test_float32_error_within_the_stated_bound(m, N, H, W, C, O, pads) -> None:
    x, w, g = data(N, H, W, C, O, pads, np.float32)
    results = winograd_all(x, w, g, pads, m)
    assert all(r.dtype == np.float32 for r in results)
    assert max(relative_errors(results, reference(x, w, g, pads))) < FLOAT32_RELATIVE_ERROR[m]


def test_blocks_and_thread_counts_do_not_change_the_result(monkeypatch) -> None:
    pads = ((1, 1), (1, 1))
    x, w, g = data(5, 10, 9, 3, 4, pads, np.float64)
    expected = reference(x, w, g, pads)
    monkeypatch.setattr(winograd, "BLOCK_BYTES", 1)            # one image per block
    runs = []
    for threads in ("1", "2"):
        monkeypatch.setenv("MINIGRAD_NUM_THREADS", threads)
        runs.append(winograd_all(x, w, g, pads, 4))
    monkeypatch.setattr(winograd, "blas_controller", lambda: None)   # without threadpoolctl
    runs.append(winograd_all(x, w, g, pads, 4))
    for run in runs:
        assert max(relative_errors(run, expected)) < FLOAT64_RELATIVE_ERROR
        for result, first in zip(run, runs[0]):
            np.testing.assert_array_equal(result, first)


def test_a_broadcast_gradient_gives_the_same_gradients_as_a_contiguous_one() -> None:
    pads = ((1, 1), (1, 1))
    x, w, _ = data(2, 6, 6, 3, 4, pads, np.float64)
    ones = np.broadcast_to(np.float64(1), (2, 6, 6, 4))       # what sum()'s VJP hands on
    for broadcast, contiguous in [((winograd.input_grad(ones, w, pads),), (winograd.input_grad(np.ones(ones.shape), w, pads),)),
                                  (winograd.weight_grad(x, ones, pads), winograd.weight_grad(x, np.ones(ones.shape), pads)),
                                  (winograd.backward(x, ones, w, pads), winograd.backward(x, np.ones(ones.shape), w, pads))]:
        for ours, expected in zip(broadcast, contiguous):
            np.testing.assert_array_equal(ours, expected)


def test_the_transforms_compute_one_tile_exactly() -> None:
    """Y = A^T [(G g G^T) * (B^T d B)] A is the 3x3 correlation of one tile (Lavin & Gray Eq. 8)."""
    rng = np.random.default_rng(1)
    for m, (BT, G, AT) in winograd.TRANSFORMS.items():
        d, k = rng.standard_normal((m + 2, m + 2)), rng.standard_normal((3, 3))
        direct = np.array([[np.sum(d[p:p + 3, q:q + 3] * k) for q in range(m)] for p in range(m)])
        np.testing.assert_allclose(AT @ ((G @ k @ G.T) * (BT @ d @ BT.T)) @ AT.T, direct, atol=1e-12)


def test_a_kernel_other_than_3x3_is_refused_with_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"winograd.forward: .*\(2, 6, 6, 3\).*\(5, 5, 3, 4\)"):
        winograd.forward(np.zeros((2, 6, 6, 3)), np.zeros((5, 5, 3, 4)))
