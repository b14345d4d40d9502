"""The fast paths of pooling (NHWC): loops over the K*K window offsets, never over pixels.

Each function computes what a reference in ``minigrad.ops.pool`` computes with plain loops over
output pixels; ``tests/ops/test_pool.py`` checks them against those references on a table of
geometries. The passes are memory-bound NumPy loops that release the GIL, so the big ones run
on batch slices in ``parallel.over_batch``.

Vocabulary: ``xp`` is the input padded so that every window fits (padding holds the lowest
value of the dtype for max, zeros for the average), ``out`` = (OH, OW), a *tap* is one kernel
offset (i, j), numbered t = i*KW + j in row-major window order.
"""
from __future__ import annotations

import numpy as np

from minigrad.ops import parallel
from minigrad.ops.geometry import offset_slab

# A window of at most this many taps numbers its winning tap in a uint8: one byte per output
# instead of four, a quarter of the memory traffic of the running max and of the routing.
TAPS_IN_UINT8 = 256


def tap_index_dtype(taps: int) -> type:
    return np.uint8 if taps <= TAPS_IN_UINT8 else np.int32


def _taps(K: tuple) -> list[tuple[int, int, int]]:
    """Kernel offsets (t, i, j) in row-major window order."""
    return [(i * K[1] + j, i, j) for i in range(K[0]) for j in range(K[1])]


def running_max(xp: np.ndarray, K: tuple, S: tuple, D: tuple, out: tuple,
                first_tap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """xp (N,HP,WP,C) -> y (N,OH,OW,C), winner (N,OH,OW,C): the maximum of each window and
    the tap it came from, by PyTorch's rule: a strictly greater value or a NaN replaces.

    ``first_tap`` (OH,OW) is each window's first tap inside the input: the winner when every
    value is the lowest (all -inf), as PyTorch starts its scan there; padding never wins.
    """
    N, C = xp.shape[0], xp.shape[3]
    y = np.empty((N, *out, C), dtype=xp.dtype)
    winner = np.empty(y.shape, dtype=tap_index_dtype(K[0] * K[1]))
    taps = _taps(K)

    def scan(batch: slice) -> None:
        source, best, won = xp[batch], y[batch], winner[batch]
        best[...] = source[offset_slab(0, 0, S, D, out)]
        won[...] = first_tap[None, :, :, None]
        for t, i, j in taps[1:]:
            tap = source[offset_slab(i, j, S, D, out)]
            # taps come in increasing t, so max(won, t * [tap > best]) records a strictly
            # greater value; arithmetic instead of a masked copy (branch-free, ~50x faster)
            np.maximum(won, (tap > best) * won.dtype.type(t), out=won)
            np.maximum(best, tap, out=best)     # NaN propagates: a window with a NaN gives NaN
    parallel.over_batch(scan, N, xp.size)

    if y.dtype.kind == "f":
        nan_windows = np.isnan(y)
        if nan_windows.any():                   # rare: only then the NaN rule's second scan
            last_nan = np.zeros_like(winner)    # every NaN replaces, so the last NaN wins
            for t, i, j in taps:
                np.maximum(last_nan, np.isnan(xp[offset_slab(i, j, S, D, out)]) * winner.dtype.type(t),
                           out=last_nan)
            np.copyto(winner, last_nan, where=nan_windows)
    return y, winner


def route_to_winners(g: np.ndarray, winner: np.ndarray, padded_shape: tuple, K: tuple,
                     S: tuple, D: tuple, out: tuple) -> np.ndarray:
    """g (N,OH,OW,C) -> gxp (padded_shape): each window sends its g to its winning tap."""
    reach = (D[0] * (K[0] - 1) + 1, D[1] * (K[1] - 1) + 1)
    disjoint = S[0] >= reach[0] and S[1] >= reach[1]
    # windows that tile the padded input exactly write every position once: no zero fill
    tiling = disjoint and S == reach and D == (1, 1) and \
        (out[0] * S[0], out[1] * S[1]) == tuple(padded_shape[1:3])
    gxp = (np.empty if tiling else np.zeros)(padded_shape, dtype=g.dtype)
    taps = _taps(K)

    def route(batch: slice) -> None:
        target, grad, won = gxp[batch], g[batch], winner[batch]
        for t, i, j in taps:
            slab = target[offset_slab(i, j, S, D, out)]
            if disjoint:                        # each position belongs to one window: write
                np.multiply(grad, won == t, out=slab)
            else:
                slab += grad * (won == t)
    parallel.over_batch(route, g.shape[0], gxp.size)
    return gxp


def winner_indices(winner: np.ndarray, K: tuple, S: tuple, D: tuple, top_left: tuple,
                   width: int) -> np.ndarray:
    """Winning taps (N,OH,OW,C) -> PyTorch's per-plane flat input index h*W + w (int64)."""
    i, j = np.divmod(winner.astype(np.int64), K[1])
    OH, OW = winner.shape[1:3]
    h = (np.arange(OH) * S[0] - top_left[0])[None, :, None, None] + i * D[0]
    w = (np.arange(OW) * S[1] - top_left[1])[None, None, :, None] + j * D[1]
    return h * width + w


def window_sums(xp: np.ndarray, K: tuple, S: tuple, out: tuple) -> np.ndarray:
    """xp (N,HP,WP,C) -> (N,OH,OW,C): the sum over each KxK window."""
    y = np.zeros((xp.shape[0], *out, xp.shape[3]), dtype=xp.dtype)
    for _, i, j in _taps(K):
        y += xp[offset_slab(i, j, S, (1, 1), out)]
    return y


def spread_over_windows(share: np.ndarray, padded_shape: tuple, K: tuple, S: tuple,
                        out: tuple) -> np.ndarray:
    """share (N,OH,OW,C) -> (padded_shape): every position of a window receives its share."""
    gxp = np.zeros(padded_shape, dtype=share.dtype)
    for _, i, j in _taps(K):
        gxp[offset_slab(i, j, S, (1, 1), out)] += share
    return gxp


def _clamped_offsets(starts: np.ndarray, counts: np.ndarray):
    """For adaptive windows along one axis: for each offset k < max(counts), the positions
    starts + min(k, counts - 1) (shorter windows repeat their last position) and which
    windows really have an offset k."""
    for k in range(int(counts.max())):
        yield starts + np.minimum(k, counts - 1), k < counts


def adaptive_max(x: np.ndarray, rows: tuple, cols: tuple) -> tuple[np.ndarray, np.ndarray]:
    """x (N,H,W,C) -> y, index (N,OH,OW,C): the maximum of each adaptive window (``rows`` and
    ``cols`` are (starts, counts) per output row/column) and its flat index h*W + w.

    A running maximum over window offsets, PyTorch's rule (a strictly greater value or a NaN
    replaces). A shorter window repeats its last position: a repeat is never strictly greater,
    and a repeated NaN comes right after its first visit, so neither changes the winner.
    """
    W = x.shape[2]
    y = index = None
    for h, _ in _clamped_offsets(*rows):
        for w, _ in _clamped_offsets(*cols):
            tap = x[:, h[:, None], w[None, :], :]                  # (N, OH, OW, C)
            at = (h[:, None] * W + w[None, :])[None, :, :, None]
            if y is None:
                y, index = tap, np.broadcast_to(at, tap.shape).copy()
                continue
            wins = (tap > y) | np.isnan(tap)
            np.copyto(y, tap, where=wins)
            np.copyto(index, at, where=wins)
    return y, index


def adaptive_sums(x: np.ndarray, rows: tuple, cols: tuple) -> np.ndarray:
    """x (N,H,W,C) -> (N,OH,OW,C): the sum over each adaptive window, rows then columns
    (a window's sum is separable; ``np.where`` keeps a NaN inside the windows that hold it)."""
    row_sums = np.zeros((x.shape[0], len(rows[0]), x.shape[2], x.shape[3]), dtype=x.dtype)
    for h, real in _clamped_offsets(*rows):
        row_sums += np.where(real[None, :, None, None], x[:, h], 0)
    sums = np.zeros((x.shape[0], len(rows[0]), len(cols[0]), x.shape[3]), dtype=x.dtype)
    for w, real in _clamped_offsets(*cols):
        sums += np.where(real[None, None, :, None], row_sums[:, :, w], 0)
    return sums


def global_sums(x: np.ndarray) -> np.ndarray:
    """x (N,H,W,C) -> (N,1,1,C): the sum over each image, separable and as BLAS products per
    image: ones (H,) @ x (N, H, W*C) sums the rows, then ones (W,) @ (N, W, C) the columns.
    Two short sums instead of one of H*W values keep float32's rounding error near
    PyTorch's on large images (512x512: 6.8e-6 of the sum in one product, 4e-7 in two)."""
    N, H, W, C = x.shape
    rows = np.ones(H, dtype=x.dtype) @ x.reshape(N, H, W * C)             # (N, W*C)
    return (np.ones(W, dtype=x.dtype) @ rows.reshape(N, W, C)).reshape(N, 1, 1, C)


def global_spread(share: np.ndarray, size: tuple) -> np.ndarray:
    """share (N,1,1,C) -> (N,H,W,C): every position receives its image's share; a read-only
    broadcast view (the engine copies or adds gradients, never writes into them)."""
    return np.broadcast_to(share, (share.shape[0], *size, share.shape[3]))


def adaptive_spread(share: np.ndarray, rows: tuple, cols: tuple, size: tuple) -> np.ndarray:
    """share (N,OH,OW,C) -> (N,H,W,C): every position of a window receives the window's share;
    the transpose of ``adaptive_sums`` (np.add.at: windows may share positions)."""
    N, OH, _, C = share.shape
    by_rows = np.zeros((N, OH, size[1], C), dtype=share.dtype)
    for w, real in _clamped_offsets(*cols):
        np.add.at(by_rows, (slice(None), slice(None), w[real]), share[:, :, real])
    gx = np.zeros((N, *size, C), dtype=share.dtype)
    for h, real in _clamped_offsets(*rows):
        np.add.at(gx, (slice(None), h[real]), by_rows[:, real])
    return gx


def scatter_add_planes(values: np.ndarray, index: np.ndarray, plane: int) -> np.ndarray:
    """values, index (N,...,C) -> (N,plane,C): out[n, index[n,...,c], c] summed over the
    positions that share an index (np.bincount in float64, cast back to the dtype)."""
    N, C = values.shape[0], values.shape[-1]
    n = np.arange(N).reshape((N,) + (1,) * (values.ndim - 1))
    flat = (n * plane + index) * C + np.arange(C)
    sums = np.bincount(flat.ravel(), weights=values.ravel(), minlength=N * plane * C)
    return sums.astype(values.dtype, copy=False).reshape(N, plane, C)
