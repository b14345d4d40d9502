"""compare(): a faithful twin reports no divergence; a broken layer is the first divergent one
in the order the computation ran, with the hint for the mistake that matches."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
from examples.casting.models import SimpLeNet
from examples.train_digits import make_model as digits_cnn
from minigrad import interop, nn
from tests.interop.models import RESIDUAL_INPUT, ResidualNet


@pytest.fixture(autouse=True)
def float64():
    mg.set_default_dtype(np.float64)
    yield
    mg.set_default_dtype(np.float32)


def _digits(seed: int = 0):
    mg.manual_seed(seed)
    model = digits_cnn().eval()
    x = np.random.default_rng(seed).uniform(0, 1, (4, 8, 8, 1))
    return model, x


def test_faithful_twins_report_no_divergence() -> None:
    model, x = _digits()
    report = interop.compare(model, None, x, target=np.array([0, 3, 9, 1]), loss="ce")
    assert report.first_divergent is None and report.hints == []
    assert [row.name for row in report.layers][:3] == ["0: Conv2d", "1: ReLU", "2: Conv2d"]
    assert report.loss[0] == pytest.approx(report.loss[1], abs=1e-12)
    assert "no divergence" in str(report) and ">>" not in str(report)
    mg.manual_seed(0)
    torch.manual_seed(0)
    residual = ResidualNet().eval()
    x = np.random.default_rng(1).uniform(-1, 1, RESIDUAL_INPUT)
    report = interop.compare(residual, None, x, target=np.zeros((2, 4)), loss="mse")
    assert report.first_divergent is None
    assert "block.shortcut: Conv2d" in [row.name for row in report.layers]
    net = SimpLeNet(8).double().eval()
    model = interop.from_torch(net, (3, 8, 8, 1))
    report = interop.compare(model, net, np.random.default_rng(2).uniform(0, 1, (3, 8, 8, 1)),
                             target=np.array([[1.0], [0.0], [1.0]]), loss="bce")
    assert report.first_divergent is None


def test_transposed_kernel_is_the_first_divergent_layer() -> None:
    model, x = _digits()
    twin = interop.to_torch(model, x.shape)
    with torch.no_grad():
        twin[2].weight.copy_(twin[2].weight.transpose(2, 3).clone())
    report = interop.compare(model, twin, x)
    assert report.first_divergent.name == "2: Conv2d" and report.first_quantity == "output"
    assert report.layers[0].grad_input.ok is False           # spoiled, but not blamed
    assert any(h.startswith("transposed kernel: 2.weight") for h in report.hints)
    assert ">> 2: Conv2d" in str(report)


def test_dropped_flatten_permutation_is_pinpointed() -> None:
    model, x = _digits()
    twin = interop.to_torch(model, x.shape)
    with torch.no_grad():
        twin[7].weight.copy_(torch.from_numpy(model[7].weight.data.T.copy()))
    report = interop.compare(model, twin, x)
    assert report.first_divergent.name == "7: Linear" and report.first_quantity == "output"
    assert all(row.output.ok for row in report.layers[:7])
    assert any(h.startswith("flatten order: 7 follows a Flatten of an (H, W, C) = (4, 4, 32)") for h in report.hints)


def test_weights_copied_without_conversion_are_recognised() -> None:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 3, 3), nn.ReLU())
    x = np.random.default_rng(0).uniform(-1, 1, (2, 5, 5, 3))
    twin = interop.to_torch(model, x.shape)
    with torch.no_grad():
        twin[0].weight.copy_(torch.from_numpy(model[0].weight.data.copy()))   # (3,3,3,3): loads silently
    report = interop.compare(model, twin, x)
    assert report.first_divergent.name == "0: Conv2d"
    assert any(h.startswith("layout not converted: 0.weight") for h in report.hints)


class WrongReluGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x >= 0) * 2.0                          # a wrong VJP


class BrokenRelu(torch.nn.Module):
    def forward(self, x):
        return WrongReluGradient.apply(x)


def test_a_wrong_backward_is_blamed_not_the_layers_before_it() -> None:
    model, x = _digits()
    twin = interop.to_torch(model, x.shape)
    twin[3] = BrokenRelu()
    report = interop.compare(model, twin, x)
    assert all(row.output.ok for row in report.layers)
    assert report.first_divergent.name == "3: ReLU"
    assert report.first_quantity == "gradient w.r.t. its input"
    assert not report.layers[0].param_grads["weight"].ok    # spoiled upstream, not blamed


class LastMaxPool(torch.nn.Module):
    """2x2 max pooling whose gradient goes to the *last* maximum of a window (flip, pool, flip)."""

    def forward(self, x):
        return torch.nn.functional.max_pool2d(x.flip(2, 3), 2).flip(2, 3)


def test_max_pool_tie_rule_gets_its_hint() -> None:
    mg.manual_seed(0)
    model = nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 1))
    blocks = np.random.default_rng(0).uniform(-1, 1, (2, 2, 2, 2))
    x = blocks.repeat(2, axis=1).repeat(2, axis=2)           # every 2x2 window holds one value 4 times
    twin = interop.to_torch(model, x.shape)
    twin[0] = LastMaxPool()
    report = interop.compare(model, twin, x)
    assert report.first_divergent.name == "0: MaxPool2d" and report.first_quantity == "gradient w.r.t. its input"
    assert report.layers[0].output.ok
    assert any(h.startswith("max-pool ties") for h in report.hints)


def test_float32_twin_of_a_float64_model_gets_the_precision_hint() -> None:
    model, x = _digits()
    twin = interop.to_torch(model, x.shape).float()
    report = interop.compare(model, twin, x.astype(np.float32), atol=1e-12, rtol=1e-12)
    assert report.first_divergent is not None
    assert any(h.startswith("float32 vs float64") for h in report.hints)


def test_compare_rejects_an_unknown_loss_and_a_missing_target() -> None:
    model, x = _digits()
    with pytest.raises(ValueError, match=r"compare: loss must be one of"):
        interop.compare(model, None, x, loss="hinge")
    with pytest.raises(ValueError, match=r"compare: loss='mse' needs a target"):
        interop.compare(model, None, x, loss="mse")


class ClampedSigmoid(torch.nn.Module):
    """A 'safe' sigmoid that keeps p in [1e-7, 1 - 1e-7]: differs from Sigmoid only when saturated."""

    def forward(self, x):
        return torch.sigmoid(x).clamp(1e-7, 1 - 1e-7)


def test_saturated_bce_gets_the_clamp_hint() -> None:
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()).double()
    model[0].weight.data[...] = 100.0                       # p = 1.0 exactly for the first sample
    twin = interop.to_torch(model, (2, 2))
    twin[1] = ClampedSigmoid()
    report = interop.compare(model, twin, np.array([[1.0, 1.0], [0.1, -0.2]]),
                             target=np.array([[0.0], [1.0]]), loss="bce")
    assert report.first_divergent.name == "1: Sigmoid"
    assert any(h.startswith("BCE clamp") for h in report.hints)
