"""The twin of the newer layers: grouped and depthwise convs, ConvTranspose2d, the residual
digits model, the newer activations in a ModuleList. Round trips exact, float64 twins within
1e-8, compare() finds no divergence."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
from examples.digits_models import ResidualDigitsNet
from minigrad import interop, nn
from tests.interop.twins import assert_twins, randomise_buffers


class ActivationStack(nn.Module):
    """A ModuleList of the newer activations applied in turn between two Linears."""

    def __init__(self) -> None:
        super().__init__()
        self.inp, self.out = nn.Linear(5, 8), nn.Linear(8, 3)
        self.acts = nn.ModuleList([nn.GELU(), nn.SiLU(), nn.Hardswish(), nn.ELU(), nn.Softplus(), nn.Mish()])

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        x = self.inp(x)
        for act in self.acts:
            x = act(x)
        return self.out(x)


def grouped_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(4, 8, 3, padding=1, groups=2), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8),     # depthwise
                         nn.Conv2d(8, 6, 1), nn.Flatten(), nn.Linear(6 * 3 * 3, 2))


def transpose_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(),
                         nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1),
                         nn.ReLU(), nn.ConvTranspose2d(6, 2, 2, stride=1, dilation=2), nn.Flatten(),
                         nn.Linear(2 * 8 * 8, 2))


CASES = {
    "grouped": (grouped_net, (2, 6, 6, 4)),
    "transpose": (transpose_net, (2, 6, 6, 3)),
    "residual_digits": (ResidualDigitsNet, (2, 8, 8, 1)),
    "activations": (ActivationStack, (4, 5)),
}


@pytest.mark.parametrize("name", CASES)
def test_round_trip_twin_and_compare(name: str) -> None:
    make, shape = CASES[name]
    mg.manual_seed(0)
    mg.set_default_dtype(np.float64)
    try:
        model = make()
    finally:
        mg.set_default_dtype(np.float32)
    for p in model.parameters():                         # zero-initialised layers get real values
        p.data[...] = np.random.default_rng(1).normal(size=p.shape) * 0.3
    randomise_buffers(model)
    twin = interop.to_torch(model, shape).double()
    back = interop.from_torch(twin, shape)
    original, returned = model.state_dict(), back.state_dict()
    assert list(original) == list(returned)
    assert all(np.array_equal(original[k], returned[k]) for k in original)
    again = interop.to_torch(back, shape).state_dict()
    assert all(torch.equal(again[k], v) for k, v in twin.state_dict().items())
    assert_twins(model, twin, shape)
    x = np.random.default_rng(2).normal(size=shape)
    report = interop.compare(model, twin, x)
    assert report.first_divergent is None, str(report)
