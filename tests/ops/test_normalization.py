"""The batch_norm op against its plain-formula reference, and the op and BatchNorm1d/2d against
PyTorch over several training steps, and eval."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.ops import normalization
from minigrad.ops.normalization import BatchNorm, batch_norm_reference, batch_norm_vjp_reference

STEPS = 12
ATOL = 1e-5            # float32, values of order 1
REFERENCE_TOL = 1e-12   # float64 (relative and absolute): the op sums and multiplies in another order
FLOAT32_ATOL = 1e-5     # float32 op against the float64 reference, values of order 1


def _to_torch_layout(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2) if x.ndim == 4 else x


def _from_torch_layout(y: torch.Tensor) -> torch.Tensor:
    return y.permute(0, 2, 3, 1) if y.ndim == 4 else y


def _close(ours, theirs, atol=ATOL) -> None:
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(ours.numpy(), theirs, atol=atol, rtol=1e-5)


def _train_both(ours: nn.Module, theirs: torch.nn.Module, shape: tuple, steps: int = STEPS) -> None:
    """SGD steps on both layers with the same batches and output gradients; compare everything."""
    rng = np.random.default_rng(0)
    opt = optim.SGD(ours.parameters(), lr=0.1) if list(ours.parameters()) else None
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1) if list(theirs.parameters()) else None
    for _ in range(steps):
        x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y = ours(xm)
        y.backward(mg.tensor(g))
        yt = _from_torch_layout(theirs(_to_torch_layout(xt)))
        yt.backward(torch.tensor(g))
        assert y.dtype == np.float32 and xm.grad.dtype == np.float32
        _close(y, yt)
        _close(xm.grad, xt.grad)
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            _close(p.grad, tp.grad, atol=1e-4)        # sums over up to 250 rows
        if opt is not None:
            opt.step(), topt.step(), opt.zero_grad(), topt.zero_grad()
        if ours.running_mean is not None:
            _close(ours.running_mean, theirs.running_mean)
            _close(ours.running_var, theirs.running_var)


@pytest.mark.parametrize("kind, shape", [("2d", (5, 7, 6, 4)), ("1d", (9, 4))])
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False},
                                     {"track_running_stats": False}, {"momentum": 0.3, "eps": 1e-3}])
def test_batch_norm_training_steps_then_eval_match_torch(kind, shape, options):
    ours = (nn.BatchNorm2d if kind == "2d" else nn.BatchNorm1d)(4, **options)
    theirs = (torch.nn.BatchNorm2d if kind == "2d" else torch.nn.BatchNorm1d)(4, **options)
    _train_both(ours, theirs, shape)
    ours.eval(), theirs.eval()
    _train_both(ours, theirs, shape, steps=2)
    assert ("weight" in ours.state_dict()) == options.get("affine", True)
    assert ("running_mean" in ours.state_dict()) == options.get("track_running_stats", True)


# the op's passes run on rows of WIDE_ROW values: C dividing WIDE_ROW with and without leftover
# rows, C not dividing it, C wider than it, and an (N, C) batch
REFERENCE_SHAPES = [(2, 4, 4, 32), (3, 5, 7, 16), (2, 3, 5, 48), (2, 3, 3, 3), (5, 2, 1024), (37, 6)]


def _reference_case(shape: tuple, dtype):
    rng = np.random.default_rng(3)
    C = shape[-1]
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    weight, bias = (rng.random(C) + 0.5).astype(dtype), rng.standard_normal(C).astype(dtype)
    running_mean, running_var = rng.standard_normal(C).astype(dtype), (rng.random(C) + 0.5).astype(dtype)
    return x, g, weight, bias, running_mean, running_var


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", REFERENCE_SHAPES)
@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, REFERENCE_TOL, REFERENCE_TOL),
                                              (np.float32, 1e-5, FLOAT32_ATOL)])
def test_batch_norm_op_matches_the_reference(shape, training, dtype, rtol, atol):
    x, g, weight, bias, running_mean, running_var = _reference_case(shape, dtype)
    attrs = dict(training=training, momentum=0.3, eps=1e-3)
    y_ref, mean_ref, var_ref = batch_norm_reference(*(a.astype(np.float64) for a in (
        x, weight, bias, running_mean, running_var)), **attrs)
    grads_ref = batch_norm_vjp_reference(*(a.astype(np.float64) for a in (g, x, weight, running_mean, running_var)),
                                         training=training, eps=1e-3)
    mean, var = running_mean.copy(), running_var.copy()
    y, saved = BatchNorm.forward(x, weight, bias, mean, var, **attrs)
    grads = BatchNorm.vjp(g, saved, (True,) * 5)
    assert y.dtype == dtype and all(gi.dtype == dtype for gi in grads[:3])
    np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(mean, mean_ref, rtol=rtol, atol=atol)     # updated in place
    np.testing.assert_allclose(var, var_ref, rtol=rtol, atol=atol)
    for ours, ref in zip(grads[:3], grads_ref):
        np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol * np.sqrt(x.size))  # sums over rows
    assert grads[3:] == (None, None)


def test_batch_norm_per_channel_pass_covers_wide_and_leftover_rows():
    rows = np.arange(40 * 48, dtype=np.float64).reshape(40, 48)        # C=48: 10 rows make a 480-wide row; 40 rows: 4 wide, 0 left
    vector = np.arange(48, dtype=np.float64)
    np.testing.assert_array_equal(normalization.per_channel(np.subtract, rows, vector), rows - vector)
    np.testing.assert_array_equal(normalization.per_channel(np.multiply, rows[:37], vector), rows[:37] * vector)   # 37: 3 wide, 7 left


def test_batch_norm_sum_backward_gives_torch_gradients():
    """y.sum().backward() hands the VJP a broadcast (stride-0) gradient: the closed form gives ~0."""
    x = np.random.default_rng(1).standard_normal((4, 3, 3, 2)).astype(np.float32)
    ours, theirs = nn.BatchNorm2d(2), torch.nn.BatchNorm2d(2)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xm).sum().backward()
    theirs(_to_torch_layout(xt)).sum().backward()
    _close(xm.grad, xt.grad)
    _close(ours.weight.grad, theirs.weight.grad)
    _close(ours.bias.grad, theirs.bias.grad)


def test_batch_norm_float64_gradcheck_through_the_running_stats_update():
    x = mg.tensor(np.random.default_rng(2).standard_normal((6, 3)), requires_grad=True)
    w, b = mg.tensor(np.linspace(0.5, 2, 3), requires_grad=True), mg.tensor(np.zeros(3), requires_grad=True)
    mean, var = mg.zeros(3, dtype=np.float64), mg.ones(3, dtype=np.float64)
    assert mg.gradcheck(lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=True), [x, w, b])
    assert not np.allclose(mean.numpy(), 0)                 # every call updated the running stats


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_refuses_mixed_dtypes_like_torch(training):
    x = mg.ones(4, 2)
    with pytest.raises(RuntimeError, match=r"batch_norm: expected all arguments to have the same dtype, "
                                           r"got input float32, weight float64"):
        F.batch_norm(x, mg.zeros(2), mg.ones(2), mg.ones(2, dtype=np.float64), mg.zeros(2), training=training)
    with pytest.raises(RuntimeError, match=r"running_var float64"):
        F.batch_norm(x, mg.zeros(2), mg.ones(2, dtype=np.float64), training=training)
    with pytest.raises(RuntimeError):
        torch.nn.functional.batch_norm(torch.ones(4, 2), torch.zeros(2), torch.ones(2, dtype=torch.float64),
                                       training=training)


def test_batch_norm_refuses_one_value_per_channel_when_training():
    with pytest.raises(ValueError, match=r"batch_norm: Expected more than 1 value per channel.*\(1, 3\)"):
        nn.BatchNorm1d(3)(mg.ones(1, 3))
    nn.BatchNorm1d(3).eval()(mg.ones(1, 3))                # eval uses the running stats: fine


@pytest.mark.parametrize("call, message", [
    (lambda x: F.batch_norm(x, None, None), "running_mean and running_var are needed when not training"),
    (lambda x: F.batch_norm(x, mg.zeros(3), None, training=True), "give both running_mean and running_var"),
    (lambda x: F.batch_norm(x, None, None, mg.ones(2), training=True), r"weight must have shape \(3,\)"),
    (lambda x: F.batch_norm(x.sum(dim=0), None, None, training=True), "at least 2 dims"),
])
def test_batch_norm_errors_name_the_function_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call(mg.ones(4, 3))
