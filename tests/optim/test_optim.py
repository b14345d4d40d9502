"""Optimizers: one-step formulas, errors, state dicts, StepLR."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import nn, optim


def one_parameter(value=(1.0, -2.0), grad=(0.5, 0.25)):
    p = nn.Parameter(mg.tensor(list(value), dtype=np.float64))
    p.grad = mg.tensor(list(grad), dtype=np.float64)
    return p


def test_adam_first_step_moves_each_weight_by_lr() -> None:
    p = one_parameter()
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.numpy(), [0.9, -2.1], rtol=1e-6)


def test_optimizers_agree_with_pytorch_over_several_steps_with_groups() -> None:
    ours_p, theirs_p = one_parameter(), torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    ours_q, theirs_q = one_parameter((3.0,), (1.0,)), torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    ours = optim.SGD([{"params": [ours_p]}, {"params": [ours_q], "lr": 0.01}], lr=0.1, momentum=0.5)
    theirs = torch.optim.SGD([{"params": [theirs_p]}, {"params": [theirs_q], "lr": 0.01}], lr=0.1, momentum=0.5)
    for step in range(3):
        for p, t in ((ours_p, theirs_p), (ours_q, theirs_q)):
            grad = np.sin(p.numpy() + step)
            p.grad = mg.tensor(grad)
            t.grad = torch.tensor(grad)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(ours_p.numpy(), theirs_p.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_q.numpy(), theirs_q.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD([p], lr=-0.1), r"SGD: invalid learning rate -0.1"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=-0.9), r"SGD: invalid momentum -0.9"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), r"Nesterov momentum requires a momentum"),
    (lambda p: optim.Adam([p], lr=-1), r"Adam: invalid learning rate -1"),
    (lambda p: optim.Adam([p], betas=(0.9, 1.0)), r"Adam: invalid betas"),
    (lambda p: optim.SGD([], lr=0.1), r"SGD: got an empty parameter list"),
])
def test_bad_hyperparameters_raise_value_error(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make(one_parameter())


def test_zero_grad_sets_to_none_by_default_or_zeroes() -> None:
    p = one_parameter()
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad.numpy().tolist() == [0, 0]
    opt.zero_grad()
    assert p.grad is None


def test_optimizer_state_dict_round_trip_continues_identically() -> None:
    a, b = one_parameter(), one_parameter()
    opt_a, opt_b = optim.Adam([a], lr=0.1), optim.Adam([b], lr=0.5)
    opt_a.step()
    opt_b.load_state_dict(opt_a.state_dict())
    b.data[...] = a.data
    for p in (a, b):
        p.grad = mg.tensor([0.3, -0.1], dtype=np.float64)
    opt_a.step()
    opt_b.step()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert opt_b.param_groups[0]["lr"] == 0.1


def test_step_lr_decays_every_step_size_epochs() -> None:
    opt = optim.SGD([one_parameter()], lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]


def test_step_bumps_parameter_versions() -> None:
    p = one_parameter()
    optim.SGD([p], lr=0.1).step()
    assert p._version == 1
