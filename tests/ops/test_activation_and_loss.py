"""Activations and losses: PyTorch's choices at kinks, stability, dropout, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


def test_relu_gradient_at_zero_is_zero() -> None:
    x = mg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


def test_relu_passes_nan_and_blocks_infinite_gradients_like_pytorch() -> None:
    values, upstream = [float("nan"), -float("inf"), 1.0, -1.0], [1.0, 1.0, float("inf"), float("inf")]
    x, tx = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    y, ty = x.relu(), torch.relu(tx)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    y.backward(np.array(upstream, dtype=np.float32))
    ty.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())      # [0, 0, inf, 0]


def test_bce_with_logits_is_stable_at_large_logits() -> None:
    x = mg.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    t = mg.tensor([1.0, 0.0, 0.0, 1.0])
    with mg.detect_anomaly():
        loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [0, 0, 1e4, 1e4])
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 1, -1])


def test_bce_clamps_log_at_minus_100_like_pytorch() -> None:
    p = mg.tensor([0.0, 1.0, 1.0], requires_grad=True)
    t = mg.tensor([1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(p, t, reduction="none")
    expected = torch.nn.functional.binary_cross_entropy(torch.tensor([0.0, 1.0, 1.0]), torch.tensor([1.0, 0.0, 1.0]),
                                                        reduction="none")
    np.testing.assert_allclose(loss.numpy(), expected.numpy())
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))


@pytest.mark.parametrize("make, error, message", [
    (lambda: F.binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([0.0, 1.0])), ValueError,
     r"binary_cross_entropy: all elements of input should be between 0 and 1, got values in \[0.5, 1.5\]"),
    (lambda: F.binary_cross_entropy(mg.tensor([[0.5], [0.2]]), mg.tensor([0.0, 1.0])), ValueError,
     r"binary_cross_entropy: target shape \(2,\) differs from input shape \(2, 1\)"),
    (lambda: F.binary_cross_entropy_with_logits(mg.zeros(3), mg.zeros(3, 1)), ValueError,
     r"binary_cross_entropy_with_logits: target shape \(3, 1\) differs"),
    (lambda: F.mse_loss(mg.zeros(3), mg.zeros(4)), ValueError, r"mse_loss: target shape \(4,\) differs"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), mg.tensor([0, 3])), ValueError,
     r"cross_entropy: Target 3 is out of bounds for 3 classes: target values must be in \[0, 2\] or ignore_index \(-100\), got 3"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), mg.tensor([0.0, 1.0])), ValueError,
     r"cross_entropy: probability targets must be shaped like the input"),
    (lambda: F.nll_loss(mg.zeros(2, 3), mg.tensor([0.0, 1.0])), TypeError, r"nll_loss: target must hold integer"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), mg.tensor([0, 1, 2])), ValueError,
     r"cross_entropy: expected input \(N, C\) or \(N, H, W, C\)"),
    (lambda: F.mse_loss(mg.zeros(3), mg.zeros(3), reduction="avg"), ValueError, r"mse_loss: reduction must be one of"),
    (lambda: F.linear(mg.zeros(2, 3), mg.zeros(4, 5)), ValueError, r"linear: input \(2, 3\) and weight \(4, 5\)"),
    (lambda: F.dropout(mg.zeros(3), p=1.5), ValueError, r"dropout: probability p must be in \[0, 1\], got 1.5"),
])
def test_loss_and_layer_errors_name_the_function(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_dropout_is_inverted_seeded_and_off_in_eval() -> None:
    x = mg.ones(1000)
    mg.manual_seed(3)
    a = F.dropout(x, p=0.25).numpy()
    mg.manual_seed(3)
    b = F.dropout(x, p=0.25).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (a == 0).mean() < 0.3
    assert F.dropout(x, p=0.25, training=False) is x
    assert F.dropout(x, p=1.0).numpy().sum() == 0


def test_dropout_gradient_uses_the_same_mask() -> None:
    x = mg.ones(50, requires_grad=True)
    y = F.dropout(x, p=0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())


def test_softmax_rows_sum_to_one_even_for_huge_logits() -> None:
    y = F.softmax(mg.tensor([[1000.0, 0.0], [-1000.0, 5.0]]), dim=1)
    np.testing.assert_allclose(y.numpy().sum(axis=1), [1, 1])
    assert np.all(np.isfinite(F.log_softmax(mg.tensor([[1000.0, 0.0]]), dim=1).numpy()))


KINK_VALUES = [-1.0, 0.0, 0.5, 1.0, 2.0, float("nan")]


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (0.5, 0.5), (None, 1.0), (0.0, None),
                                       (float("nan"), 1.0), (0.0, float("nan"))])
def test_clamp_passes_no_gradient_at_its_bounds_like_torch_2_14(low, high) -> None:
    x, t = mg.tensor(KINK_VALUES, requires_grad=True), torch.tensor(KINK_VALUES, requires_grad=True)
    y, ty = x.clamp(low, high), t.clamp(low, high)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")    # 0 ** -1 = inf, as torch
@pytest.mark.parametrize("exponent", [0.0, 1.0, 2.0, 0.5, -1.0])
def test_pow_at_zero_has_torch_gradients_for_base_and_exponent(exponent) -> None:
    values = [0.0, 0.0, 2.0]
    x, t = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    (x ** exponent).sum().backward()
    (t ** exponent).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    e, te = mg.tensor([exponent] * 3, requires_grad=True), torch.tensor([exponent] * 3, requires_grad=True)
    x, t = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    (x ** e).sum().backward()
    (t ** te).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(e.grad.numpy(), te.grad.numpy())


def test_batch_norm_in_training_needs_more_than_one_value_per_channel() -> None:
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, "
                                         r"got input size \(1, 3\)"):
        nn.BatchNorm1d(3)(mg.ones(1, 3))
    assert nn.BatchNorm1d(3).eval()(mg.ones(1, 3)).shape == (1, 3)


@pytest.mark.parametrize("p, t, what", [([float("nan")], [1.0], "input"), ([0.5], [1.5], "target"),
                                        ([0.5], [-0.1], "target")])
def test_bce_refuses_nan_inputs_and_targets_outside_0_1_like_torch(p, t, what) -> None:
    with pytest.raises(RuntimeError):
        torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t))
    with pytest.raises(ValueError, match=f"all elements of {what} should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor(p), mg.tensor(t))
