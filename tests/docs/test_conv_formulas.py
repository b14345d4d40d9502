"""Every formula of docs/conv.md against PyTorch, on a table of geometries.

The formulas are computed by examples/conv_worked_example.py from the seed's helpers; here
each result is compared with torch.nn.functional.conv2d and its autograd in float64, with
the layouts converted explicitly: images NHWC (minigrad, the seed) <-> NCHW (PyTorch),
kernels (KH, KW, C, O) <-> (O, C, KH, KW).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.functional as F
from examples.conv_worked_example import (backward_steps, col2im, forward_steps, geometry, im2col,
                                          main, same_padding)
from tests.docs.markdown import ROOT, blocks, run_python_blocks

RTOL = 1e-10          # float64 on both sides; sums of at most a few hundred products

# N, H, W, C, O, K, S, P, D: stride > 1, remainders (r > 0, r >= D), padding, dilation, 'same'
GEOMETRIES = [
    (1, 6, 6, 1, 1, 3, 2, 1, 1),            # the worked example: r = 1
    (2, 5, 5, 3, 4, 3, 2, 1, 1),            # S = 2, P = 1, no remainder
    (2, 7, 6, 2, 3, 3, 2, 0, 1),            # r = 0 along W, 1 along H
    (2, 9, 9, 2, 3, 3, 1, 2, 2),            # D = 2 with padding
    (2, 10, 9, 2, 2, 3, 3, 1, 2),           # D = 2, S = 3, r = 1 along H
    (1, 11, 11, 1, 2, 2, 3, 0, 3),          # D = 3, K = 2, r = 1 < D
    (1, 12, 12, 2, 2, 3, 4, 0, 2),          # r = 3 >= D = 2: dk_full has K + 1 taps
    (1, 9, 9, 2, 1, 3, 3, 1, 1),            # r = 2 > P = 1: the last input row gets no gradient
    (2, 6, 6, 2, 3, 3, 1, "same", 1),
    (2, 6, 6, 2, 3, 4, 1, "same", 1),       # even kernel: 1 zero above, 2 below
    (1, 7, 7, 2, 2, 2, 1, "same", 3),       # R = 4: 1 above, 2 below
]


def to_nchw(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a).permute(0, 3, 1, 2).contiguous()          # (N, H, W, C) -> (N, C, H, W)


def to_nhwc(t: torch.Tensor) -> np.ndarray:
    return t.detach().permute(0, 2, 3, 1).numpy()                    # (N, C, H, W) -> (N, H, W, C)


def kernel_to_torch(k: np.ndarray) -> torch.Tensor:
    return torch.tensor(k).permute(3, 2, 0, 1).contiguous()          # (KH, KW, C, O) -> (O, C, KH, KW)


def case(N, H, W, C, O, K, S, P, D):
    rng = np.random.default_rng(H * 100 + K * 10 + D)
    pads = same_padding(K, D) if P == "same" else (P, P)
    shape = geometry(H, W, K, S, pads, D)
    x, k, b = rng.standard_normal((N, H, W, C)), rng.standard_normal((K, K, C, O)), rng.standard_normal(O)
    g = rng.standard_normal((N, shape["OH"], shape["OW"], O))
    return x, k, b, g, pads, shape


def pytorch_conv_and_grads(x, k, b, g, S, P, D):
    xt, kt, bt = to_nchw(x).requires_grad_(), kernel_to_torch(k).requires_grad_(), torch.tensor(b).requires_grad_()
    z = torch.nn.functional.conv2d(xt, kt, bt, stride=S, padding=P, dilation=D)
    z.backward(to_nchw(g))
    return to_nhwc(z), to_nhwc(xt.grad), kt.grad.permute(2, 3, 1, 0).numpy(), bt.grad.numpy()


@pytest.mark.parametrize("N, H, W, C, O, K, S, P, D", GEOMETRIES)
def test_seed_equations_match_pytorch(N, H, W, C, O, K, S, P, D) -> None:
    """Eq. 4 (forward), 8 (bias), 9-10 (kernel, K + r//D taps cropped to K), 11-12 (input, r zeros appended)."""
    x, k, b, g, pads, shape = case(N, H, W, C, O, K, S, P, D)
    z, gx, gk, gb = pytorch_conv_and_grads(x, k, b, g, S, P, D)
    forward = forward_steps(x, k, b, S, pads, D)
    steps = backward_steps(x, k, g, S, pads, D)
    assert z.shape == (N, shape["OH"], shape["OW"], O)              # the output-size rule
    np.testing.assert_allclose(forward["z"], z, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(steps["db"], gb, rtol=RTOL)
    np.testing.assert_allclose(steps["dk"], gk, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(steps["dx"], gx, rtol=RTOL, atol=RTOL)
    assert steps["dk_full"].shape[:2] == (K + shape["r_h"] // D, K + shape["r_w"] // D)
    Hp, Wp = steps["x_pad"].shape[1:3]
    assert steps["dx_pad_short"].shape[1:3] == (Hp - shape["r_h"], Wp - shape["r_w"])
    assert not steps["dx_pad"][:, Hp - shape["r_h"]:].any()          # unread rows: zero gradient
    assert not steps["dx_pad"][:, :, Wp - shape["r_w"]:].any()


@pytest.mark.parametrize("N, H, W, C, O, K, S, P, D", GEOMETRIES)
def test_index_forms_of_eq_9_and_12(N, H, W, C, O, K, S, P, D) -> None:
    """dk[i,j] = sum_{s,t} g_z[s-iD, t-jD] x_pad[s,t] and dx_pad[s,t] = sum_{i,j} kappa[i,j] gamma[s+iD, t+jD]."""
    x, k, b, g, pads, shape = case(N, H, W, C, O, K, S, P, D)
    steps = backward_steps(x, k, g, S, pads, D)
    x_pad, g_z, gamma, kappa = steps["x_pad"], steps["g_z"], steps["gamma"], steps["kappa"]
    Hz, Wz = g_z.shape[1:3]
    dk = np.zeros_like(k)
    for i in range(K):
        for j in range(K):          # s - iD runs over g_z's rows: s = iD ... iD + Hz - 1
            dk[i, j] = np.einsum("nsto,nstc->co", g_z, x_pad[:, i * D:i * D + Hz, j * D:j * D + Wz])
    np.testing.assert_allclose(dk, steps["dk"], rtol=RTOL, atol=RTOL)
    Hs, Ws = steps["dx_pad_short"].shape[1:3]
    dx_pad_short = np.zeros_like(steps["dx_pad_short"])
    for i in range(K):
        for j in range(K):
            dx_pad_short += np.einsum("oc,nsto->nstc", kappa[i, j], gamma[:, i * D:i * D + Hs, j * D:j * D + Ws])
    np.testing.assert_allclose(dx_pad_short, steps["dx_pad_short"], rtol=RTOL, atol=RTOL)
    # and directly: output (p, q) sends g[p, q] k[i, j] to padded position (pS + iD, qS + jD)
    direct = np.zeros_like(x_pad)
    for p in range(shape["OH"]):
        for q in range(shape["OW"]):
            for i in range(K):
                for j in range(K):
                    direct[:, p * S + i * D, q * S + j * D] += g[:, p, q] @ k[i, j].T
    np.testing.assert_allclose(direct, steps["dx_pad"], rtol=RTOL, atol=RTOL)


@pytest.mark.parametrize("N, H, W, C, O, K, S, P, D", GEOMETRIES)
def test_im2col_products_match_pytorch(N, H, W, C, O, K, S, P, D) -> None:
    """z = cols @ W2 + b, dW = cols^T g, dx = crop(col2im(g W2^T)), db = last row of [cols, 1]^T g."""
    x, k, b, g, pads, shape = case(N, H, W, C, O, K, S, P, D)
    z, gx, gk, gb = pytorch_conv_and_grads(x, k, b, g, S, P, D)
    x_pad = forward_steps(x, k, b, S, pads, D)["x_pad"]
    cols = im2col(x_pad, K, S, D)                                     # (N*OH*OW, K*K*C)
    W2, g2 = k.reshape(K * K * C, O), g.reshape(-1, O)
    np.testing.assert_allclose((cols @ W2 + b).reshape(z.shape), z, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose((cols.T @ g2).reshape(k.shape), gk, rtol=RTOL, atol=RTOL)
    dx_pad = col2im(g2 @ W2.T, x_pad.shape, K, S, D)
    before, after = pads
    np.testing.assert_allclose(dx_pad[:, before:x_pad.shape[1] - after, before:x_pad.shape[2] - after], gx,
                               rtol=RTOL, atol=RTOL)
    ones = np.hstack([cols, np.ones((cols.shape[0], 1))])             # the bias's ones column
    np.testing.assert_allclose((ones.T @ g2)[-1], gb, rtol=RTOL)
    # col2im is the adjoint of im2col: <im2col(u), v> = <u, col2im(v)>
    u, v = np.random.default_rng(1).standard_normal(x_pad.shape), np.random.default_rng(2).standard_normal(cols.shape)
    assert np.isclose(np.vdot(im2col(u, K, S, D), v), np.vdot(u, col2im(v, x_pad.shape, K, S, D)))


@pytest.mark.parametrize("N, H, W, C, O, K, S, P, D", [row for row in GEOMETRIES if row[7] != "same"])
def test_input_gradient_is_a_transposed_convolution_with_output_padding_r(N, H, W, C, O, K, S, P, D) -> None:
    x, k, b, g, pads, shape = case(N, H, W, C, O, K, S, P, D)
    dx = torch.nn.functional.conv_transpose2d(to_nchw(g), kernel_to_torch(k), stride=S, padding=P, dilation=D,
                                              output_padding=(shape["r_h"], shape["r_w"]))
    np.testing.assert_allclose(to_nhwc(dx), backward_steps(x, k, g, S, pads, D)["dx"], rtol=RTOL, atol=RTOL)


@pytest.mark.parametrize("N, H, W, C, O, K, S, P, D", GEOMETRIES)
def test_minigrad_conv2d_agrees_with_the_equations(N, H, W, C, O, K, S, P, D) -> None:
    x, k, b, g, pads, _ = case(N, H, W, C, O, K, S, P, D)
    xt, kt, bt = (mg.tensor(a, requires_grad=True) for a in (x, k, b))
    z = F.conv2d(xt, kt, bt, stride=S, padding=P, dilation=D)
    z.backward(g)
    steps = backward_steps(x, k, g, S, pads, D)
    np.testing.assert_allclose(z.numpy(), forward_steps(x, k, b, S, pads, D)["z"], rtol=RTOL, atol=RTOL)
    for name, grad in (("dx", xt.grad), ("dk", kt.grad), ("db", bt.grad)):
        np.testing.assert_allclose(grad.numpy(), steps[name], rtol=RTOL, atol=RTOL, err_msg=name)


def test_worked_example_script_prints_every_step_and_agrees(capsys) -> None:
    main([])
    out = capsys.readouterr().out
    assert "OH = OW = 3, remainder r = 1" in out
    for line in ("x_pad (8, 8)", "g_z (5, 5)", "dk_full (4, 4)", "dk (3, 3)", "gamma (9, 9)",
                 "dx_pad_short (7, 7)", "dx_pad (8, 8)", "dx (6, 6)"):
        assert line in out, line
    assert out.rstrip().endswith("db: True")
    main(["--dilation", "2", "--size", "9", "--stride", "3", "--padding", "0"])
    assert capsys.readouterr().out.rstrip().endswith("db: True")


CONV_MD = ROOT / "docs" / "conv.md"


def test_the_shape_table_of_conv_md() -> None:
    """x (2, 5, 5, 3), k (3, 3, 3, 4), S = 2, P = 1: every row of the table, computed."""
    x, k, b = np.ones((2, 5, 5, 3)), np.ones((3, 3, 3, 4)), np.ones(4)
    steps = backward_steps(x, k, np.ones((2, 3, 3, 4)), 2, (1, 1), 1)
    cols = im2col(steps["x_pad"], 3, 2, 1)
    computed = {"`x_pad`": steps["x_pad"].shape, "`cols` (im2col, below)": cols.shape,
                "`z`": forward_steps(x, k, b, 2, (1, 1), 1)["z"].shape, "`g_z = dilate(g, 2)`": steps["g_z"].shape,
                "`gamma` (pad `K - 1 = 2`)": steps["gamma"].shape, "`kappa`": steps["kappa"].shape,
                "`dL/dx` (crop 1)": steps["dx"].shape, "`dL/dk`": steps["dk"].shape}
    text = CONV_MD.read_text()
    rows = dict(re.findall(r"^\| (.+?) \| (.+?) \|$", text[text.index("## Shapes at every step"):], re.M))
    for name, shape in computed.items():
        assert rows[name].startswith(str(shape)), name
    assert rows["`cols` (im2col, below)"].endswith(f"ones column {(cols.shape[0], cols.shape[1] + 1)}")
    assert rows["`convolve(kappa, gamma, 1)`"].startswith(str(steps["dx_pad_short"].shape))
    assert rows["`dk_full` (`convolve(g_z, x_pad, 1)`)"].startswith(f"{steps['dk_full'].shape[0]}x")


def test_conv_md_shows_the_arrays_the_worked_example_prints() -> None:
    """Every row of every array in 'Worked example 2' is the script's, number for number."""
    x = np.arange(1.0, 37.0).reshape(1, 6, 6, 1)
    k = np.random.default_rng(0).integers(-2, 3, (3, 3, 1, 1)).astype(float)
    g = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    steps = backward_steps(x, k, g, 2, (1, 1), 1)
    text = CONV_MD.read_text()
    section = text[text.index("## Worked example 2"):text.index("## Shapes at every step")]
    planes = [k[:, :, 0, 0]] + [steps[n][0, :, :, 0] for n in ("g", "g_z", "gamma", "dx_pad_short", "dx_pad", "dx")]
    planes += [steps[n][:, :, 0, 0] for n in ("dk_full", "dk", "kappa")]
    for plane in planes:
        for row in plane.astype(int):
            assert re.search(r"\[\s*" + r"\s+".join(map(str, row)) + r"\s*\]", section), row
    assert "`db = 1 + ... + 9 = 45`" in section and steps["db"][0] == 45


def test_worked_example_1_block_prints_what_conv_md_shows(capsys) -> None:
    run_python_blocks(CONV_MD, {})
    shown = next(code for _, code in blocks(CONV_MD, "text") if code.startswith("[[-4.0"))
    assert capsys.readouterr().out == shown
