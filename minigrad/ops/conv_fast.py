"""The fast conv2d: the same numbers as ``conv.conv2d_reference`` / ``conv2d_vjp_reference``,
each quantity computed with strided views and BLAS products instead of loops over pixels.

- ``forward``          Eq. 4: im2col of the padded input, then one product with [w; b].
- ``weight_grad``      Eq. 8-10: the same im2col rows times the output gradient.
- ``input_grad``       Eq. 11-12: each kernel tap's product added where the tap reaches,
                       without building the zero-inserted, padded gradient (``docs/conv.md``).
- ``choose_algorithm`` the dispatcher: this module's im2col, or ``winograd``'s F(m x m, 3 x 3)
                       for the 3x3 stride-1 convolutions where it measured faster.

Every function takes NumPy arrays and normalised geometry (``S``, ``D`` pairs, ``pads`` =
((top, bottom), (left, right)), ``out`` = (OH, OW)) as ``conv.conv_geometry`` returns it.
The im2col matrix comes from the workspace: ``forward`` takes it, the caller gives it back
(``conv.Conv2d.release``).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.ops import parallel, workspace
from minigrad.ops.geometry import crop, offset_slab, pad_images

COLS_SITE = "conv2d.cols"       # the workspace key of the im2col matrix

# Input gradient, one product per tap versus one product for all taps (``input_grad_block``).
# Below this many input channels the per-tap adds work on rows of C values, too short for
# NumPy's add loops, and the one-product, tap-major scatter wins. Measured (one process,
# alternating, native kernel), scatter (whole batch) vs per tap: 3x3 p1 N=64 32x32x3 -> 16
# 1.88 vs 2.51 ms, N=32 32x32x4 -> 32 1.62 vs 2.15, 32x32x8 -> 32 2.50 vs 3.06, 32x32x16 -> 32
# 4.18 vs 4.40; at 16 channels the stride-2 and 5x5 benchmark layers need the taps (N=64
# 32x32x16 -> 32 s2 p1 3.26 vs 2.30 ms, N=32 14x14x16 -> 32 5x5 p2 2.95 vs 2.20).
PER_TAP_MIN_CHANNELS = 16

# Weight gradient: the product (g2.T @ cols).T instead of cols.T @ g2 when cols has fewer
# than this many times as many columns as g2 (``weight_product``). OpenBLAS measured here: up
# to 1.5x faster for a first layer on 1 or 3 channels (300x300x1 -> 16: 73 -> 53 ms), and
# slower than cols.T @ g2 once cols is wide.
NARROW_COLS_RATIO = 2

# im2col column-major, one (tap, channel) column at a time, up to this many input channels
# (``im2col``). One process, alternating, native kernel, im2col + forward product, row-major
# -> column-major: N=64 28x28x1 -> 16 0.68 -> 0.27 ms, N=32 300x300x1 -> 16 71 -> 48 ms,
# N=64 32x32x3 -> 16 p1 1.46 -> 1.05 ms, N=32 32x32x4 -> 32 p1 1.07 -> 0.89 ms; 8 channels
# 1.50 -> 1.62 ms and 16 channels 2.30 -> 3.36 ms lose (C values in a row already copy fast).
COLUMN_MAJOR_MAX_CHANNELS = 4

# Output gradient per block of images in ``input_grad``: about one core's L2 cache, so that
# each block stays in cache while all K*K taps read it (64x32x32x32 -> 64: 61 ms in blocks,
# 81 ms in one pass over the batch).
BLOCK_BYTES = 1 << 20
# The scatter's patches (``images_per_block``): one block while the whole batch's fit in
# SCATTER_WHOLE_BYTES, else blocks of SCATTER_BLOCK_BYTES. Measured (one process,
# alternating, native kernel), input gradient with patches per block of 2, 4, 8, 16 MB or
# all: N=32 300x300x1 -> 16 (104 MB in all) 37.9, 38.0, 39.9, 44.0, 54.4 ms; N=64 32x32x3
# -> 16 p1 (7 MB) 2.83, 2.26, 1.97, 1.92, 2.08 ms; N=32 32x32x8 -> 32 p1 (9.4 MB) 3.78,
# 3.50, 2.92, 2.37, 2.50 ms: a batch whose patches stay in the shared cache is best whole,
# a larger one in blocks that fit the cores' L2 caches (2 x 2 MB).
SCATTER_WHOLE_BYTES = 16 << 20
SCATTER_BLOCK_BYTES = 4 << 20

# The dispatcher (``choose_algorithm``). Winograd's tile of F(m x m, 3 x 3): F(4x4). Through
# the op, one process, alternating, native kernel, N=64 32x32x32 -> 64 3x3 p1, backward(g):
# im2col 70.9 ms, F(2x2) 88.0 ms (slower than im2col: it makes 2.25x the tiles' passes of
# F(4x4)), F(4x4) 56.7 ms. Its float32 error (max abs error / max |ref|) is up to 1.2e-5 on
# the weight gradient, 5-10x PyTorch's own (5e-7 .. 2.5e-6; F(2x2) 2e-7 .. 2e-6), which issue
# 21 allows when measured and bounded in a test (tests/ops/test_conv_dispatch.py);
# float64 is exact (1e-10) either way. Set 2 to trade the speed for F(2x2)'s accuracy.
WINOGRAD_TILE = 4
# Winograd from this many output pixels, by the smaller of the input and output channel
# counts (the largest key at or below it applies; below the smallest key, never). Measured
# through the op, forward + every gradient, same process, alternating, native kernel, N=64,
# 3x3 p1, Winograd vs im2col ms: 32x32x32->64 31 vs 55; 14x14x32->32 5.9 vs 6.6 (wins);
# 12x12x32->32 2.8 vs 2.5 and 7x7x64->64 5.0 vs 4.1 (lose: few tiles per image);
# 28x28x16->16 7.8 vs 12.4, 32x32x16->16 9.9 vs 17.0, 16x16x16->32 4.4 vs 4.8 (win);
# 14x14x16->16 3.8 vs 3.1 (loses); 28x28x1->16 (one input channel) loses by 2x. Few
# channels make the tile transforms, one memory pass each, cost more than the products they
# save, and small images make few tiles.
WINOGRAD_MIN_OUTPUT_PIXELS = {16: 16 * 16, 32: 14 * 14}


def choose_algorithm(x: np.ndarray, w: np.ndarray, S: tuple, D: tuple, G: int,
                     out: tuple) -> str:
    """'winograd' or 'im2col' for a conv2d of x (N,H,W,C) with w (KH,KW,C/G,O).

    Winograd (``winograd``, F(WINOGRAD_TILE x WINOGRAD_TILE, 3 x 3)) only exists for 3x3
    kernels at stride 1, dilation 1, one group, x and w of one float dtype; it pays only with
    enough channels and a large enough image (``WINOGRAD_MIN_OUTPUT_PIXELS``). im2col (this
    module) everywhere else: it serves every geometry, and the small and few-channel layers
    are faster with its fewer passes.
    """
    winograd_fits = (w.shape[:2] == (3, 3) and S == (1, 1) and D == (1, 1) and G == 1
                     and x.dtype == w.dtype and x.dtype in (np.float32, np.float64))
    channels = min(w.shape[2], w.shape[3])
    least = max((k for k in WINOGRAD_MIN_OUTPUT_PIXELS if channels >= k), default=None)
    big_enough = least is not None and out[0] * out[1] >= WINOGRAD_MIN_OUTPUT_PIXELS[least]
    return "winograd" if winograd_fits and big_enough else "im2col"


def windows(xp: np.ndarray, kernel: tuple, S: tuple, D: tuple, out: tuple) -> np.ndarray:
    """Read-only strided view (N,OH,OW,KH,KW,C): windows[n,p,q,i,j] = xp[n, pS+iD, qS+jD]."""
    sN, sH, sW, sC = xp.strides
    shape = (xp.shape[0], out[0], out[1], kernel[0], kernel[1], xp.shape[3])
    strides = (sN, sH * S[0], sW * S[1], sH * D[0], sW * D[1], sC)
    return as_strided(xp, shape, strides, writeable=False)


def im2col(xp: np.ndarray, kernel: tuple, S: tuple, D: tuple, out: tuple,
           ones_column: bool) -> np.ndarray:
    """xp (N,Hp,Wp,C) -> cols (N*OH*OW, KH*KW*C [+ 1]): one row per window, flattened.

    With ``ones_column`` every row ends in a 1, so a bias is just the last row of the weight
    matrix (the weight of a constant input), and the forward needs no separate ``y += b``.
    With at most ``COLUMN_MAJOR_MAX_CHANNELS`` channels the matrix is column-major, filled
    one (tap, channel) column at a time: a copy of whole image rows instead of C values.
    The matrix is taken from the workspace (``COLS_SITE``); give it back when done.
    """
    win = windows(xp, kernel, S, D, out)
    N, C = xp.shape[0], xp.shape[3]
    width = kernel[0] * kernel[1] * C
    column_major = C <= COLUMN_MAJOR_MAX_CHANNELS
    cols = workspace.take(COLS_SITE, (N * out[0] * out[1], width + ones_column), xp.dtype,
                          order="F" if column_major else "C")
    if column_major:
        # cols[:, :width].T is row-major (KH*KW*C, N*OH*OW): one row per (tap, channel)
        target = cols[:, :width].T.reshape(*kernel, C, N, *out)
        source = win.transpose(3, 4, 5, 0, 1, 2)
        parallel.over_batch(lambda s: np.copyto(target[:, :, :, s], source[:, :, :, s]), N,
                            win.size)
    else:
        parallel.copy(win, out=cols[:, :width].reshape(win.shape))  # a view into cols
    if ones_column:
        cols[:, width] = 1
    return cols


def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, S: tuple, pads: tuple,
            D: tuple, out: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 4: x (N,H,W,C), w (KH,KW,C,O), b (O,) or None -> (y (N,OH,OW,O), cols).

    y = [cols, 1] @ [w.reshape(KH*KW*C, O); b], a single BLAS product; ``cols`` (from the
    workspace) is what ``weight_grad`` needs.
    """
    KH, KW, C, O = w.shape
    cols = im2col(pad_images(x, pads), (KH, KW), S, D, out, ones_column=b is not None)
    weights = w.reshape(-1, O) if b is None else np.concatenate([w.reshape(-1, O), b[None]])
    return (cols @ weights).reshape(x.shape[0], *out, O), cols


def weight_product(cols: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """cols (M, KK), g2 (M, O) -> cols.T @ g2 (KK, O), the product ordered for OpenBLAS
    (``NARROW_COLS_RATIO``; a column-major ``cols`` is fastest as it is)."""
    if cols.flags.c_contiguous and cols.shape[1] < NARROW_COLS_RATIO * g2.shape[1]:
        return (g2.T @ cols).T
    return cols.T @ g2


def weight_grad(cols: np.ndarray, g: np.ndarray, w_shape: tuple,
                has_bias: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Eq. 8-10: cols (from ``forward``), g (N,OH,OW,O) -> (gw (w_shape), gb (O,) or None).

    The rows of ``cols`` are the input windows, S apart: exactly the positions where the
    output gradient zero-inserted by S is not zero, so cols.T @ g is Eq. 9 with the zeros
    skipped. The ones column's row of the product is the sum of g, Eq. 8.
    """
    product = weight_product(cols, g.reshape(-1, g.shape[-1]))      # (KH*KW*C [+ 1], O)
    if has_bias:
        return product[:-1].reshape(w_shape), product[-1]
    return product.reshape(w_shape), None


def scatter_windows(patches: np.ndarray, out: np.ndarray, S: tuple, D: tuple) -> np.ndarray:
    """Adjoint of ``windows``, tap-major: zero ``out`` (C,N,Hp,Wp), then add patches
    (KH,KW,C,N,OH,OW) back at their input positions. Returns ``out``.

    A loop over the KH*KW kernel offsets; each adds a whole (C,N,OH,OW) slab, whose rows are
    image rows. Positions no window reached (the stride remainder) stay zero. Batch slices run
    in parallel.
    """
    KH, KW, C, N, OH, OW = patches.shape

    def scatter(batch: slice) -> None:
        target = out[:, batch]
        target[...] = 0
        for i in range(KH):
            for j in range(KW):
                _, rows, cols, _ = offset_slab(i, j, S, D, (OH, OW))
                target[:, :, rows, cols] += patches[i, j, :, batch]
    parallel.over_batch(scatter, N, patches.size)
    return out


def tap_reach(offset: int, S: int, out: int, length: int):
    """One axis of a kernel tap: which outputs reach the unpadded input, and where.

    Output p of the tap lands on input position p*S + offset (``offset`` = i*D - pad). The
    positions a + S*u form phase a (a = offset mod S, of ``phase_length`` positions); output
    p lands on u = p + offset div S. Returns (a, outputs slice, phase slice, phase_length),
    keeping only outputs that land inside [0, length); None when none do.
    """
    a, shift = offset % S, offset // S
    phase_length = -(-(length - a) // S)
    lo, hi = max(0, -shift), min(out, phase_length - shift)
    if lo >= hi:
        return None
    return a, slice(lo, hi), slice(lo + shift, hi + shift), phase_length


def covers(reach: tuple, out: int) -> bool:
    """Whether a ``tap_reach`` result maps all ``out`` outputs onto its whole phase."""
    return reach[1] == slice(0, out) and reach[2] == slice(0, reach[3])


def input_grad(g: np.ndarray, w: np.ndarray, x_shape: tuple, S: tuple, pads: tuple,
               D: tuple) -> np.ndarray:
    """Eq. 11-12 without the zeros: g (N,OH,OW,O), w (KH,KW,C,O) -> dL/dx (x_shape).

    Runs ``input_grad_block`` on blocks of ``images_per_block`` images. Input positions no
    tap reaches get zero (the stride remainder, or an ``x_shape`` larger than the windows
    cover, as conv_transpose2d's output_padding asks).
    """
    gx = np.empty(x_shape, dtype=g.dtype)
    images = images_per_block(g, w)
    for start in range(0, g.shape[0], images):
        block = slice(start, start + images)
        input_grad_block(g[block], w, gx[block], S, pads, D)
    return gx


def images_per_block(g: np.ndarray, w: np.ndarray) -> int:
    """Images per block of ``input_grad``. Per tap: an output gradient of about
    ``BLOCK_BYTES``. By scatter: the whole batch when its patches (KH*KW*C values per output
    pixel) fit ``SCATTER_WHOLE_BYTES``, else patches of about ``SCATTER_BLOCK_BYTES``."""
    N = max(1, g.shape[0])
    if w.shape[2] >= PER_TAP_MIN_CHANNELS:
        return min(N, max(1, BLOCK_BYTES // max(1, g.nbytes // N)))
    patches_per_image = g.nbytes // N // g.shape[3] * (w.size // w.shape[3])
    if N * patches_per_image <= SCATTER_WHOLE_BYTES:
        return N
    return min(N, max(1, SCATTER_BLOCK_BYTES // max(1, patches_per_image)))


def input_grad_block(g: np.ndarray, w: np.ndarray, gx: np.ndarray, S: tuple, pads: tuple,
                     D: tuple) -> None:
    """Write dL/dx for images g (N,OH,OW,O), w (KH,KW,C,O) into gx (N,H,W,C): one product
    per tap (``input_grad_by_taps``) with many input channels, one for all taps
    (``input_grad_by_scatter``) with fewer than ``PER_TAP_MIN_CHANNELS``."""
    if w.shape[2] < PER_TAP_MIN_CHANNELS:
        input_grad_by_scatter(g, w, gx, S, pads, D)
    else:
        input_grad_by_taps(g, w, gx, S, pads, D)


def input_grad_by_scatter(g: np.ndarray, w: np.ndarray, gx: np.ndarray, S: tuple,
                          pads: tuple, D: tuple) -> None:
    """Every tap's product in one BLAS call, patches (KH,KW,C,N,OH,OW) = w @ g.T, added into
    the padded input (C,N,Hp,Wp) by ``scatter_windows``; then cropped and made NHWC."""
    N, OH, OW, O = g.shape
    KH, KW, C, _ = w.shape
    patches = (w.reshape(-1, O) @ g.reshape(-1, O).T).reshape(KH, KW, C, N, OH, OW)
    padded = np.empty((C, N, gx.shape[1] + sum(pads[0]), gx.shape[2] + sum(pads[1])), g.dtype)
    gx[...] = crop(scatter_windows(patches, padded, S, D).transpose(1, 2, 3, 0), pads)


def reaching_taps(w_shape: tuple, out: tuple, x_hw: tuple, S: tuple, pads: tuple,
                  D: tuple) -> list:
    """The taps (i, j) that reach the unpadded input, as (covers_phase, i, j, rows, cols) with
    ``tap_reach`` results per axis; taps that cover their whole phase first."""
    taps = []
    for i in range(w_shape[0]):
        rows = tap_reach(i * D[0] - pads[0][0], S[0], out[0], x_hw[0])
        for j in range(w_shape[1]):
            cols = tap_reach(j * D[1] - pads[1][0], S[1], out[1], x_hw[1])
            if rows and cols:
                taps.append((covers(rows, out[0]) and covers(cols, out[1]), i, j, rows, cols))
    return sorted(taps, key=lambda tap: not tap[0])


def input_grad_by_taps(g: np.ndarray, w: np.ndarray, gx: np.ndarray, S: tuple, pads: tuple,
                       D: tuple) -> None:
    """Tap (i, j) sends g[n,p,q] @ w[i,j].T to padded position (pS+iD, qS+jD): one small
    product per tap, added into the block of the input it reaches, the padding cropped on
    the way (``tap_reach``).

    With a stride those positions are strided, so the input is first split into S*S phases
    (positions a + S*u, b + S*v): a tap reaches a contiguous block of one phase, and the
    phases are interleaved at the end. A tap that covers its whole phase (the centre tap of
    a 'same' convolution) writes it first, so that phase needs no zeros.
    """
    N, OH, OW, O = g.shape
    C = w.shape[2]
    g2 = g.reshape(-1, O)
    strided = S != (1, 1)
    phases, product = {}, None
    for covers_phase, i, j, (a, outs_p, u, rows_a), (b, outs_q, v, cols_b) in reaching_taps(
            w.shape, (OH, OW), gx.shape[1:3], S, pads, D):
        if (a, b) not in phases:
            # without a stride the one phase is gx itself
            phase = np.empty((N, rows_a, cols_b, C), g.dtype) if strided else gx
            phases[a, b] = phase
            if covers_phase:
                np.matmul(g2, w[i, j].T, out=phase.reshape(-1, C))
                continue
            phase[...] = 0
        if product is None:
            product = np.empty((g2.shape[0], C), g.dtype)
        np.matmul(g2, w[i, j].T, out=product)
        phases[a, b][:, u, v] += product.reshape(N, OH, OW, C)[:, outs_p, outs_q]
    if not strided:
        if not phases:
            gx[...] = 0                               # no tap reaches the input
        return
    for a in range(S[0]):
        for b in range(S[1]):
            gx[:, a::S[0], b::S[1]] = phases.get((a, b), 0)    # 0: a phase no tap reaches


def block_diagonal(w: np.ndarray, G: int) -> np.ndarray:
    """A grouped kernel (KH,KW,C/G,O) as the dense (KH,KW,C,O) kernel it acts as: group k's
    O/G filters see only input channels k*C/G to (k+1)*C/G; zeros elsewhere. ``w`` itself
    when G = 1.

    Every fast function above then serves grouped (and depthwise) convolutions unchanged,
    at G times the multiply-adds of a per-group product: one code path for all groups.
    """
    if G == 1:
        return w
    KH, KW, Cg, O = w.shape
    dense = np.zeros((KH, KW, G, Cg, G, O // G), dtype=w.dtype)
    k = np.arange(G)
    dense[:, :, k, :, k, :] = w.reshape(KH, KW, Cg, G, O // G).transpose(3, 0, 1, 2, 4)
    return dense.reshape(KH, KW, G * Cg, O)


def diagonal_blocks(dense: np.ndarray, G: int) -> np.ndarray:
    """Adjoint of ``block_diagonal``: the gradient of a dense (KH,KW,C,O) kernel restricted
    to the grouped kernel's entries (KH,KW,C/G,O)."""
    if G == 1:
        return dense
    KH, KW, C, O = dense.shape
    k = np.arange(G)
    blocks = dense.reshape(KH, KW, G, C // G, G, O // G)[:, :, k, :, k, :]   # (G,KH,KW,C/G,O/G)
    return blocks.transpose(1, 2, 3, 0, 4).reshape(KH, KW, C // G, O)
