"""2-D convolution in NHWC: the seed's array helpers and the registered ``conv2d`` op.

The helpers keep the seed's signatures (``seeds/000``, Part 1-2) and are the readable
reference: ``add_padding`` (P zeros on every side), ``convolve`` (Eq. 1, plain loops over
output pixels), ``dilate`` (Eq. 6-7) and ``flip_kernels`` (Eq. 11). ``Conv2d`` computes the
same quantities with strided views and one BLAS product each (see ``docs/conv.md``).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.ops.base import Op, register
from minigrad.ops import parallel, workspace
from minigrad.ops.geometry import (as_pair, check_window_fits, crop, offset_slab, output_size,
                                   pad_images, positive_pairs)


def add_padding(images: np.ndarray, P: int) -> np.ndarray:
    """images (B,h,w,F) -> (B,h+2P,w+2P,F) with P zeros on each side of h and w."""
    return np.pad(images, ((0, 0), (P, P), (P, P), (0, 0)))


def convolve(kernels: np.ndarray, images: np.ndarray, S: int) -> np.ndarray:
    """Eq. (1): z[p,q,o] = sum_{c,i,j} k[i,j,c,o] x[pS+i, qS+j, c]. No padding inside.

    kernels (K,K,F_in,F_out), images (B,h,w,F_in) -> (B,(h-K)//S+1,(w-K)//S+1,F_out).
    The reference implementation: a loop over output pixels, kept simple on purpose.
    """
    KH, KW, _, F_out = kernels.shape
    B, h, w, _ = images.shape
    h_out, w_out = (h - KH) // S + 1, (w - KW) // S + 1
    z = np.zeros((B, h_out, w_out, F_out), dtype=np.result_type(kernels, images))
    for p in range(h_out):
        for q in range(w_out):
            patch = images[:, p * S:p * S + KH, q * S:q * S + KW, :]       # (B,K,K,F_in)
            z[:, p, q, :] = np.tensordot(patch, kernels, axes=3)
    return z


def dilate(images: np.ndarray, D: int) -> np.ndarray:
    """Eq. (6-7): insert D-1 zeros between neighbouring pixels. (B,h,w,F) -> (B,(h-1)D+1,(w-1)D+1,F)."""
    B, h, w, F = images.shape
    dilated = np.zeros((B, (h - 1) * D + 1, (w - 1) * D + 1, F), dtype=images.dtype)
    dilated[:, ::D, ::D, :] = images
    return dilated


def flip_kernels(kernels: np.ndarray) -> np.ndarray:
    """Eq. (11): kappa[i,j,o,c] = k[K-1-i, K-1-j, c, o]. (K,K,F_in,F_out) -> (K,K,F_out,F_in)."""
    return kernels[::-1, ::-1].transpose(0, 1, 3, 2)


def conv_geometry(x_shape: tuple, w_shape: tuple, stride, padding, dilation) -> tuple:
    """Validate a conv2d call; return (S, pads, D, (OH, OW)), pads = ((top, bottom), (left, right)).

    H_out = floor((H + 2P - D (K - 1) - 1) / S) + 1, PyTorch's rule (Eq. 2 when D = 1).
    """
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError(f"conv2d: expected input (N, H, W, C) and weight (KH, KW, C_in, C_out), "
                         f"got input {x_shape} and weight {w_shape}")
    N, H, W, C = x_shape
    KH, KW, C_in, _ = w_shape
    if C != C_in:
        raise ValueError(f"conv2d: input has {C} channels but weight expects {C_in} "
                         f"(input {x_shape}, weight {w_shape})")
    S, D = positive_pairs("conv2d", stride=stride, dilation=dilation)
    reach = (D[0] * (KH - 1) + 1, D[1] * (KW - 1) + 1)               # dilated kernel size
    if padding == "valid":
        pads = ((0, 0), (0, 0))
    elif padding == "same":
        if S != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride={stride}")
        pads = tuple(((r - 1) // 2, r - 1 - (r - 1) // 2) for r in reach)
    else:
        P = as_pair("conv2d", "padding", padding)
        if min(P) < 0:
            raise ValueError(f"conv2d: padding must be non-negative, got {padding}")
        pads = ((P[0], P[0]), (P[1], P[1]))
    padded = (H + sum(pads[0]), W + sum(pads[1]))
    check_window_fits("conv2d", reach, padded, f"input {x_shape}, weight {w_shape}, padding "
                      f"{padding}", note=" (dilation included)")
    out = tuple(output_size(x_shape[1 + a], w_shape[a], S[a], sum(pads[a]), D[a]) for a in range(2))
    return S, pads, D, out


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
    """
    win = windows(xp, kernel, S, D, out)
    width = kernel[0] * kernel[1] * xp.shape[3]
    cols = workspace.reusable_empty("conv2d.cols", (win.shape[0] * out[0] * out[1],
                                                    width + ones_column), xp.dtype)
    parallel.copy(win, out=cols[:, :width].reshape(win.shape))      # a view into cols
    if ones_column:
        cols[:, width] = 1
    return cols


def scatter_windows(patches: np.ndarray, out: np.ndarray, S: tuple, D: tuple) -> np.ndarray:
    """Adjoint of ``windows``: zero ``out`` (N,Hp,Wp,C), then add patches (N,OH,OW,KH,KW,C)
    back at their input positions. Returns ``out``.

    A loop over the KH*KW kernel offsets; each adds a whole (N,OH,OW,C) slab. Positions no
    window reached (the stride remainder) stay zero. Batch slices run in parallel.
    """
    N, OH, OW, KH, KW, C = patches.shape

    def scatter(batch: slice) -> None:
        target, source = out[batch], patches[batch]
        target[...] = 0
        for i in range(KH):
            for j in range(KW):
                target[offset_slab(i, j, S, D, (OH, OW))] += source[:, :, :, i, j, :]
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


BLOCK_BYTES = 1 << 20     # output gradient per block of images: about one core's L2 cache


def input_grad(g: np.ndarray, w: np.ndarray, x_shape: tuple, S: tuple, pads: tuple,
               D: tuple) -> np.ndarray:
    """Eq. 11-12 without the zeros: g (N,OH,OW,O), w (KH,KW,C,O) -> dL/dx (x_shape).

    Runs ``input_grad_block`` on blocks of images whose output gradient is about
    ``BLOCK_BYTES``, so that each block stays in cache while all its taps read it (on a
    64x32x32x32 -> 64 batch, 20% faster than one pass over the whole batch per tap).
    """
    gx = np.empty(x_shape, dtype=g.dtype)
    per_image = g.nbytes // max(1, g.shape[0])
    images = max(1, BLOCK_BYTES // max(1, per_image))
    for start in range(0, g.shape[0], images):
        block = slice(start, start + images)
        input_grad_block(g[block], w, gx[block], S, pads, D)
    return gx


def input_grad_block(g: np.ndarray, w: np.ndarray, gx: np.ndarray, S: tuple, pads: tuple,
                     D: tuple) -> None:
    """Write dL/dx for images g (N,OH,OW,O), w (KH,KW,C,O) into gx (N,H,W,C).

    Tap (i, j) sends g[n,p,q] @ w[i,j].T to padded position (pS+iD, qS+jD). With many input
    channels, one small BLAS product per tap is added into the block of the input it reaches,
    the padding cropped on the way (``tap_reach``). With a stride those positions are
    strided, so the input is first split into S*S phases (positions a + S*u, b + S*v): a tap
    reaches a contiguous block of one phase, and the phases are interleaved at the end. A tap
    that covers its whole phase (the centre tap of a 'same' convolution) writes it first,
    so that phase needs no zeros. With few channels (C < 8) the rows are too short for that
    to pay: every tap's product is made in one BLAS call, ``scatter_windows`` adds them into
    the padded input, and the padding is cropped.
    """
    N, OH, OW, O = g.shape
    KH, KW, C, _ = w.shape
    g2 = g.reshape(-1, O)
    if C < 8:
        patches = (g2 @ w.reshape(-1, O).T).reshape(N, OH, OW, KH, KW, C)
        if pads == ((0, 0), (0, 0)):
            scatter_windows(patches, gx, S, D)
        else:
            padded_shape = (N, gx.shape[1] + sum(pads[0]), gx.shape[2] + sum(pads[1]), C)
            gx[...] = crop(scatter_windows(patches, np.empty(padded_shape, g.dtype), S, D), pads)
        return
    taps = []
    for i in range(KH):
        rows = tap_reach(i * D[0] - pads[0][0], S[0], OH, gx.shape[1])
        for j in range(KW):
            cols = tap_reach(j * D[1] - pads[1][0], S[1], OW, gx.shape[2])
            if rows and cols:
                covers_phase = covers(rows, OH) and covers(cols, OW)
                taps.append((not covers_phase, i, j, rows, cols))
    taps.sort(key=lambda tap: tap[0])                 # taps covering a whole phase first
    strided = S != (1, 1)
    phases, product = {}, None
    for partial, i, j, (a, outs_p, u, rows_a), (b, outs_q, v, cols_b) in taps:
        if (a, b) not in phases:
            # without a stride the one phase is gx itself
            phase = np.empty((N, rows_a, cols_b, C), g.dtype) if strided else gx
            phases[a, b] = phase
            if not partial:
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


def weights_gradient(cols: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """cols (M, KK), g2 (M, O) -> cols.T @ g2 (KK, O), the product ordered for OpenBLAS.

    Measured here: with narrow cols (KK < 2*O, e.g. a first layer on 1 or 3 channels) the
    transposed product (g2.T @ cols).T is up to 1.5x faster; otherwise cols.T @ g2 is.
    """
    if cols.shape[1] < 2 * g2.shape[1]:
        return (g2.T @ cols).T
    return cols.T @ g2


@register("conv2d")
class Conv2d(Op):
    """x (N,H,W,C) * w (KH,KW,C,O) + b (O,) -> y (N,OH,OW,O). Seed Eq. (4), cross-correlation.

    forward: the padded input's windows become the rows of one matrix (im2col), ended by a
    column of ones when there is a bias, and y = cols @ [w.reshape(KH*KW*C, O); b] is a
    single BLAS product.
    """

    @staticmethod
    def forward(x, w, b=None, *, stride=1, padding=0, dilation=1):
        S, pads, D, out = conv_geometry(x.shape, w.shape, stride, padding, dilation)
        KH, KW, C, O = w.shape
        if b is not None and b.shape != (O,):
            raise ValueError(f"conv2d: bias must have shape ({O},), got {b.shape}")
        xp = pad_images(x, pads)
        cols = im2col(xp, (KH, KW), S, D, out, ones_column=b is not None)
        weights = w.reshape(-1, O) if b is None else np.concatenate([w.reshape(-1, O), b[None]])
        y = np.matmul(cols, weights, out=workspace.reusable_empty(
            "conv2d.out", (cols.shape[0], O), np.result_type(cols, weights)))
        return y.reshape(x.shape[0], *out, O), (cols, w, x.shape, S, pads, D, b is not None)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        cols, w, x_shape, S, pads, D, has_bias = saved
        g2 = g.reshape(-1, g.shape[-1])                              # (N*OH*OW, O)
        gx = gw = gb = None
        if needs_input_grad[1] or (has_bias and needs_input_grad[2]):
            # Eq. 9-10: the output gradient dilated by S, correlated with the input; the
            # windows in ``cols`` step by S, which skips exactly the zeros dilation inserts.
            # With a bias, the last row comes from the ones column: Eq. 8, the sum of g.
            weights_grad = weights_gradient(cols, g2)                # (KH*KW*C [+ 1], O)
            if has_bias:
                weights_grad, gb = weights_grad[:-1], weights_grad[-1]
            gw = weights_grad.reshape(w.shape)
        if needs_input_grad[0]:
            # Eq. 11-12: correlating the dilated, (K-1)-padded gradient with the flipped
            # kernel sends g[p,q] * k[i,j] to input position (pS+iD, qS+jD); add every such
            # product at its position, dropping those that fall in the padding.
            gx = input_grad(g, w, x_shape, S, pads, D)
        return (gx, gw, gb) if has_bias else (gx, gw)
