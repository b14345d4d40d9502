"""Winograd convolution for 3x3, stride-1, dilation-1 kernels in NHWC (Lavin & Gray 2015).

F(m x m, 3 x 3) computes an m x m block of outputs from an a x a tile of the padded input,
a = m + 2, with a*a multiplications per (input channel, output channel) instead of 9*m*m:

    Y = A^T [ (G g G^T) * (B^T d B) ] A          d (a,a) tile, g (3,3) kernel, Y (m,m)

``*`` is the elementwise product; B (a,a), G (a,3), A (a,m) are the transform matrices
of ``TRANSFORMS``. Summed over input channels, the product at each of the T = a*a transform
points t is a matrix product, batched over t:

    V[t] (tiles, C) = input tiles transformed      (B^T (x) B^T) d, one GEMM over all tiles
    U[t] (C, O)     = kernel transformed           (G (x) G) g
    M[t] (tiles, O) = V[t] @ U[t]                  T GEMMs in one np.matmul
    Y (m*m, tiles, O) = (A^T (x) A^T) M            one GEMM, then scattered to the image

(x) is the Kronecker product: with tiles flattened row-major, vec(P X Q^T) = (P (x) Q) vec(X),
so each two-sided tile transform is one matrix product over every tile and channel at once.
Tiles step by m; the padded input is padded further with zeros up to whole tiles and the
output cropped.

The gradients are the same bilinear identity differentiated (the seed's Eq. 9-12 in the
transformed domain):

    input:  dL/dx is the correlation of the (2 - pad)-padded output gradient with the flipped
            kernel (Eq. 11-12), itself a 3x3 stride-1 conv: ``forward`` on it.
    kernel: dL/dg = G^T [ sum over tiles (B^T d B) * (A dY A^T) ] G           (Eq. 9-10)
            i.e. Z[t] (tiles, O) = (A (x) A) dY tiles, dU[t] (C, O) = V[t]^T @ Z[t], and
            dL/dg = (G^T (x) G^T) dU.

F(2x2, 3x3) has exact small-integer transforms; F(4x4, 3x3) needs 36 instead of 16
products per 16 outputs (4x fewer than direct, against 2.25x) and fewer, larger tiles, but
its transforms hold 1/24 .. 8, so float32 results carry ~10x more rounding error (see
tests/ops/test_winograd.py for the measured bounds).
"""
from __future__ import annotations

import numpy as np

from minigrad.ops import parallel

TRANSFORMS = {
    # m: (B^T (a,a), G (a,3), A^T (m,a)), a = m + 2. Lavin & Gray 2015, Sec. 4.1-4.2.
    2: (np.array([[1, 0, -1, 0],
                  [0, 1, 1, 0],
                  [0, -1, 1, 0],
                  [0, 1, 0, -1]], dtype=np.float64),
        np.array([[1, 0, 0],
                  [1 / 2, 1 / 2, 1 / 2],
                  [1 / 2, -1 / 2, 1 / 2],
                  [0, 0, 1]]),
        np.array([[1, 1, 1, 0],
                  [0, 1, -1, -1]], dtype=np.float64)),
    4: (np.array([[4, 0, -5, 0, 1, 0],
                  [0, -4, -4, 1, 1, 0],
                  [0, 4, -4, -1, 1, 0],
                  [0, -2, -1, 2, 1, 0],
                  [0, 2, -1, -2, 1, 0],
                  [0, 4, 0, -5, 0, 1]], dtype=np.float64),
        np.array([[1 / 4, 0, 0],
                  [-1 / 6, -1 / 6, -1 / 6],
                  [-1 / 6, 1 / 6, -1 / 6],
                  [1 / 24, 1 / 12, 1 / 6],
                  [1 / 24, -1 / 12, 1 / 6],
                  [0, 0, 1]]),
        np.array([[1, 1, 1, 1, 1, 0],
                  [0, 1, -1, 2, -2, 0],
                  [0, 1, 1, 4, 4, 0],
                  [0, 1, -1, 8, -8, 1]], dtype=np.float64)),
}
DEFAULT_TILE = 4          # F(4x4, 3x3): measured fastest on the benchmark shapes (decisions.md)

Pads = tuple  # ((top, bottom), (left, right)), as conv.conv_geometry returns them


def kron2(matrix: np.ndarray, dtype) -> np.ndarray:
    """P (r,s) -> P (x) P (r*r, s*s): the two-sided transform P X P^T of row-major tiles."""
    return np.kron(matrix, matrix).astype(dtype)


def tile_grid(out_h: int, out_w: int, m: int) -> tuple[int, int]:
    """Tiles along each axis covering an out_h x out_w output: ceil(out / m)."""
    return -(-out_h // m), -(-out_w // m)


def pad_to_tiles(x: np.ndarray, pads: Pads, rows: int, cols: int) -> np.ndarray:
    """x (N,H,W,C) -> (N,rows,cols,C): x at offset (top, left), zeros around.

    A negative pad crops instead (the input gradient's 2 - pad when pad > 2); rows and cols
    past the padded image (up to whole tiles) are zero.
    """
    N, H, W, C = x.shape
    (top, _), (left, _) = pads
    xp = np.zeros((N, rows, cols, C), dtype=x.dtype)
    src_h, src_w = slice(max(0, -top), H), slice(max(0, -left), W)
    h = min(H - src_h.start, rows - max(0, top))
    w = min(W - src_w.start, cols - max(0, left))
    xp[:, max(0, top):max(0, top) + h, max(0, left):max(0, left) + w] = \
        x[:, src_h.start:src_h.start + h, src_w.start:src_w.start + w]
    return xp


def input_tiles(x: np.ndarray, pads: Pads, out: tuple, m: int) -> np.ndarray:
    """x (N,H,W,C) -> V (T, N*th*tw, C) = (B^T (x) B^T) d over every a x a tile d (stride m)."""
    a = m + 2
    N, C = x.shape[0], x.shape[3]
    th, tw = tile_grid(*out, m)
    xp = pad_to_tiles(x, pads, th * m + 2, tw * m + 2)               # (N, th*m+2, tw*m+2, C)
    d = np.empty((a, a, N, th, tw, C), dtype=x.dtype)                # d[i,j,n,u,v] = xp[n,um+i,vm+j]

    def gather(rows: slice) -> None:
        for i in range(rows.start, rows.stop):
            for j in range(a):
                d[i, j] = xp[:, i:i + th * m:m, j:j + tw * m:m]
    parallel.over_batch(gather, a, d.size)
    BT = TRANSFORMS[m][0]
    return (kron2(BT, x.dtype) @ d.reshape(a * a, -1)).reshape(a * a, N * th * tw, C)


def kernel_transform(w: np.ndarray, m: int) -> np.ndarray:
    """w (3,3,C,O) -> U (T, C, O) = (G (x) G) g for every (c, o)."""
    _, _, C, O = w.shape
    G = TRANSFORMS[m][1]
    return (kron2(G, w.dtype) @ w.reshape(9, C * O)).reshape(-1, C, O)


def output_tiles_to_image(Y: np.ndarray, out_shape: tuple, m: int) -> np.ndarray:
    """Y (m, m, N, th, tw, O), Y[a,b,n,u,v] the output at (um+a, vm+b) -> y (out_shape), cropped."""
    y = np.empty(out_shape, dtype=Y.dtype)

    def scatter(rows: slice) -> None:
        for a in range(rows.start, rows.stop):
            for b in range(m):
                part = y[:, a::m, b::m]                              # (N, <=th, <=tw, O)
                part[...] = Y[a, b, :, :part.shape[1], :part.shape[2]]
    parallel.over_batch(scatter, m, y.size)
    return y


def image_to_output_tiles(g: np.ndarray, m: int) -> np.ndarray:
    """g (N,OH,OW,O) -> (m, m, N, th, tw, O), the adjoint of ``output_tiles_to_image``:
    entry [a,b,n,u,v] is g[n, um+a, vm+b], zero past the image."""
    N, OH, OW, O = g.shape
    th, tw = tile_grid(OH, OW, m)
    tiles = np.zeros((m, m, N, th, tw, O), dtype=g.dtype)

    def gather(rows: slice) -> None:
        for a in range(rows.start, rows.stop):
            for b in range(m):
                part = g[:, a::m, b::m]
                tiles[a, b, :, :part.shape[1], :part.shape[2]] = part
    parallel.over_batch(gather, m, tiles.size)
    return tiles


def output_size(x_shape: tuple, pads: Pads) -> tuple[int, int]:
    """3x3 stride 1: OH = H + top + bottom - 2, OW likewise."""
    (top, bottom), (left, right) = pads
    return x_shape[1] + top + bottom - 2, x_shape[2] + left + right - 2


def forward(x: np.ndarray, w: np.ndarray, pads: Pads = ((1, 1), (1, 1)),
            m: int = DEFAULT_TILE) -> np.ndarray:
    """x (N,H,W,C) (*) w (3,3,C,O) -> y (N,OH,OW,O), cross-correlation, F(m x m, 3 x 3)."""
    N, O = x.shape[0], w.shape[3]
    out = output_size(x.shape, pads)
    th, tw = tile_grid(*out, m)
    V = input_tiles(x, pads, out, m)                                 # (T, tiles, C)
    U = kernel_transform(w, m)                                       # (T, C, O)
    M = np.matmul(V, U)                                              # (T, tiles, O)
    AT = TRANSFORMS[m][2]
    Y = kron2(AT, M.dtype) @ M.reshape(len(M), -1)                   # (m*m, tiles*O)
    return output_tiles_to_image(Y.reshape(m, m, N, th, tw, O), (N, *out, O), m)


def input_grad(g: np.ndarray, w: np.ndarray, pads: Pads = ((1, 1), (1, 1)),
               m: int = DEFAULT_TILE) -> np.ndarray:
    """g (N,OH,OW,O), w (3,3,C,O) -> dL/dx (N,H,W,C), H = OH + 2 - top - bottom.

    Eq. 11-12 at stride 1: the output gradient padded by K-1-pad = 2-pad on each side,
    correlated with the flipped kernel flip(w)[i,j,o,c] = w[2-i, 2-j, c, o].
    """
    flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)                    # (3,3,O,C), Eq. 11
    (top, bottom), (left, right) = pads
    return forward(g, flipped, ((2 - top, 2 - bottom), (2 - left, 2 - right)), m)


def weight_grad(x: np.ndarray, g: np.ndarray, pads: Pads = ((1, 1), (1, 1)),
                m: int = DEFAULT_TILE) -> np.ndarray:
    """x (N,H,W,C), g (N,OH,OW,O) -> dL/dw (3,3,C,O) = G^T [sum_tiles (B^T d B)*(A dY A^T)] G."""
    C, O = x.shape[3], g.shape[3]
    out = g.shape[1:3]
    V = input_tiles(x, pads, out, m)                                 # (T, tiles, C)
    AT = TRANSFORMS[m][2]
    Z = kron2(AT.T, g.dtype) @ image_to_output_tiles(g, m).reshape(m * m, -1)  # (T, tiles*O)
    dU = np.matmul(V.transpose(0, 2, 1), Z.reshape(len(V), -1, O))  # (T, C, O)
    G = TRANSFORMS[m][1]
    return (kron2(G.T, dU.dtype) @ dU.reshape(len(dU), C * O)).reshape(3, 3, C, O)
