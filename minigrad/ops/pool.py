"""2-D pooling in NHWC: max, average, adaptive max and average, and max-unpooling.

Each pooling reads like its math twice. The *references* (``max_pool2d_reference``,
``avg_pool2d_reference`` and their VJPs) loop over output pixels and visit each window's input
positions in row-major order, exactly as PyTorch's CPU kernels do; they serve the adaptive
pools too, whose windows are just placed differently. The registered ops compute the same
with the loops over window offsets of ``minigrad.ops.pool_fast``, and the tests check every
op against its reference on a table of geometries.

PyTorch's rules, kept here: a window's maximum is found by scanning its positions *inside the
input* in row-major order, and a value replaces the running maximum when it is strictly
greater or NaN; so ties go to the first maximum, a NaN wins (the last NaN of the window), and
a window of -inf reports its first position inside the input. Padding never wins.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minigrad.ops import pool_fast
from minigrad.ops.base import Op, register
from minigrad.ops.geometry import as_pair, crop, output_size, pad_images, positive_pairs


def lowest(dtype: np.dtype):
    """The value padding holds for a maximum: -inf, or the smallest integer."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def check_pool_input(name: str, shape: tuple, dtype: np.dtype, floats_only: bool) -> None:
    """(N, H, W, C) with H, W, C > 0 (N may be 0), of a dtype the pooling supports."""
    if len(shape) != 4:
        missing = " (the batch dimension is missing: use x.unsqueeze(0))" if len(shape) == 3 else ""
        raise ValueError(f"{name}: expected input (N, H, W, C), got shape {shape}{missing}")
    if 0 in shape[1:]:
        raise ValueError(f"{name}: expected non-empty H, W and C in the input (N, H, W, C), "
                         f"got shape {shape}")
    if dtype.kind not in ("f" if floats_only else "fiu"):
        raise TypeError(f"{name}: not implemented for {dtype} input"
                        f"{' (use a floating-point tensor)' if floats_only else ''}")


def pool_arguments(name: str, kernel_size, stride=None, padding=0, dilation=1) -> tuple:
    """Validate PyTorch's pooling arguments; return (K, S, P, D) pairs. Stride defaults to the
    kernel; padding is at most half the kernel (PyTorch's rule)."""
    K, S, D = positive_pairs(name, kernel_size=kernel_size,
                             stride=kernel_size if stride is None else stride, dilation=dilation)
    P = as_pair(name, "padding", padding)
    if min(P) < 0 or P[0] > K[0] // 2 or P[1] > K[1] // 2:
        raise ValueError(f"{name}: padding must be between 0 and half the kernel size, got "
                         f"padding={padding} for kernel_size={kernel_size}")
    return K, S, P, D


def pooled_size(length: int, K: int, S: int, P: int, D: int, ceil_mode: bool) -> int:
    """floor (or ceil) of (length + 2P - D(K-1) - 1) / S, plus 1; in ceil mode the last window
    must start inside the input or the left padding (PyTorch's rule)."""
    out = output_size(length + (S - 1 if ceil_mode else 0), K, S, 2 * P, D)
    if ceil_mode and (out - 1) * S >= length + P:
        out -= 1
    return out


class _Placed:
    """What the references ask of a placement of windows: ``positions(axis, o, padding)``, the
    input positions along ``axis`` of output ``o``'s window, as a range."""

    def rows(self, oh: int, padding: bool = False) -> range:
        """Input rows window row ``oh`` covers; with ``padding``, its padded rows too."""
        return self.positions(0, oh, padding)

    def cols(self, ow: int, padding: bool = False) -> range:
        return self.positions(1, ow, padding)


@dataclass(frozen=True)
class Windows(_Placed):
    """Where the windows of a pooling lie: output row oh covers input rows oh*S - P + i*D,
    i < K (the same along W); ``positions`` keeps those inside the input (or the padding)."""
    size: tuple            # input (H, W)
    K: tuple
    S: tuple
    P: tuple
    D: tuple
    out: tuple             # (OH, OW)

    def positions(self, axis: int, o: int, padding: bool = False) -> range:
        L, K, S, P, D = (v[axis] for v in (self.size, self.K, self.S, self.P, self.D))
        low, high = (-P, L + P) if padding else (0, L)
        start = o * S - P
        skipped = max(0, -(-(low - start) // D))                 # taps before ``low``
        return range(start + skipped * D, min(start + D * (K - 1) + 1, high), D)

    @property
    def pads(self) -> tuple:
        """((top, bottom), (left, right)): P, and at the bottom/right enough for the last
        window (a ceil-mode window may reach past the padding)."""
        reach = [(self.out[a] - 1) * self.S[a] + self.D[a] * (self.K[a] - 1) + 1 for a in range(2)]
        return tuple((self.P[a], max(self.P[a], reach[a] - self.P[a] - self.size[a])) for a in range(2))

    def first_tap(self) -> np.ndarray:
        """(OH, OW): the number i*KW + j of each window's first tap inside the input."""
        i, j = (np.array([(self.positions(a, o).start - o * self.S[a] + self.P[a]) // self.D[a]
                          for o in range(self.out[a])]) for a in range(2))
        return i[:, None] * self.K[1] + j[None, :]

    def divisors(self, count_include_pad: bool, divisor_override) -> np.ndarray:
        """(OH, OW): what each window's sum is divided by in an average."""
        if divisor_override is not None:
            return np.full(self.out, divisor_override)
        h, w = (np.array([len(self.positions(a, o, count_include_pad)) for o in range(self.out[a])])
                for a in range(2))
        return h[:, None] * w[None, :]


def pool_windows(name: str, shape: tuple, kernel_size, stride=None, padding=0, dilation=1,
                 ceil_mode: bool = False) -> Windows:
    """Validate a pooling call on an input of ``shape`` (N, H, W, C); return its windows."""
    K, S, P, D = pool_arguments(name, kernel_size, stride, padding, dilation)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{name}: ceil_mode must be a bool, got {ceil_mode!r}")
    size = tuple(shape[1:3])
    out = tuple(pooled_size(size[a], K[a], S[a], P[a], D[a], ceil_mode) for a in range(2))
    if min(out) < 1:
        reach = tuple(D[a] * (K[a] - 1) + 1 for a in range(2))
        raise ValueError(f"{name}: kernel {reach[0]}x{reach[1]}{' (dilated)' if D != (1, 1) else ''} "
                         f"is larger than the padded input {size[0] + 2 * P[0]}x{size[1] + 2 * P[1]} "
                         f"(input {shape}, padding {padding})")
    windows = Windows(size, K, S, P, D, out)
    for a, what in enumerate(("row", "column")):
        empty = [o for o in range(out[a]) if not windows.positions(a, o)]
        if empty:
            raise ValueError(f"{name}: the window of output {what} {empty[0]} covers only padding "
                             f"(kernel_size={kernel_size}, dilation={dilation}, padding={padding}, "
                             f"input {shape}); PyTorch returns -inf there with an index outside "
                             f"the input")
    return windows


@dataclass(frozen=True)
class AdaptiveWindows(_Placed):
    """Adaptive pooling's windows: output row i covers input rows floor(i*H/OH) up to
    ceil((i+1)*H/OH) (PyTorch's rule), the same along W; no padding, no dilation."""
    size: tuple
    out: tuple

    def bounds(self, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """(starts, counts) of the windows along ``axis``."""
        o, L, n = np.arange(self.out[axis]), self.size[axis], self.out[axis]
        starts, ends = o * L // n, -(-(o + 1) * L // n)
        return starts, ends - starts

    def positions(self, axis: int, o: int, padding: bool = False) -> range:
        starts, counts = self.bounds(axis)                       # (no padding to include)
        return range(starts[o], starts[o] + counts[o])


def adaptive_windows(name: str, shape: tuple, output_size) -> AdaptiveWindows:
    """Validate ``output_size`` (an int, a pair, None in a place keeps that input size)."""
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2 or not all(s is None or isinstance(s, (int, np.integer)) for s in sizes):
        raise TypeError(f"{name}: output_size must be an int, None or a pair of them, "
                        f"got {output_size!r}")
    if any(s is not None and s < 0 for s in sizes):
        raise ValueError(f"{name}: output_size must be >= 0, got {output_size!r}")
    return AdaptiveWindows(tuple(shape[1:3]),
                           tuple(shape[1 + a] if s is None else int(s) for a, s in enumerate(sizes)))


def _index(r: range) -> slice:
    return slice(r.start, r.stop, r.step)


def max_pool2d_reference(x: np.ndarray, windows) -> tuple[np.ndarray, np.ndarray]:
    """x (N,H,W,C) -> y, indices (N,OH,OW,C), one window at a time, PyTorch's scan: start at the
    window's first position inside the input; a strictly greater value or a NaN replaces."""
    N, H, W, C = x.shape
    y = np.empty((N, *windows.out, C), dtype=x.dtype)
    indices = np.empty(y.shape, dtype=np.int64)
    for oh in range(windows.out[0]):
        for ow in range(windows.out[1]):
            rows, cols = windows.rows(oh), windows.cols(ow)
            best = np.full((N, C), lowest(x.dtype), dtype=x.dtype)
            index = np.full((N, C), rows[0] * W + cols[0])
            for h in rows:
                for w in cols:
                    value = x[:, h, w, :]
                    wins = (value > best) | np.isnan(value)
                    best, index = np.where(wins, value, best), np.where(wins, h * W + w, index)
            y[:, oh, ow], indices[:, oh, ow] = best, index
    return y, indices


def max_pool2d_vjp_reference(g: np.ndarray, indices: np.ndarray, input_shape: tuple) -> np.ndarray:
    """g (N,OH,OW,C) -> gx (N,H,W,C): dy/dx is 1 at the maximum, so each output's gradient goes
    to the input position its index names; positions that win several windows add up."""
    N, H, W, C = input_shape
    gx = np.zeros((N, H * W, C), dtype=g.dtype)
    n, c = np.arange(N)[:, None, None, None], np.arange(C)
    np.add.at(gx, (n, indices, c), g)
    return gx.reshape(input_shape)


def _divisor(windows, oh: int, ow: int, count_include_pad: bool, divisor_override) -> int:
    if divisor_override is not None:
        return divisor_override
    return len(windows.rows(oh, count_include_pad)) * len(windows.cols(ow, count_include_pad))


def avg_pool2d_reference(x: np.ndarray, windows, count_include_pad: bool = True,
                         divisor_override=None) -> np.ndarray:
    """x (N,H,W,C) -> (N,OH,OW,C): each window's sum over the input, divided by the override,
    or by the window's size with its padding (count_include_pad) or without it."""
    y = np.empty((x.shape[0], *windows.out, x.shape[3]), dtype=x.dtype)
    for oh in range(windows.out[0]):
        for ow in range(windows.out[1]):
            rows, cols = windows.rows(oh), windows.cols(ow)
            divisor = _divisor(windows, oh, ow, count_include_pad, divisor_override)
            y[:, oh, ow] = x[:, _index(rows), _index(cols)].sum(axis=(1, 2)) / divisor
    return y


def avg_pool2d_vjp_reference(g: np.ndarray, windows, input_shape: tuple,
                             count_include_pad: bool = True, divisor_override=None) -> np.ndarray:
    """g (N,OH,OW,C) -> gx (N,H,W,C): dy/dx = 1/divisor for every input of the window."""
    gx = np.zeros(input_shape, dtype=g.dtype)
    for oh in range(windows.out[0]):
        for ow in range(windows.out[1]):
            rows, cols = windows.rows(oh), windows.cols(ow)
            divisor = _divisor(windows, oh, ow, count_include_pad, divisor_override)
            gx[:, _index(rows), _index(cols)] += g[:, oh, ow, None, None, :] / divisor
    return gx


def _max_pool(x: np.ndarray, kernel_size, stride, padding, dilation, ceil_mode):
    """The fast max pool: (y, winning taps, windows, padded shape)."""
    check_pool_input("max_pool2d", x.shape, x.dtype, floats_only=False)
    windows = pool_windows("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    xp = pad_images(x, windows.pads, value=lowest(x.dtype))
    y, winner = pool_fast.running_max(xp, windows.K, windows.S, windows.D, windows.out,
                                      windows.first_tap())
    return y, winner, windows, xp.shape


def max_pool2d_indices(x: np.ndarray, *, kernel_size, stride=None, padding=0, dilation=1,
                       ceil_mode=False) -> np.ndarray:
    """x (N,H,W,C) -> (N,OH,OW,C) int64: PyTorch's per-plane flat index h*W + w of each
    window's maximum (``max_pool2d(..., return_indices=True)``; not differentiable)."""
    _, winner, windows, _ = _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    return pool_fast.winner_indices(winner, windows.K, windows.S, windows.D, windows.P,
                                    windows.size[1])


@register("max_pool2d")
class MaxPool2d(Op):
    """x (N,H,W,C) -> y (N,OH,OW,C), y = max over each window (KxK taps, D apart, S apart);
    OH = floor((H + 2P - D(K-1) - 1) / S) + 1 (ceil in ceil_mode).

    Reference: ``max_pool2d_reference`` / ``max_pool2d_vjp_reference``. Fast path:
    ``pool_fast.running_max`` (a running maximum over the K*K taps that remembers the winning
    tap) and ``pool_fast.route_to_winners`` (each tap's slab of the input gradient takes g
    where that tap won).
    """

    @staticmethod
    def forward(x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        y, winner, windows, padded_shape = _max_pool(x, kernel_size, stride, padding, dilation,
                                                     ceil_mode)
        return y, (winner, padded_shape, windows)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        winner, padded_shape, w = saved
        # dy/dx = 1 at each window's maximum, 0 elsewhere
        gxp = pool_fast.route_to_winners(g, winner, padded_shape, w.K, w.S, w.D, w.out)
        return (crop(gxp, w.pads),)


@register("avg_pool2d")
class AvgPool2d(Op):
    """x (N,H,W,C) -> y (N,OH,OW,C), y = sum over each KxK window / divisor: divisor_override,
    else the window's size with its padding (count_include_pad, PyTorch's default) or without.

    Reference: ``avg_pool2d_reference`` / ``avg_pool2d_vjp_reference``. Fast path:
    ``pool_fast.window_sums`` and ``pool_fast.spread_over_windows``, one pass per tap.
    """

    @staticmethod
    def forward(x, *, kernel_size, stride=None, padding=0, ceil_mode=False,
                count_include_pad=True, divisor_override=None):
        check_pool_input("avg_pool2d", x.shape, x.dtype, floats_only=True)
        windows = pool_windows("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
        if divisor_override is not None:
            if not isinstance(divisor_override, (int, np.integer)) or isinstance(divisor_override, bool):
                raise TypeError(f"avg_pool2d: divisor_override must be an int, got {divisor_override!r}")
            if divisor_override == 0:
                raise ValueError("avg_pool2d: divisor_override must not be zero")
        xp = pad_images(x, windows.pads)
        divisor = windows.divisors(bool(count_include_pad), divisor_override).astype(x.dtype)[..., None]
        y = pool_fast.window_sums(xp, windows.K, windows.S, windows.out) / divisor
        return y, (divisor, xp.shape, windows)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        divisor, padded_shape, w = saved
        # dy/dx = 1/divisor for every position of the window
        gxp = pool_fast.spread_over_windows(g / divisor, padded_shape, w.K, w.S, w.out)
        return (crop(gxp, w.pads),)


def _adaptive(name: str, x: np.ndarray, output_size) -> AdaptiveWindows:
    check_pool_input(name, x.shape, x.dtype, floats_only=True)
    return adaptive_windows(name, x.shape, output_size)


@register("adaptive_avg_pool2d")
class AdaptiveAvgPool2d(Op):
    """x (N,H,W,C) -> y (N,OH,OW,C), y = mean over each adaptive window (``AdaptiveWindows``).

    Reference: ``avg_pool2d_reference`` on the adaptive windows. Fast path:
    ``pool_fast.adaptive_sums`` / ``adaptive_spread`` (separable: rows, then columns); for a
    1x1 output (global average pooling) ``pool_fast.global_sums`` / ``global_spread`` (a BLAS
    product per image, a broadcast view: forward and backward at 64x14x14x32 measured 3.2 ms
    separable, np.add.at scattering most of it, and 0.05 ms so).
    """

    @staticmethod
    def forward(x, *, output_size):
        windows = _adaptive("adaptive_avg_pool2d", x, output_size)
        if 0 in windows.out:
            return np.zeros((x.shape[0], *windows.out, x.shape[3]), dtype=x.dtype), (None, windows)
        (_, h), (_, w) = windows.bounds(0), windows.bounds(1)
        area = (h[:, None] * w[None, :]).astype(x.dtype)[..., None]
        if windows.out == (1, 1):
            return pool_fast.global_sums(x) / area, (area, windows)
        return pool_fast.adaptive_sums(x, windows.bounds(0), windows.bounds(1)) / area, (area, windows)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        area, w = saved
        if area is None:                                    # an empty output
            return (np.zeros((g.shape[0], *w.size, g.shape[3]), dtype=g.dtype),)
        if w.out == (1, 1):
            return (pool_fast.global_spread(g / area, w.size),)                            # 1/area
        return (pool_fast.adaptive_spread(g / area, w.bounds(0), w.bounds(1), w.size),)  # 1/area


def adaptive_max_pool2d_indices(x: np.ndarray, *, output_size) -> np.ndarray:
    """x (N,H,W,C) -> (N,OH,OW,C) int64: the flat index h*W + w of each adaptive window's
    maximum (``adaptive_max_pool2d(..., return_indices=True)``; not differentiable)."""
    return AdaptiveMaxPool2d.forward(x, output_size=output_size)[1][0]


@register("adaptive_max_pool2d")
class AdaptiveMaxPool2d(Op):
    """x (N,H,W,C) -> y (N,OH,OW,C), y = max over each adaptive window (PyTorch's scan rule).

    Reference: ``max_pool2d_reference`` / ``max_pool2d_vjp_reference`` on the adaptive windows.
    Fast path: ``pool_fast.adaptive_max`` (a running maximum over window offsets) and
    ``pool_fast.scatter_add_planes`` (g added at the maxima's indices).
    """

    @staticmethod
    def forward(x, *, output_size):
        windows = _adaptive("adaptive_max_pool2d", x, output_size)
        if 0 in windows.out:
            shape = (x.shape[0], *windows.out, x.shape[3])
            return np.zeros(shape, dtype=x.dtype), (np.zeros(shape, dtype=np.int64), x.shape)
        y, index = pool_fast.adaptive_max(x, windows.bounds(0), windows.bounds(1))
        return y, (index, x.shape)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        index, (N, H, W, C) = saved
        return (pool_fast.scatter_add_planes(g, index, H * W).reshape(N, H, W, C),)  # 1 at the max


def unpool_arguments(name: str, kernel_size, stride=None, padding=0) -> tuple:
    """(K, S, P) of an unpooling: positive kernel and stride (the kernel by default), P >= 0."""
    K, S = positive_pairs(name, kernel_size=kernel_size,
                          stride=kernel_size if stride is None else stride)
    P = as_pair(name, "padding", padding)
    if min(P) < 0:
        raise ValueError(f"{name}: padding must be non-negative, got padding={padding}")
    return K, S, P


def unpool_size(shape: tuple, K: tuple, S: tuple, P: tuple, output_size) -> tuple[int, int]:
    """max_unpool2d's (OH, OW): (H - 1) S - 2P + K by default; an ``output_size`` (OH, OW) or
    (N, OH, OW, C) must lie strictly within a stride of it (PyTorch's rule)."""
    default = tuple((shape[1 + a] - 1) * S[a] - 2 * P[a] + K[a] for a in range(2))
    if output_size is None:
        if min(default) < 1:
            raise ValueError(f"max_unpool2d: the output size {default[0]}x{default[1]} of input "
                             f"{shape} with kernel {K}, stride {S}, padding {P} is too small")
        return default
    sizes = tuple(output_size)
    sizes = sizes[1:3] if len(sizes) == 4 else sizes
    if len(sizes) != 2:
        raise ValueError(f"max_unpool2d: output_size must hold 2 (OH, OW) or 4 (N, OH, OW, C) "
                         f"sizes, got {output_size!r}")
    for a in range(2):
        if not default[a] - S[a] < sizes[a] < default[a] + S[a]:
            raise ValueError(f"max_unpool2d: invalid output_size {output_size!r}: "
                             f"{'OH' if a == 0 else 'OW'} must be between {default[a] - S[a]} "
                             f"and {default[a] + S[a]} (exclusive)")
    return int(sizes[0]), int(sizes[1])


@register("max_unpool2d")
class MaxUnpool2d(Op):
    """x (N,H,W,C), indices (N,H,W,C) -> y (N,OH,OW,C): zeros, with y[n, idx // OW, idx % OW, c]
    = x[n, h, w, c] for idx = indices[n, h, w, c] (a scatter: max_pool2d's indices put each
    maximum back where it came from). Repeated indices keep one of their values (PyTorch
    documents this as nondeterministic). VJP: gx = g gathered at the indices."""

    @staticmethod
    def forward(x, indices, *, kernel_size, stride=None, padding=0, output_size=None):
        check_pool_input("max_unpool2d", x.shape, x.dtype, floats_only=False)
        K, S, P = unpool_arguments("max_unpool2d", kernel_size, stride, padding)
        if indices.shape != x.shape:
            raise ValueError(f"max_unpool2d: indices must have the input's shape {x.shape}, "
                             f"got {indices.shape}")
        if indices.dtype != np.int64:
            raise TypeError(f"max_unpool2d: indices must be int64, got {indices.dtype}")
        OH, OW = unpool_size(x.shape, K, S, P, output_size)
        if indices.size and (indices.min() < 0 or indices.max() >= OH * OW):
            bad = indices.min() if indices.min() < 0 else indices.max()
            raise ValueError(f"max_unpool2d: found an invalid max index {bad} (the output "
                             f"planes are {OH}x{OW})")
        N, _, _, C = x.shape
        y = np.zeros((N, OH * OW, C), dtype=x.dtype)
        n, c = np.arange(N)[:, None, None, None], np.arange(C)
        y[n, indices, c] = x
        return y.reshape(N, OH, OW, C), (indices, n, c)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        indices, n, c = saved
        N, OH, OW, C = g.shape
        return g.reshape(N, OH * OW, C)[n, indices, c], None         # dy/dx = 1 where it landed
