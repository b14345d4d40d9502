"""Window geometry shared by convolution and pooling (NHWC): argument pairs, padding, sizes.

A window op slides a kernel of K taps, D apart (dilation), S positions at a time (stride), over
an input padded by P zeros on each side. Along one axis of length H its output has

    OH = floor((H + 2P - D (K - 1) - 1) / S) + 1

positions (PyTorch's rule; the seed's Eq. 2 when D = 1). ``offset_slab`` indexes the input
positions one kernel tap meets, one per output position: the building block of every loop
over taps.
"""
from __future__ import annotations

import numpy as np


def as_pair(name: str, what: str, value) -> tuple[int, int]:
    """An int or a pair of ints -> (height, width). ``name`` (the caller) and ``what`` (the
    argument) go into the error."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise TypeError(f"{name}: {what} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def positive_pairs(name: str, **values) -> list[tuple[int, int]]:
    """``as_pair`` of each keyword argument, all entries > 0 (kernel sizes, strides, dilations)."""
    pairs = [as_pair(name, what, value) for what, value in values.items()]
    if any(min(pair) <= 0 for pair in pairs):
        given = ", ".join(f"{what}={value}" for what, value in values.items())
        raise ValueError(f"{name}: {' and '.join(values)} must be positive, got {given}")
    return pairs


def output_size(length: int, kernel: int, stride: int, padding: int = 0,
                dilation: int = 1) -> int:
    """floor((length + padding - dilation (kernel - 1) - 1) / stride) + 1, with ``padding`` the
    zeros added on both sides together (2P for a symmetric padding)."""
    return (length + padding - dilation * (kernel - 1) - 1) // stride + 1


def check_window_fits(name: str, reach: tuple, padded: tuple, context: str,
                      note: str = "") -> None:
    """Raise unless the window (``reach``: the kernel's extent, dilation included) fits in the
    ``padded`` input; ``context`` (the call's shapes) and ``note`` go into the error."""
    if reach[0] > padded[0] or reach[1] > padded[1]:
        raise ValueError(f"{name}: kernel {reach[0]}x{reach[1]}{note} is larger than the padded "
                         f"input {padded[0]}x{padded[1]} ({context})")


def pad_images(x: np.ndarray, pads: tuple, value: float = 0.0) -> np.ndarray:
    """x (N,H,W,C) -> (N,H+top+bottom,W+left+right,C) filled with ``value``;
    pads = ((top, bottom), (left, right)). ``x`` itself when there is no padding."""
    if pads == ((0, 0), (0, 0)):
        return x
    N, H, W, C = x.shape
    (top, bottom), (left, right) = pads
    padded = np.full((N, H + top + bottom, W + left + right, C), value, dtype=x.dtype)
    padded[:, top:top + H, left:left + W, :] = x
    return padded


def crop(xp: np.ndarray, pads: tuple) -> np.ndarray:
    """Undo ``pad_images``: drop the padded border (``xp`` itself when there is none)."""
    if pads == ((0, 0), (0, 0)):
        return xp
    (top, bottom), (left, right) = pads
    return xp[:, top:xp.shape[1] - bottom, left:xp.shape[2] - right, :]


def offset_slab(i: int, j: int, S: tuple, D: tuple, out: tuple) -> tuple:
    """Index of the padded-input positions that kernel offset (i, j) meets, one per output pixel."""
    return (slice(None), slice(i * D[0], i * D[0] + S[0] * (out[0] - 1) + 1, S[0]),
            slice(j * D[1], j * D[1] + S[1] * (out[1] - 1) + 1, S[1]), slice(None))
