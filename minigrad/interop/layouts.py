"""Layouts: where a value sits in minigrad (NHWC) and in PyTorch (NCHW), and how to move it.

A layout is IMAGE (a 4-D map), PLAIN (the same array on both sides) or the tuple (H, W, C) of a
flattened map, whose features minigrad orders (h, w, c) and PyTorch (c, h, w).
"""
from __future__ import annotations

import numpy as np

IMAGE = "image"        # a 4-D map: NHWC in minigrad, NCHW in PyTorch
PLAIN = "plain"        # the same array on both sides
# a flattened image is the tuple (H, W, C): minigrad orders its features (h, w, c), PyTorch (c, h, w)


def torch_module():
    """``import torch``, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as error:
        raise ImportError("minigrad.interop needs PyTorch, which is not installed: "
                          "pip install torch") from error
    return torch


def flat_permutation(hwc: tuple) -> np.ndarray:
    """perm with minigrad feature i == PyTorch feature perm[i] after flattening an (H, W, C) map."""
    H, W, C = hwc
    return np.arange(C * H * W).reshape(C, H, W).transpose(1, 2, 0).ravel()


def array_from_torch(a: np.ndarray, layout) -> np.ndarray:
    """A PyTorch-side value (NCHW, or (c, h, w)-ordered features) in minigrad's layout."""
    if layout == IMAGE:
        return a.transpose(0, 2, 3, 1)
    if isinstance(layout, tuple):
        return a[..., flat_permutation(layout)]
    return a


def array_to_torch(a: np.ndarray, layout) -> np.ndarray:
    """A minigrad value in PyTorch's layout (the inverse of :func:`array_from_torch`)."""
    if layout == IMAGE:
        return a.transpose(0, 3, 1, 2)
    if isinstance(layout, tuple):
        return a[..., np.argsort(flat_permutation(layout))]
    return a


def default_layout(shape: tuple):
    return IMAGE if len(shape) == 4 else PLAIN


TORCH_DIM = {0: 0, 1: 2, 2: 3, 3: 1}        # NHWC dim -> NCHW dim
MINIGRAD_DIM = {v: k for k, v in TORCH_DIM.items()}


def images_only(where: str, layout):
    if layout != IMAGE:
        raise ValueError(f"{where}: expects a 4-D image, got a {describe(layout)} input")
    return IMAGE


def keep_layout(where: str, layout):
    return layout


def linear_layout(where: str, layout):
    if layout == IMAGE:
        raise ValueError(f"{where}: a Linear applied to a 4-D map acts on channels in minigrad "
                         f"(NHWC) but on width in PyTorch (NCHW); flatten first")
    return PLAIN


def flatten_layout(where: str, layout, start: int, end: int, shape: tuple):
    """Flattening dims start..end of a value of ``layout`` and ``shape``."""
    if layout == IMAGE:
        if (start, end % 4) != (1, 3):
            raise ValueError(f"{where}: only flatten(start_dim=1) of a 4-D map has a PyTorch "
                             f"equivalent, got start_dim={start}, end_dim={end}")
        hwc = tuple(shape[1:])
        return PLAIN if hwc[2] == 1 or hwc[0] * hwc[1] == 1 else hwc      # the same order when 1 x 1 or 1 channel
    return layout


def describe(layout) -> str:
    return {IMAGE: "4-D image", PLAIN: "plain"}.get(layout, f"flattened {layout} (H, W, C) map")
