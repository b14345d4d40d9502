"""Convolution backprop by hand: every intermediate array of the seed's equations, printed.

One image, one channel, H = W = 6, K = 3, stride S = 2, padding P = 1, so the windows leave
r = 1 row and column of the padded input unread (the stride remainder). The forward and the
three gradients are built only from the seed's helpers (``add_padding``, ``dilate``,
``flip_kernels``, ``convolve``) and NumPy, in the order of docs/conv.md, and checked against
minigrad's ``conv2d``. tests/docs/test_conv_formulas.py checks the same functions against
PyTorch on a table of geometries (dilation, stride, remainder, padding, 'same').

    python examples/conv_worked_example.py [--size 6] [--kernel 3] [--stride 2] [--padding 1] [--dilation 1]
"""
from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad.ops.conv import add_padding, convolve, dilate, flip_kernels


def same_padding(K: int, D: int) -> tuple[int, int]:
    """'same' (stride 1): R - 1 zeros in all, R = D(K-1)+1; the odd one at the bottom/right."""
    total = D * (K - 1)
    return total // 2, total - total // 2


def pad(images: np.ndarray, before: int, after: int) -> np.ndarray:
    """``before`` zeros at the top/left, ``after`` at the bottom/right (add_padding when equal)."""
    if before == after:
        return add_padding(images, before)
    return np.pad(images, ((0, 0), (before, after), (before, after), (0, 0)))


def spread_kernel(kernels: np.ndarray, D: int) -> np.ndarray:
    """(K,K,A,B) -> (R,R,A,B), R = D(K-1)+1: D-1 zeros between taps (``dilate`` on the kernel axes)."""
    return dilate(kernels.transpose(2, 0, 1, 3), D).transpose(1, 2, 0, 3)


def geometry(H: int, W: int, K: int, S: int, pads: tuple[int, int], D: int) -> dict:
    """Output size and stride remainder of one conv: OH = (Hp - R) // S + 1, r = (Hp - R) % S."""
    R = D * (K - 1) + 1
    Hp, Wp = H + sum(pads), W + sum(pads)
    return {"R": R, "OH": (Hp - R) // S + 1, "OW": (Wp - R) // S + 1,
            "r_h": (Hp - R) % S, "r_w": (Wp - R) % S}


def forward_steps(x: np.ndarray, k: np.ndarray, b: np.ndarray, S: int, pads: tuple[int, int],
                  D: int) -> dict:
    """Eq. 4: z[n,p,q,o] = b[o] + sum_{i,j,c} k[i,j,c,o] x_pad[n, pS+iD, qS+jD, c]."""
    x_pad = pad(x, *pads)
    k_spread = spread_kernel(k, D)                  # the taps i*D apart: a plain KxK reads R x R
    z = convolve(k_spread, x_pad, S) + b
    return {"x_pad": x_pad, "k_spread": k_spread, "z": z}


def backward_steps(x: np.ndarray, k: np.ndarray, g: np.ndarray, S: int, pads: tuple[int, int],
                   D: int) -> dict:
    """The three gradients of Eq. 4 for g = dL/dz, every intermediate named as in docs/conv.md."""
    K = k.shape[0]
    x_pad = pad(x, *pads)
    shape = geometry(x.shape[1], x.shape[2], K, S, pads, D)
    r_h, r_w = shape["r_h"], shape["r_w"]
    steps = {"x_pad": x_pad, "g": g}
    # Eq. 8: the bias gradient sums g over the batch and every output position.
    steps["db"] = g.sum(axis=(0, 1, 2))
    # Eq. 6-7 with factor S: S-1 zeros between neighbours, so g_z[n, pS, qS] = g[n, p, q].
    g_z = steps["g_z"] = dilate(g, S)
    # Eq. 9-10: dk[i,j,c,o] = sum_{n,s,t} g_z[n, s-iD, t-jD, o] x_pad[n, s, t, c]. With g_z
    # as the "kernel" and the batch as the channel summed over, convolve with stride D
    # gives K + r//D taps per axis; only the first K are kernel taps.
    dk_full = convolve(g_z.transpose(1, 2, 0, 3), x_pad.transpose(3, 1, 2, 0), D)
    steps["dk_full"] = dk_full.transpose(1, 2, 0, 3)             # (K + r_h//D, K + r_w//D, C, O)
    steps["dk"] = steps["dk_full"][:K, :K]
    # Eq. 11: kappa[i,j,o,c] = k[K-1-i, K-1-j, c, o], its taps again D apart.
    steps["kappa"] = flip_kernels(k)
    kappa_spread = spread_kernel(steps["kappa"], D)
    # Eq. 12: gamma = g_z padded by D(K-1) = R-1 on every side; dx_pad[n,s,t,c] =
    # sum_{o,i,j} kappa[i,j,o,c] gamma[n, s+iD, t+jD, o]. It is r rows and columns short.
    gamma = steps["gamma"] = add_padding(g_z, D * (K - 1))
    dx_pad_short = steps["dx_pad_short"] = convolve(kappa_spread, gamma, 1)
    # The r rows/columns no window read get zero gradient; then the padding is cropped.
    dx_pad = steps["dx_pad"] = np.pad(dx_pad_short, ((0, 0), (0, r_h), (0, r_w), (0, 0)))
    before, after = pads
    steps["dx"] = dx_pad[:, before:dx_pad.shape[1] - after, before:dx_pad.shape[2] - after]
    return steps


def im2col(x_pad: np.ndarray, K: int, S: int, D: int) -> np.ndarray:
    """x_pad (N,Hp,Wp,C) -> cols (N*OH*OW, K*K*C): row (n,p,q) holds window (p,q), taps (i,j,c)."""
    N, Hp, Wp, C = x_pad.shape
    R = D * (K - 1) + 1
    OH, OW = (Hp - R) // S + 1, (Wp - R) // S + 1
    cols = np.empty((N, OH, OW, K, K, C), dtype=x_pad.dtype)
    for i in range(K):
        for j in range(K):
            cols[:, :, :, i, j] = x_pad[:, i * D:i * D + S * (OH - 1) + 1:S, j * D:j * D + S * (OW - 1) + 1:S]
    return cols.reshape(N * OH * OW, K * K * C)


def col2im(dcols: np.ndarray, padded_shape: tuple, K: int, S: int, D: int) -> np.ndarray:
    """The adjoint of ``im2col``: add every entry of dcols back at the x_pad position it was read from."""
    N, Hp, Wp, C = padded_shape
    R = D * (K - 1) + 1
    OH, OW = (Hp - R) // S + 1, (Wp - R) // S + 1
    windows = dcols.reshape(N, OH, OW, K, K, C)
    dx_pad = np.zeros(padded_shape, dtype=dcols.dtype)
    for i in range(K):
        for j in range(K):
            dx_pad[:, i * D:i * D + S * (OH - 1) + 1:S, j * D:j * D + S * (OW - 1) + 1:S] += windows[:, :, :, i, j]
    return dx_pad


def show(name: str, plane: np.ndarray) -> None:
    """Print one 2-D array, integers as integers."""
    if np.all(plane == np.round(plane)):
        plane = plane.astype(int)
    print(f"{name} {plane.shape}:\n{plane}\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=6, help="H = W of the input (default 6)")
    parser.add_argument("--kernel", type=int, default=3, help="K (default 3)")
    parser.add_argument("--stride", type=int, default=2, help="S (default 2)")
    parser.add_argument("--padding", type=int, default=1, help="P (default 1)")
    parser.add_argument("--dilation", type=int, default=1, help="D (default 1)")
    args = parser.parse_args(argv)
    H, K, S, P, D = args.size, args.kernel, args.stride, args.padding, args.dilation
    shape = geometry(H, H, K, S, (P, P), D)
    print(f"H = W = {H}, K = {K}, S = {S}, P = {P}, D = {D}: R = {shape['R']}, "
          f"OH = OW = {shape['OH']}, remainder r = {shape['r_h']}\n")
    x = np.arange(1.0, H * H + 1).reshape(1, H, H, 1)                 # 1, 2, 3, ... row by row
    k = np.random.default_rng(0).integers(-2, 3, (K, K, 1, 1)).astype(float)   # small integers
    b = np.array([1.0])
    g = np.arange(1.0, shape["OH"] ** 2 + 1).reshape(1, shape["OH"], shape["OH"], 1)

    forward = forward_steps(x, k, b, S, (P, P), D)
    show("k", k[:, :, 0, 0])
    for name in ("x_pad", "z"):
        show(name, forward[name][0, :, :, 0])                        # image 0, channel 0
    steps = backward_steps(x, k, g, S, (P, P), D)
    print(f"db (Eq. 8) = {steps['db']}\n")
    for name in ("g", "g_z", "dk_full", "dk", "kappa", "gamma", "dx_pad_short", "dx_pad", "dx"):
        is_kernel = name in ("dk_full", "dk", "kappa")               # axes (i, j, ., .)
        show(name, steps[name][:, :, 0, 0] if is_kernel else steps[name][0, :, :, 0])

    xt, kt, bt = (mg.tensor(a, requires_grad=True) for a in (x, k, b))
    z = F.conv2d(xt, kt, bt, stride=S, padding=P, dilation=D)
    z.backward(g)
    agree = all(np.allclose(a, e) for a, e in ((z.numpy(), forward["z"]), (xt.grad.numpy(), steps["dx"]),
                                              (kt.grad.numpy(), steps["dk"]), (bt.grad.numpy(), steps["db"])))
    print("minigrad's conv2d gives the same z, dx, dk and db:", agree)


if __name__ == "__main__":
    main()
