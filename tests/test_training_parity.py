"""The same small CNN trained by minigrad and by PyTorch, float64: parameters must agree.

Layouts are converted explicitly: conv kernels (KH, KW, C, O) <-> (O, C, KH, KW), Linear
weights (in, out) <-> (out, in), and the first Linear's rows reordered because minigrad
flattens NHWC (h, w, c) while PyTorch flattens NCHW (c, h, w).
"""
from __future__ import annotations

import numpy as np
import torch

import minigrad as mg
from minigrad import nn, optim

PARAMETER_RTOL = 1e-6
STEPS = 20
N, SIDE, CLASSES = 8, 12, 5
FLAT_C, FLAT_SIDE = 6, 3                       # channels and side after the second pool


def make_models():
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, FLAT_C, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(FLAT_C * FLAT_SIDE ** 2, 16), nn.ReLU(), nn.Linear(16, CLASSES)).double()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, FLAT_C, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(FLAT_C * FLAT_SIDE ** 2, 16), torch.nn.ReLU(),
        torch.nn.Linear(16, CLASSES)).double()
    return ours, theirs


def flatten_rows_nchw_to_nhwc(weight: np.ndarray) -> np.ndarray:
    """torch Linear weight (out, C*H*W) -> ours (H*W*C, out)."""
    out = weight.shape[0]
    return weight.reshape(out, FLAT_C, FLAT_SIDE, FLAT_SIDE).transpose(2, 3, 1, 0).reshape(-1, out)


def torch_to_ours(name: str, value: np.ndarray) -> np.ndarray:
    if value.ndim == 4:
        return value.transpose(2, 3, 1, 0)                  # (O, C, KH, KW) -> (KH, KW, C, O)
    if name == "7.weight":
        return flatten_rows_nchw_to_nhwc(value)
    return value.T if value.ndim == 2 else value


def copy_weights(ours: nn.Module, theirs: torch.nn.Module) -> None:
    ours.load_state_dict({k: torch_to_ours(k, v.detach().numpy()) for k, v in theirs.state_dict().items()})


def train_both(phases: list, seed: int) -> None:
    """Run each phase's optimizer pair for STEPS identical batches, then compare parameters."""
    ours, theirs = make_models()
    copy_weights(ours, theirs)
    rng = np.random.default_rng(seed)
    for make_optimizers in phases:
        ours_opt, theirs_opt = make_optimizers(ours.parameters(), theirs.parameters())
        for _ in range(STEPS):
            x, y = rng.standard_normal((N, SIDE, SIDE, 1)), rng.integers(0, CLASSES, N)
            ours_opt.zero_grad()
            nn.CrossEntropyLoss()(ours(mg.tensor(x)), mg.tensor(y)).backward()
            ours_opt.step()
            theirs_opt.zero_grad()
            torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x).permute(0, 3, 1, 2)), torch.tensor(y)).backward()
            theirs_opt.step()
    expected = {k: torch_to_ours(k, v.detach().numpy()) for k, v in theirs.state_dict().items()}
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, expected[name], rtol=PARAMETER_RTOL, atol=1e-10, err_msg=name)


def sgd_nesterov(ours, theirs):
    return (optim.SGD(ours, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
            torch.optim.SGD(theirs, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3))


def sgd_dampened(ours, theirs):
    return (optim.SGD(ours, lr=0.03, momentum=0.8, dampening=0.3),
            torch.optim.SGD(theirs, lr=0.03, momentum=0.8, dampening=0.3))


def adam(ours, theirs):
    return (optim.Adam(ours, lr=1e-2, weight_decay=1e-4), torch.optim.Adam(theirs, lr=1e-2, weight_decay=1e-4))


def test_20_steps_of_sgd_nesterov_then_20_of_adam_match_pytorch() -> None:
    train_both([sgd_nesterov, adam], seed=0)


def test_sgd_with_dampening_matches_pytorch() -> None:
    train_both([sgd_dampened], seed=1)
