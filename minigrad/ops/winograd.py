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
    both:   ``backward`` reuses Z for the input gradient, dV[t] = Z[t] @ U[t]^T and
            dL/dd = (B (x) B) dV added back into the overlapping tiles (the gather's adjoint):
            the training step's choice, ~10% faster than ``input_grad`` + ``weight_grad``.

The bias needs no pass of its own. A^T has a column of ones (point 1 of both tiles, so
point ``ones_point`` = a + 1 of A^T (x) A^T): a value added to M at that point reaches every
output of the tile once. So the forward adds b to M[ones_point] (1/T of M) before the output
transform, and dL/db = sum over tiles of Z[ones_point] (A's row of ones: the sum of the
tile's output gradient), Eq. 8 read off the transformed gradient.

F(2x2, 3x3) has small exact transforms and 16 products per 4 outputs (2.25x fewer than
direct); F(4x4, 3x3) has 36 per 16 (4x fewer) and fewer, larger tiles, but its transforms
hold 1/24 .. 8, so float32 results carry ~10x more rounding error (see
tests/ops/test_winograd.py for the measured bounds, docs/decisions.md for the timings).
"""
from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.ops import parallel
from minigrad.ops.geometry import fill_outside
from minigrad.ops.reduce import sum_leading

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
BLOCK_BYTES = 4 << 20     # transformed tiles per block of images (``over_image_blocks``)
MIN_BLOCKS = 4            # a small batch still makes two blocks for each of two threads

Pads = tuple  # ((top, bottom), (left, right)), as conv.conv_geometry returns them


@functools.lru_cache(maxsize=None)
def kronecker_transforms(m: int, dtype: np.dtype) -> dict[str, np.ndarray]:
    """P (x) P for each transform P of F(m x m, 3 x 3), in ``dtype``: the two-sided transform
    P X P^T of every row-major tile at once. Keys: BT (T,T) input, G (T,9) kernel, AT (m*m,T)
    output; A (T,m*m) and GT (9,T) are the transposes the weight gradient applies."""
    BT, G, AT = TRANSFORMS[m]
    squares = {"BT": BT, "G": G, "AT": AT, "A": AT.T, "GT": G.T}
    return {name: np.kron(P, P).astype(dtype) for name, P in squares.items()}


@functools.lru_cache(maxsize=None)
def ones_point(m: int) -> int:
    """The transform point t whose column of A^T (x) A^T is all ones (see the module doc)."""
    AT = kronecker_transforms(m, np.dtype(np.float64))["AT"]
    return int(np.flatnonzero((AT == 1).all(axis=0))[0])


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
    xp = np.empty((N, rows, cols, C), dtype=x.dtype)
    src_h, src_w = max(0, -top), max(0, -left)
    h = min(H - src_h, rows - max(0, top))
    w = min(W - src_w, cols - max(0, left))
    inside = (slice(max(0, top), max(0, top) + h), slice(max(0, left), max(0, left) + w))
    xp[:, inside[0], inside[1]] = x[:, src_h:src_h + h, src_w:src_w + w]
    fill_outside(xp, *inside)
    return xp


def input_tiles(x: np.ndarray, pads: Pads, out: tuple, m: int, BT: np.ndarray) -> np.ndarray:
    """x (N,H,W,C) -> V (T, N*th*tw, C) = (B^T (x) B^T) d over every a x a tile d (stride m).

    ``BT`` is B^T (x) B^T (T, T). The tiles overlap by 2 pixels: d is a strided view of the
    padded input, gathered by one copy (the reshape) into (T, tiles*C) rows for the GEMM.
    """
    a = m + 2
    N, C = x.shape[0], x.shape[3]
    th, tw = tile_grid(*out, m)
    xp = pad_to_tiles(x, pads, th * m + 2, tw * m + 2)               # (N, th*m+2, tw*m+2, C)
    sN, sH, sW, sC = xp.strides
    d = as_strided(xp, (a, a, N, th, tw, C), (sH, sW, sN, m * sH, m * sW, sC),
                   writeable=False)                                  # d[i,j,n,u,v] = xp[n,um+i,vm+j]
    return (BT @ d.reshape(a * a, -1)).reshape(a * a, N * th * tw, C)


def output_tiles_to_image(Y: np.ndarray, y: np.ndarray, m: int) -> None:
    """Write Y (m, m, N, th, tw, O), Y[a,b,n,u,v] the output at (um+a, vm+b), into y (N,OH,OW,O),
    cropping the tiles that reach past it."""
    for a in range(m):
        for b in range(m):
            part = y[:, a::m, b::m]                                  # (N, <=th, <=tw, O)
            part[...] = Y[a, b, :, :part.shape[1], :part.shape[2]]


def image_to_output_tiles(g: np.ndarray, m: int) -> np.ndarray:
    """g (N,OH,OW,O) -> (m, m, N, th, tw, O), the adjoint of ``output_tiles_to_image``:
    entry [a,b,n,u,v] is g[n, um+a, vm+b], zero past the image."""
    N, OH, OW, O = g.shape
    th, tw = tile_grid(OH, OW, m)
    tiles = np.empty((m, m, N, th, tw, O), dtype=g.dtype)
    for a in range(m):
        for b in range(m):
            part = g[:, a::m, b::m]
            tiles[a, b, :, :part.shape[1], :part.shape[2]] = part
            fill_outside(tiles[a, b], slice(0, part.shape[1]), slice(0, part.shape[2]))
    return tiles


def output_size(x_shape: tuple, pads: Pads) -> tuple[int, int]:
    """3x3 stride 1: OH = H + top + bottom - 2, OW likewise."""
    (top, bottom), (left, right) = pads
    return x_shape[1] + top + bottom - 2, x_shape[2] + left + right - 2


def over_image_blocks(work, N: int, tiles_per_image: int, channels: int, m: int, dtype) -> None:
    """Call ``work(k, images)`` for the k-th of equal slices of the batch (sizes differ by at
    most one image), each slice's transformed tiles (T, tiles, channels) about BLOCK_BYTES, at
    least MIN_BLOCKS slices when the batch allows; ``parallel``'s threads take them one by one.

    Every tile is independent, so the whole pipeline runs block by block and its large
    intermediates (d, V, M, Y: 2-4x the image each) stay in cache between passes instead of
    streaming through memory between every two of them. Equal blocks, one task each, keep
    both threads busy to the end (an uneven last block, or a thread given three blocks to
    the other's two, leaves a core idle). The blocks do not depend on the thread count, so
    neither do the results.
    """
    per_image = (m + 2) ** 2 * tiles_per_image * channels * np.dtype(dtype).itemsize   # bytes
    count = min(N, max(MIN_BLOCKS, -(-N * per_image // BLOCK_BYTES)))
    bounds = np.linspace(0, N, count + 1).astype(int)
    blocks = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
    blas = blas_controller()
    if blas is None or parallel.num_threads() == 1 or count == 1:
        for k, images in enumerate(blocks):          # BLAS's own threads share each product
            work(k, images)
        return
    with blas.limit(limits=1, user_api="blas"):
        parallel.each(lambda k: work(k, blocks[k]), count)


@functools.lru_cache(maxsize=None)
def blas_controller():
    """threadpoolctl's controller of the BLAS threads, or None when it is not installed.

    The block's products are small (e.g. 36 of (512, 32) @ (32, 64)); BLAS splitting each
    over its threads pays a hand-off per product, and on a busy machine a thread that waits
    for a core stalls them all (measured here under load: 1.2 s against 67 ms for the
    64x32x32x32 -> 64 step). One BLAS thread per block, the blocks on ``parallel``'s
    threads, keeps every core busy with no hand-off inside a block.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def forward(x: np.ndarray, w: np.ndarray, pads: Pads = ((1, 1), (1, 1)),
            m: int = DEFAULT_TILE, keep_tiles: bool = False,
            bias: np.ndarray | None = None) -> np.ndarray | tuple[np.ndarray, list]:
    """x (N,H,W,C) (*) w (3,3,C,O) [+ bias (O,)] -> y (N,OH,OW,O), cross-correlation, F(m x m, 3 x 3).

    With ``keep_tiles``, returns (y, tiles): the transformed input tiles V of every block, for
    ``backward`` to reuse instead of gathering and transforming x again (2.25x x's memory
    for F(4x4); measured on 64x32x32x32 -> 64: backward 18.0 ms instead of 21.4 ms).
    """
    if w.shape[:2] != (3, 3) or x.shape[3] != w.shape[2]:
        raise ValueError(f"winograd.forward: needs a 3x3 kernel over the input's channels, got "
                         f"input {x.shape} and weight {w.shape}")
    N, C, O = x.shape[0], x.shape[3], w.shape[3]
    out = output_size(x.shape, pads)
    th, tw = tile_grid(*out, m)
    K = kronecker_transforms(m, x.dtype)
    U = (K["G"] @ w.reshape(9, C * O)).reshape(-1, C, O)             # (T, C, O)
    y = np.empty((N, *out, O), dtype=x.dtype)
    tiles = {}                                                       # block k: its V

    def block(k: int, images: slice) -> None:
        V = input_tiles(x[images], pads, out, m, K["BT"])            # (T, tiles, C)
        M = np.matmul(V, U)                                          # (T, tiles, O)
        if bias is not None:
            M[ones_point(m)] += bias                                 # Eq. 4's + b, every output
        Y = K["AT"] @ M.reshape(len(M), -1)                          # (m*m, tiles*O)
        output_tiles_to_image(Y.reshape(m, m, -1, th, tw, O), y[images], m)
        if keep_tiles:
            tiles[k] = V
    over_image_blocks(block, N, th * tw, max(C, O), m, x.dtype)
    return (y, [tiles[k] for k in range(len(tiles))]) if keep_tiles else y


def input_grad(g: np.ndarray, w: np.ndarray, pads: Pads = ((1, 1), (1, 1)),
               m: int = DEFAULT_TILE) -> np.ndarray:
    """g (N,OH,OW,O), w (3,3,C,O) -> dL/dx (N,H,W,C), H = OH + 2 - top - bottom.

    Eq. 11-12 at stride 1: the output gradient padded by K-1-pad = 2-pad on each side,
    correlated with the flipped kernel flip(w)[i,j,o,c] = w[2-i, 2-j, c, o].
    """
    flipped = w[::-1, ::-1].transpose(0, 1, 3, 2)                    # (3,3,O,C), Eq. 11
    (top, bottom), (left, right) = pads
    return forward(g, flipped, ((2 - top, 2 - bottom), (2 - left, 2 - right)), m)


def transformed_output_grad(g: np.ndarray, m: int, A: np.ndarray) -> np.ndarray:
    """g (n,OH,OW,O) -> Z (T, tiles, O) = (A (x) A) dY over the tiles of the output gradient."""
    Z = A @ image_to_output_tiles(g, m).reshape(m * m, -1)          # (T, tiles*O)
    return Z.reshape(len(A), -1, g.shape[3])


def weight_grad(x: np.ndarray, g: np.ndarray, pads: Pads = ((1, 1), (1, 1)),
                m: int = DEFAULT_TILE) -> tuple[np.ndarray, np.ndarray]:
    """x (N,H,W,C), g (N,OH,OW,O) -> (dL/dw (3,3,C,O), dL/db (O,)):
    dL/dw = G^T [sum_tiles (B^T d B)*(A dY A^T)] G, dL/db = sum_tiles Z[ones_point]."""
    N, C, O = x.shape[0], x.shape[3], g.shape[3]
    out = g.shape[1:3]
    th, tw = tile_grid(*out, m)
    K = kronecker_transforms(m, x.dtype)
    partial_sums = {}                                                # block k: its dU, db

    def block(k: int, images: slice) -> None:
        V = input_tiles(x[images], pads, out, m, K["BT"])            # (T, tiles, C)
        Z = transformed_output_grad(g[images], m, K["A"])            # (T, tiles, O)
        partial_sums[k] = np.matmul(V.transpose(0, 2, 1), Z), sum_leading(Z[ones_point(m)], 1)
    over_image_blocks(block, N, th * tw, max(C, O), m, x.dtype)
    return weight_and_bias_grads(partial_sums, K["GT"], C, O, x.dtype)


def weight_and_bias_grads(partial_sums: dict, GT: np.ndarray, C: int, O: int,
                          dtype) -> tuple[np.ndarray, np.ndarray]:
    """The blocks' (dU (T,C,O), db (O,)) summed in block order (so the result does not depend
    on which thread finished first) -> (dL/dw = (G^T (x) G^T) dU (3,3,C,O), dL/db (O,)).
    An empty batch has no blocks: both sums are zero."""
    dU = sum((partial_sums[k][0] for k in range(len(partial_sums))), np.zeros((GT.shape[1], C, O), dtype))
    db = sum((partial_sums[k][1] for k in range(len(partial_sums))), np.zeros(O, dtype))
    return (GT @ dU.reshape(len(dU), C * O)).reshape(3, 3, C, O), db


def backward(x: np.ndarray, g: np.ndarray, w: np.ndarray, pads: Pads = ((1, 1), (1, 1)),
             m: int = DEFAULT_TILE,
             tiles: list | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (N,H,W,C), g (N,OH,OW,O), w (3,3,C,O) -> (dL/dx, dL/dw, dL/db): all three from one
    transform of the output gradient, Z = (A (x) A) dY tiles (pads >= 0, as in the forward).
    ``tiles``: what ``forward(..., keep_tiles=True)`` returned for this x, w, pads and m.

    The VJP of every line of ``forward``: dU[t] = V[t]^T @ Z[t] and db (``weight_grad``), and
    dV[t] (tiles, C) = Z[t] @ U[t]^T, dL/dd = (B (x) B) dV, each a x a tile's gradient added
    back where the tile was read (overlapping tiles add), the padding cropped. Saves
    ``input_grad``'s padding, gathering and B^T transform of the output gradient.
    """
    N, H, W, C = x.shape
    O = g.shape[3]
    out = g.shape[1:3]
    th, tw = tile_grid(*out, m)
    (top, _), (left, _) = pads
    K = kronecker_transforms(m, x.dtype)
    UT = (K["G"] @ w.reshape(9, C * O)).reshape(-1, C, O).transpose(0, 2, 1)  # (T, O, C)
    B = K["BT"].T                                                    # B (x) B (T, T)
    gx = np.empty(x.shape, dtype=x.dtype)
    partial_sums = {}                                                # block k: its dU, db

    def block(k: int, images: slice) -> None:
        V = input_tiles(x[images], pads, out, m, K["BT"]) if tiles is None else tiles[k]
        Z = transformed_output_grad(g[images], m, K["A"])            # (T, tiles, O)
        partial_sums[k] = np.matmul(V.transpose(0, 2, 1), Z), sum_leading(Z[ones_point(m)], 1)
        dd = (B @ np.matmul(Z, UT).reshape(len(V), -1)).reshape(m + 2, m + 2, -1, th, tw, C)
        gx[images] = tiles_to_image(dd, m)[:, top:top + H, left:left + W]
    over_image_blocks(block, N, th * tw, max(C, O), m, x.dtype)
    return (gx, *weight_and_bias_grads(partial_sums, K["GT"], C, O, x.dtype))


def tiles_to_image(dd: np.ndarray, m: int) -> np.ndarray:
    """dd (a, a, n, th, tw, C), dd[i,j,n,u,v] the gradient of tile (u, v) at its pixel (i, j)
    -> (n, th*m+2, tw*m+2, C), each added at (um+i, vm+j): the adjoint of the tile gather.

    Pixels i, j < m of the tiles cover the image up to th*m, tw*m once each, so they are
    written, not added; the last two rows and columns are zeroed; then the pixels that
    overlap the next tile (i or j >= m) are added.
    """
    a, _, n, th, tw, C = dd.shape
    image = np.empty((n, th * m + 2, tw * m + 2, C), dtype=dd.dtype)
    for i in range(m):
        for j in range(m):
            image[:, i:i + th * m:m, j:j + tw * m:m] = dd[i, j]
    fill_outside(image, slice(0, th * m), slice(0, tw * m))
    for i in range(a):
        for j in range(a):
            if i >= m or j >= m:
                image[:, i:i + th * m:m, j:j + tw * m:m] += dd[i, j]
    return image
