"""conv2d's dispatcher (``conv_fast.choose_algorithm``) and the op through its Winograd path,
held to the readable reference (``conv2d_reference``, ``conv2d_vjp_reference``) and PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.functional as F
from minigrad.ops import conv_fast, winograd
from minigrad.ops.conv import conv2d_reference, conv2d_vjp_reference

FLOAT64_RELATIVE_ERROR = 1e-10
# F(4x4, 3x3) in float32, max abs error / max |ref| against the float64 reference: 3.3e-6 on
# winograd's own table, up to 1.2e-5 on the benchmark shapes (PyTorch's own: up to 2.5e-6)
FLOAT32_RELATIVE_ERROR = 2e-5


@pytest.mark.parametrize("x_shape, w_shape, stride, dilation, groups, out, expected", [
    ((64, 32, 32, 32), (3, 3, 32, 64), (1, 1), (1, 1), 1, (32, 32), "winograd"),  # bench 1st
    ((32, 300, 300, 1), (3, 3, 1, 16), (1, 1), (1, 1), 1, (300, 300), "im2col"),  # 1 channel
    ((64, 28, 28, 1), (3, 3, 1, 16), (1, 1), (1, 1), 1, (26, 26), "im2col"),
    ((64, 32, 32, 16), (3, 3, 16, 32), (2, 2), (1, 1), 1, (16, 16), "im2col"),    # stride 2
    ((32, 14, 14, 16), (5, 5, 16, 32), (1, 1), (1, 1), 1, (14, 14), "im2col"),    # 5x5
    ((32, 14, 14, 16), (3, 3, 16, 32), (1, 1), (1, 1), 1, (14, 14), "im2col"),    # 16 channels
    ((64, 28, 28, 16), (3, 3, 16, 16), (1, 1), (1, 1), 1, (28, 28), "winograd"),  # residual's
    ((64, 16, 16, 16), (3, 3, 16, 32), (1, 1), (1, 1), 1, (16, 16), "winograd"),  # 16 ch, 16x16
    ((64, 14, 14, 32), (3, 3, 32, 32), (1, 1), (1, 1), 1, (14, 14), "winograd"),  # 32 ch, 14x14
    ((64, 12, 12, 32), (3, 3, 32, 32), (1, 1), (1, 1), 1, (12, 12), "im2col"),
    ((64, 28, 28, 8), (3, 3, 8, 16), (1, 1), (1, 1), 1, (28, 28), "im2col"),      # 8 channels
    ((8, 8, 8, 64), (3, 3, 64, 64), (1, 1), (1, 1), 1, (8, 8), "im2col"),         # small image
    ((8, 32, 32, 64), (3, 3, 64, 64), (1, 1), (2, 2), 1, (28, 28), "im2col"),     # dilation
    ((8, 32, 32, 64), (3, 3, 32, 64), (1, 1), (1, 1), 2, (32, 32), "im2col"),     # groups
])
def test_dispatcher_choice(x_shape, w_shape, stride, dilation, groups, out, expected) -> None:
    x, w = np.empty(x_shape, np.float32), np.empty(w_shape, np.float32)
    assert conv_fast.choose_algorithm(x, w, stride, dilation, groups, out) == expected


@pytest.mark.parametrize("g_shape, w_shape, expected", [
    ((32, 300, 300, 16), (3, 3, 1, 16), 1),      # scatter, 104 MB of patches: 3.2 MB blocks
    ((64, 32, 32, 16), (3, 3, 3, 16), 64),       # scatter, 7 MB of patches: the whole batch
    ((64, 26, 26, 16), (3, 3, 1, 16), 64),
    ((64, 16, 16, 32), (3, 3, 16, 32), 32),      # per tap: 1 MB of output gradient
    ((32, 14, 14, 32), (5, 5, 16, 32), 32),
])
def test_input_gradient_block_sizes(g_shape, w_shape, expected) -> None:
    g, w = np.empty(g_shape, np.float32), np.empty(w_shape, np.float32)
    assert conv_fast.images_per_block(g, w) == expected


@pytest.fixture
def winograd_everywhere(monkeypatch):
    """Route small 3x3 stride-1 convs to Winograd, and record which winograd functions ran."""
    monkeypatch.setattr(conv_fast, "WINOGRAD_MIN_OUTPUT_PIXELS", {1: 1})
    calls = []
    for name in ("forward", "backward", "input_grad", "weight_grad"):
        def spy(*args, _original=getattr(winograd, name), _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)
        monkeypatch.setattr(winograd, name, spy)
    monkeypatch.setattr(conv_fast, "forward", lambda *args: pytest.fail("im2col ran"))
    return calls


def problem(dtype, N=2, H=7, W=6, C=3, O=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, H, W, C)), rng.standard_normal((3, 3, C, O)),
            rng.standard_normal(O), dtype)


def relative_error(result, expected) -> float:
    return float(np.abs(result - expected).max() / np.abs(expected).max())


@pytest.mark.parametrize("dtype, bound", [(np.float64, FLOAT64_RELATIVE_ERROR),
                                          (np.float32, FLOAT32_RELATIVE_ERROR)])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("padding", [1, 0, "same"])
@pytest.mark.parametrize("summed", [True, False])
def test_winograd_path_matches_the_reference(winograd_everywhere, dtype, bound, with_bias,
                                             padding, summed) -> None:
    x, w, b, _ = problem(dtype)
    xt, wt = mg.tensor(x, dtype=dtype, requires_grad=True), mg.tensor(w, dtype=dtype, requires_grad=True)
    bt = mg.tensor(b, dtype=dtype, requires_grad=True) if with_bias else None
    y = F.conv2d(xt, wt, bt, padding=padding)
    g = np.ones(y.shape) if summed else np.random.default_rng(1).standard_normal(y.shape)
    y.sum().backward() if summed else y.backward(mg.tensor(g, dtype=dtype))
    assert winograd_everywhere == ["forward", "backward"]
    y_ref = conv2d_reference(x, w, b if with_bias else None, padding=padding)
    gx_ref, gw_ref, gb_ref = conv2d_vjp_reference(g, x, w, padding=padding)
    results = [(y, y_ref), (xt.grad, gx_ref), (wt.grad, gw_ref)] + ([(bt.grad, gb_ref)] if with_bias else [])
    for result, expected in results:
        assert result.dtype == dtype and result.shape == expected.shape
        assert relative_error(result.numpy(), expected) < bound


@pytest.mark.parametrize("needs, expected_calls", [
    ((False, True), ["forward", "weight_grad"]),                    # a first layer: only gw
    ((True, False), ["forward", "input_grad", "forward"]),          # input_grad is a forward
])
def test_winograd_path_computes_only_the_gradients_asked_for(winograd_everywhere, needs,
                                                             expected_calls) -> None:
    x, w, b, dtype = problem(np.float64)
    xt, wt = (mg.tensor(a, requires_grad=r) for a, r in zip((x, w), needs))
    bt = mg.tensor(b, requires_grad=True)
    F.conv2d(xt, wt, bt, padding=1).sum().backward()
    assert winograd_everywhere == expected_calls
    gx_ref, gw_ref, gb_ref = conv2d_vjp_reference(np.ones((2, 7, 6, 4)), x, w, padding=1)
    for tensor, needed, expected in [(xt, needs[0], gx_ref), (wt, needs[1], gw_ref)]:
        if needed:
            assert relative_error(tensor.grad.numpy(), expected) < FLOAT64_RELATIVE_ERROR
        else:
            assert tensor.grad is None
    assert relative_error(bt.grad.numpy(), gb_ref) < FLOAT64_RELATIVE_ERROR


def test_winograd_path_matches_pytorch(winograd_everywhere) -> None:
    x, w, b, _ = problem(np.float64)
    g = np.random.default_rng(2).standard_normal((2, 7, 6, 4))
    xt, wt, bt = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
    F.conv2d(xt, wt, bt, padding=1).backward(mg.tensor(g))
    tx = torch.tensor(x).permute(0, 3, 1, 2).requires_grad_()
    tw = torch.tensor(w).permute(3, 2, 0, 1).requires_grad_()
    tb = torch.tensor(b).requires_grad_()
    ty = torch.nn.functional.conv2d(tx, tw, tb, padding=1)
    ty.backward(torch.tensor(g).permute(0, 3, 1, 2))
    np.testing.assert_allclose(F.conv2d(xt, wt, bt, padding=1).numpy(),
                               ty.detach().permute(0, 2, 3, 1).numpy(), rtol=1e-10, atol=1e-10)
    for ours, theirs in [(xt.grad, tx.grad.permute(0, 2, 3, 1)), (wt.grad, tw.grad.permute(2, 3, 1, 0)),
                         (bt.grad, tb.grad)]:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-10)


def test_a_routed_benchmark_sized_layer_runs_winograd_and_matches_the_reference() -> None:
    """No injected thresholds: 16x16x32 -> 32 is the smallest shape the dispatcher routes."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 16, 16, 32)), rng.standard_normal((3, 3, 32, 32))
    assert conv_fast.choose_algorithm(x, w, (1, 1), (1, 1), 1, (16, 16)) == "winograd"
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, padding=1)
    y.sum().backward()
    gx_ref, gw_ref, _ = conv2d_vjp_reference(np.ones((1, 16, 16, 32)), x, w, padding=1)
    for result, expected in [(y, conv2d_reference(x, w, padding=1)), (xt.grad, gx_ref), (wt.grad, gw_ref)]:
        assert relative_error(result.numpy(), expected) < FLOAT64_RELATIVE_ERROR


@pytest.mark.parametrize("needs", [(True, True), (False, True), (True, False)])
def test_winograd_path_on_an_empty_batch_matches_pytorch(winograd_everywhere, needs) -> None:
    torch = pytest.importorskip("torch")
    w_np = np.random.default_rng(0).standard_normal((3, 3, 3, 4)).astype(np.float32)
    x = mg.zeros(0, 6, 6, 3, requires_grad=needs[0])
    w = mg.tensor(w_np, requires_grad=needs[1])
    b = mg.zeros(4, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    y.sum().backward()
    assert winograd_everywhere[0] == "forward"
    xt = torch.zeros(0, 3, 6, 6, requires_grad=needs[0])
    wt = torch.tensor(np.ascontiguousarray(w_np.transpose(3, 2, 0, 1)), requires_grad=needs[1])
    bt = torch.zeros(4, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, padding=1)
    yt.sum().backward()
    assert y.shape == tuple(yt.permute(0, 2, 3, 1).shape)
    if needs[0]:
        assert x.grad.shape == tuple(xt.grad.permute(0, 2, 3, 1).shape)
    if needs[1]:
        assert w.grad.dtype == mg.float32
        np.testing.assert_array_equal(w.grad.numpy(), wt.grad.permute(2, 3, 1, 0).numpy())
    np.testing.assert_array_equal(b.grad.numpy(), bt.grad.numpy())
