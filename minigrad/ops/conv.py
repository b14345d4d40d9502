"""2-D convolution in NHWC: the seed's helpers, the reference conv built from them, the op.

Read top to bottom:

1. The seed's array helpers (``seeds/000``, Part 1-2), with its signatures: ``add_padding``
   (P zeros on every side), ``convolve`` (Eq. 1, a plain loop over output pixels),
   ``dilate`` (Eq. 6-7, zero insertion) and ``flip_kernels`` (Eq. 11).
2. ``conv2d_reference`` and ``conv2d_vjp_reference``: the forward (Eq. 4) and its three
   gradients (Eq. 8, 9-10, 11-12) composed line by line from those helpers. They are slow and
   exact; the tests hold the fast path to them.
3. The registered ops: ``Conv2d``, which computes the same quantities with strided views and
   BLAS products (``minigrad/ops/conv_fast.py``, ``docs/conv.md``), and ``ConvTranspose2d``,
   conv2d's adjoint, written with conv2d's own pieces in swapped roles.

Letters: S the stride, P the padding, D the kernel dilation, K the kernel size and
R = D (K - 1) + 1 the dilated kernel's size. Two different zero insertions appear: the
kernel dilation inserts D - 1 zeros between kernel taps (forward), and the backward inserts
S - 1 zeros between output-gradient values; the seed's ``dilate`` does both.
"""
from __future__ import annotations

import numpy as np

from minigrad.ops import conv_fast, reduce, winograd, workspace
from minigrad.ops.linalg import check_same_dtype
from minigrad.ops.base import Op, register
from minigrad.ops.geometry import as_pair, conv_geometry, conv_transpose_geometry


def add_padding(images: np.ndarray, P) -> np.ndarray:
    """images (B,h,w,F) -> (B,h+2P,w+2P,F) with P zeros on each side of h and w.

    P is an int (the seed's) or a pair (P_h, P_w).
    """
    Ph, Pw = as_pair("add_padding", "P", P)
    return np.pad(images, ((0, 0), (Ph, Ph), (Pw, Pw), (0, 0)))


def convolve(kernels: np.ndarray, images: np.ndarray, S) -> np.ndarray:
    """Eq. (1): z[p,q,o] = sum_{c,i,j} k[i,j,c,o] x[pS+i, qS+j, c]. No padding inside.

    kernels (KH,KW,F_in,F_out), images (B,h,w,F_in) -> (B,(h-KH)//S+1,(w-KW)//S+1,F_out);
    S an int (the seed's) or a pair. A loop over output pixels, kept simple on purpose.
    """
    KH, KW, _, F_out = kernels.shape
    B, h, w, _ = images.shape
    Sh, Sw = as_pair("convolve", "S", S)
    h_out, w_out = (h - KH) // Sh + 1, (w - KW) // Sw + 1
    z = np.zeros((B, h_out, w_out, F_out), dtype=np.result_type(kernels, images))
    for p in range(h_out):
        for q in range(w_out):
            patch = images[:, p * Sh:p * Sh + KH, q * Sw:q * Sw + KW, :]   # (B,KH,KW,F_in)
            z[:, p, q, :] = np.tensordot(patch, kernels, axes=3)
    return z


def dilate(images: np.ndarray, D) -> np.ndarray:
    """Eq. (6-7): insert D-1 zeros between neighbouring pixels; D an int or a pair.

    (B,h,w,F) -> (B,(h-1)D+1,(w-1)D+1,F).
    """
    B, h, w, F = images.shape
    Dh, Dw = as_pair("dilate", "D", D)
    dilated = np.zeros((B, (h - 1) * Dh + 1, (w - 1) * Dw + 1, F), dtype=images.dtype)
    dilated[:, ::Dh, ::Dw, :] = images
    return dilated


def flip_kernels(kernels: np.ndarray) -> np.ndarray:
    """Eq. (11): kappa[i,j,o,c] = k[K-1-i, K-1-j, c, o]. (K,K,F_in,F_out) -> (K,K,F_out,F_in)."""
    return kernels[::-1, ::-1].transpose(0, 1, 3, 2)


def padded(x: np.ndarray, pads: tuple) -> np.ndarray:
    """``add_padding`` for pads ((top, bottom), (left, right)): pad by the larger of each pair,
    slice off the extra row or column ('same' with an even R pads one more at the bottom and
    right, as PyTorch)."""
    (top, bottom), (left, right) = pads
    P = (max(top, bottom), max(left, right))
    xp = add_padding(x, P)
    return xp[:, P[0] - top:xp.shape[1] - P[0] + bottom, P[1] - left:xp.shape[2] - P[1] + right]


def dilate_kernels(w: np.ndarray, D: tuple) -> np.ndarray:
    """The kernel dilation D as zero insertion: ``dilate`` on w (K,K,C,O) seen as C images of
    O channels -> (R,R,C,O), R = D (K - 1) + 1. A conv with w and dilation D is a conv with
    this kernel and dilation 1."""
    return dilate(w.transpose(2, 0, 1, 3), D).transpose(1, 2, 0, 3)


def conv2d_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, stride=1,
                     padding=0, dilation=1, groups=1) -> np.ndarray:
    """Seed Eq. 4: x (N,H,W,C), w (KH,KW,C/G,O), b (O,) -> y (N,OH,OW,O).

    y[n,p,q,o] = b[o] + sum_{c,i,j} w[i,j,c,o] x_pad[n, pS + iD, qS + jD, c].
    stride and dilation: an int or a pair; padding: an int, a pair, 'same' or 'valid'.
    With ``groups`` G, group k's O/G filters see only its C/G input channels.
    """
    S, pads, D, _ = conv_geometry(x.shape, w.shape, stride, padding, dilation, groups)
    if groups > 1:                                  # each group is a conv of its own
        bs = [None] * groups if b is None else np.split(b, groups)
        return np.concatenate([conv2d_reference(xk, wk, bk, stride=stride, padding=padding,
                                                dilation=dilation) for xk, wk, bk in
                               zip(np.split(x, groups, 3), np.split(w, groups, 3), bs)], 3)
    xp = padded(x, pads)                            # x_pad: the zeros of the padding P
    y = convolve(dilate_kernels(w, D), xp, S)       # Eq. 1/4 with the dilated kernel (R taps)
    return y if b is None else y + b                # Eq. 4: + b[o]


def conv2d_vjp_reference(g: np.ndarray, x: np.ndarray, w: np.ndarray, *, stride=1, padding=0,
                         dilation=1, groups=1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed Eq. 8-12: g = dL/dy (N,OH,OW,O) -> (gx (N,H,W,C), gw (KH,KW,C/G,O), gb (O,)).

    Arguments as ``conv2d_reference``. ``r`` = Hp - R - (OH - 1) S is the stride remainder:
    the last r rows (and columns) of x_pad, read by no window.
    """
    S, pads, D, _ = conv_geometry(x.shape, w.shape, stride, padding, dilation, groups)
    if groups > 1:                                  # each group's gradients on their own
        parts = [conv2d_vjp_reference(gk, xk, wk, stride=stride, padding=padding,
                                      dilation=dilation) for gk, xk, wk in
                 zip(np.split(g, groups, 3), np.split(x, groups, 3), np.split(w, groups, 3))]
        return tuple(np.concatenate(grads, axis) for grads, axis in zip(zip(*parts), (3, 3, 0)))
    xp = padded(x, pads)                            # x_pad (N,Hp,Wp,C)
    wd = dilate_kernels(w, D)                       # the dilated kernel (R,R,C,O)
    R = wd.shape[:2]
    gb = g.sum(axis=(0, 1, 2))                      # Eq. 8: dL/db[o] = sum_{n,p,q} g[n,p,q,o]
    gd = dilate(g, S)                               # Eq. 10: S-1 zeros inserted (by the stride)
    # Eq. 9: dL/dwd[i,j,c,o] = sum_{n,s,t} gd[n,s-i,t-j,o] x_pad[n,s,t,c], a correlation with
    # the batch as the summed channel: gd as kernels (Hd,Wd,N,O), x_pad as images (C,Hp,Wp,N)
    gwd = convolve(gd.transpose(1, 2, 0, 3), xp.transpose(3, 1, 2, 0), 1)   # (C,R+r,R+r,O)
    # Eq. 9: of the R+r taps keep the R of the dilated kernel (the r remainder rows were read
    # by no window), and of those every D-th: the K taps of w
    gw = gwd.transpose(1, 2, 0, 3)[:R[0]:D[0], :R[1]:D[1]]
    gamma = add_padding(gd, (R[0] - 1, R[1] - 1))   # Eq. 12's gamma: gd padded by R-1 = D(K-1)
    gxp_read = convolve(flip_kernels(wd), gamma, 1)  # Eq. 11-12: (N,Hp-r,Wp-r,C)
    gxp = np.zeros_like(xp, dtype=gxp_read.dtype)    # Eq. 12 on x_pad: the r remainder rows
    gxp[:, :gxp_read.shape[1], :gxp_read.shape[2]] = gxp_read     # and columns get zero
    (top, _), (left, _) = pads
    gx = gxp[:, top:top + x.shape[1], left:left + x.shape[2]]    # the padding cropped
    return gx, gw, gb


@register("conv2d")
class Conv2d(Op):
    """x (N,H,W,C) * w (KH,KW,C/G,O) + b (O,) -> y (N,OH,OW,O). Seed Eq. (4), cross-correlation.

    Each quantity is the reference's, computed by the fast path (``conv_fast``) and tested
    against the reference on the whole geometry table:

    - y:  ``conv2d_reference`` (Eq. 4), computed by ``conv_fast.forward``: im2col, then one
      BLAS product with [w; b].
    - gb: ``conv2d_vjp_reference``'s gb (Eq. 8), computed by ``conv_fast.weight_grad``: the
      ones column's row of the weight product.
    - gw: ``conv2d_vjp_reference``'s gw (Eq. 9-10), computed by ``conv_fast.weight_grad``:
      the im2col rows times g.
    - gx: ``conv2d_vjp_reference``'s gx (Eq. 11-12), computed by ``conv_fast.input_grad``:
      one product per kernel tap, added where the tap reaches.

    With ``groups`` G > 1 the fast path runs on ``conv_fast.block_diagonal(w, G)``, the dense
    kernel a grouped one acts as, and keeps the grouped entries of its gradient.

    ``conv_fast.choose_algorithm`` routes 3x3 stride-1 convs with many channels to Winograd
    F(m x m, 3 x 3) (``winograd``, m = ``conv_fast.WINOGRAD_TILE``) instead, the same
    references computed in the transformed domain:

    - y:  ``conv2d_reference`` (Eq. 4), ``winograd.forward``, b added in the transformed
      domain (at the point whose output transform is all ones).
    - gb: ``conv2d_vjp_reference``'s gb (Eq. 8), the sum of g, read off the transformed g
      by ``winograd.backward`` / ``weight_grad`` (``reduce.sum_leading`` when neither runs).
    - gw: ``conv2d_vjp_reference``'s gw (Eq. 9-10), ``winograd.weight_grad`` when only gw is
      needed (a first layer), else from ``winograd.backward`` with gx.
    - gx: ``conv2d_vjp_reference``'s gx (Eq. 11-12), ``winograd.input_grad`` when only gx is
      needed, else ``winograd.backward``: both from one transform of g and the forward's tiles.

    ``saved`` starts with the algorithm that ran. im2col's holds the im2col matrix, taken
    from the workspace by the forward; ``release`` gives it back once the engine is done with
    the node. Winograd's holds x and the forward's transformed tiles, and no workspace buffer.
    Every gradient is a new array (``fresh_grads``: a leaf keeps it as ``.grad``).
    """

    fresh_grads = True

    @staticmethod
    def forward(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        check_same_dtype("conv2d", input=x, weight=w, bias=b)
        S, pads, D, out = conv_geometry(x.shape, w.shape, stride, padding, dilation, groups)
        if b is not None and b.shape != (w.shape[3],):
            raise ValueError(f"conv2d: bias must have shape ({w.shape[3]},), got {b.shape}")
        if conv_fast.choose_algorithm(x, w, S, D, groups, out) == "winograd":
            y, tiles = winograd.forward(x, w, pads, conv_fast.WINOGRAD_TILE, keep_tiles=True,
                                        bias=b)                             # Eq. 4
            return y, ("winograd", x, tiles, w, pads, b is not None)
        y, cols = conv_fast.forward(x, conv_fast.block_diagonal(w, groups), b, S, pads, D, out)
        return y, ("im2col", cols, w, x.shape, S, pads, D, groups, b is not None)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        if saved[0] == "winograd":
            return Conv2d.winograd_vjp(g, saved, needs_input_grad)
        # y.sum().backward() sends a broadcast (stride-0) view: every product below would
        # copy it again, so make it contiguous once (Winograd's tile gather reads any view)
        g = np.ascontiguousarray(g)
        _, cols, w, x_shape, S, pads, D, G, has_bias = saved
        dense = conv_fast.block_diagonal(w, G)
        gx = gw = gb = None
        if needs_input_grad[1] or (has_bias and needs_input_grad[2]):
            gw, gb = conv_fast.weight_grad(cols, g, dense.shape, has_bias)   # Eq. 8, 9-10
            gw = conv_fast.diagonal_blocks(gw, G)
        if needs_input_grad[0]:
            gx = conv_fast.input_grad(g, dense, x_shape, S, pads, D)        # Eq. 11-12
        return (gx, gw, gb) if has_bias else (gx, gw)

    @staticmethod
    def winograd_vjp(g, saved, needs_input_grad):
        """The VJP of the Winograd forward: each gradient only when asked for."""
        _, x, tiles, w, pads, has_bias = saved
        m = conv_fast.WINOGRAD_TILE
        gx = gw = gb = None
        if needs_input_grad[0] and needs_input_grad[1]:
            gx, gw, gb = winograd.backward(x, g, w, pads, m, tiles=tiles)   # Eq. 11-12, 9-10, 8
        elif needs_input_grad[1]:
            gw, gb = winograd.weight_grad(x, g, pads, m)                    # Eq. 9-10, 8
        elif needs_input_grad[0]:
            gx = winograd.input_grad(g, w, pads, m)                         # Eq. 11-12
        if has_bias and needs_input_grad[2] and gb is None:
            gb = reduce.sum_leading(g, 3)                                   # Eq. 8
        return (gx, gw, gb) if has_bias else (gx, gw)

    @staticmethod
    def release(saved):
        if saved[0] == "im2col":
            workspace.give_back(conv_fast.COLS_SITE, saved[1])


@register("conv_transpose2d")
class ConvTranspose2d(Op):
    """x (N,H,W,C_in), w (KH,KW,C_out/G,C_in), b (C_out,) -> y (N,HY,WY,C_out): the adjoint
    of conv2d, HY = (H - 1) S - 2P + D (K - 1) + output_padding + 1.

    The weight is PyTorch's (C_in, C_out/G, KH, KW) transposed as conv2d's is, which makes
    it conv2d's own weight read backwards: a conv2d with this w maps C_out channels to C_in,
    and conv_transpose2d(x, w) is that conv2d's input gradient (Eq. 11-12) with x in the
    place of g. So the op is written with conv2d's pieces, roles swapped:

    - y:  conv2d's gx of x (Eq. 11-12), ``conv_fast.input_grad``, plus b.
    - gx: conv2d's forward of g (Eq. 4), ``conv_fast.forward``: the input gradient of an
      input gradient is the map itself.
    - gw: conv2d's gw (Eq. 9-10) with g as the conv input and x as its output gradient,
      ``conv_fast.weight_grad`` on the im2col rows that forward of g built.
    - gb: the sum of g (Eq. 8).
    """

    fresh_grads = True

    @staticmethod
    def forward(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        check_same_dtype("conv_transpose2d", input=x, weight=w, bias=b)
        S, pads, D, y_shape = conv_transpose_geometry(x.shape, w.shape, stride, padding,
                                                      output_padding, dilation, groups)
        if b is not None and b.shape != (y_shape[3],):
            raise ValueError(f"conv_transpose2d: bias must have shape ({y_shape[3]},), got "
                             f"{b.shape}")
        dense = conv_fast.block_diagonal(w, groups)
        x_rows = np.ascontiguousarray(x, dtype=np.result_type(x, w))
        y = conv_fast.input_grad(x_rows, dense, y_shape, S, pads, D)        # conv2d's gx
        if b is not None:
            y += b
        return y, (x, w, S, pads, D, groups, b is not None)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x, w, S, pads, D, G, has_bias = saved
        dense = conv_fast.block_diagonal(w, G)
        g = np.ascontiguousarray(g)
        # conv2d's forward of g over the windows of x's H x W positions (an output_padding of
        # at least the stride leaves g room for more)
        gx, cols = conv_fast.forward(g, dense, None, S, pads, D, x.shape[1:3])   # Eq. 4
        gw = None
        if needs_input_grad[1]:
            dense_gw, _ = conv_fast.weight_grad(cols, x, dense.shape, has_bias=False)
            gw = conv_fast.diagonal_blocks(dense_gw, G)                     # Eq. 9-10
        workspace.give_back(conv_fast.COLS_SITE, cols)
        gx = gx if needs_input_grad[0] else None
        return (gx, gw, g.sum(axis=(0, 1, 2))) if has_bias else (gx, gw)    # gb: Eq. 8
