"""Learning-rate schedulers: PyTorch's learning rates (and momenta) step for step, state dicts."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim import lr_scheduler

RTOL = 1e-12
STEPS, RESUME_AT = 16, 7
METRICS = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.89, 0.9, 0.9, 0.95, 0.97, 0.7, 0.71, 0.72, 0.73, 0.74]


def lambda_schedule(epoch: int) -> float:
    return 0.9 ** epoch


def warmup_then_cosine(lib, opt):
    schedulers = lib.optim.lr_scheduler
    return schedulers.SequentialLR(opt, [schedulers.LinearLR(opt, start_factor=0.25, total_iters=4),
                                         schedulers.CosineAnnealingLR(opt, T_max=6, eta_min=0.01)],
                                   milestones=[4])


def three_stages(lib, opt):
    schedulers = lib.optim.lr_scheduler
    return schedulers.SequentialLR(opt, [schedulers.LinearLR(opt, 0.5, 1.0, total_iters=2),
                                         schedulers.ExponentialLR(opt, gamma=0.8),
                                         schedulers.StepLR(opt, step_size=2, gamma=0.5)],
                                   milestones=[3, 8])


# (name, optimizer, make(lib, optimizer)); lib is torch or minigrad, so one line builds both.
CASES = [
    ("StepLR", "SGD", lambda lib, o: lib.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    ("MultiStepLR", "SGD", lambda lib, o: lib.optim.lr_scheduler.MultiStepLR(o, [2, 5, 5, 9], gamma=0.3)),
    ("StepLR-every-epoch", "Adam", lambda lib, o: lib.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.9)),
    ("MultiStepLR-unsorted", "Adam", lambda lib, o: lib.optim.lr_scheduler.MultiStepLR(o, [8, 3], gamma=0.5)),
    ("ExponentialLR", "Adam", lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.85)),
    ("ExponentialLR-growing", "SGD", lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, gamma=1.05)),
    ("Cosine", "SGD", lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5)),
    ("Cosine-eta_min", "Adam", lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.02)),
    ("LambdaLR", "SGD", lambda lib, o: lib.optim.lr_scheduler.LambdaLR(o, lambda_schedule)),
    ("LambdaLR-per-group", "SGD", lambda lib, o: lib.optim.lr_scheduler.LambdaLR(
        o, [lambda_schedule, lambda e: 1 / (1 + e)])),
    ("LinearLR", "SGD", lambda lib, o: lib.optim.lr_scheduler.LinearLR(o)),
    ("LinearLR-decay", "Adam", lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, 1.0, 0.1, total_iters=10)),
    ("OneCycle-cos", "SGD", lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=STEPS)),
    ("OneCycle-linear-adam", "Adam", lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(
        o, max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=4, pct_start=0.25, anneal_strategy="linear",
        base_momentum=0.8, max_momentum=0.9, div_factor=10.0, final_div_factor=100.0)),
    ("OneCycle-three-phase", "SGD", lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.3, total_steps=STEPS + 2, three_phase=True, cycle_momentum=False)),
    ("Plateau", "SGD", lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(o, patience=1)),
    ("Plateau-max-abs", "Adam", lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(
        o, mode="max", factor=0.5, patience=0, threshold=0.01, threshold_mode="abs", cooldown=2,
        min_lr=[0.0, 0.004])),
    ("Plateau-cooldown", "SGD", lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(
        o, factor=0.2, patience=2, cooldown=1, min_lr=1e-3, eps=1e-3)),
    ("Sequential", "SGD", warmup_then_cosine),
    ("Sequential-3", "Adam", three_stages),
]


def make_optimizer(lib, name: str):
    params = [nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(1))] if lib is mg else \
             [torch.ones(2, requires_grad=True), torch.ones(1, requires_grad=True)]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}]
    extra = dict(momentum=0.9) if name == "SGD" else {}
    return getattr(lib.optim, name)(groups, lr=0.1, **extra)


def schedule(lib, optimizer_name: str, make) -> tuple:
    opt = make_optimizer(lib, optimizer_name)
    return opt, make(lib, opt)


def advance(opt, scheduler, step: int) -> None:
    opt.step()
    if "Plateau" in type(scheduler).__name__:
        scheduler.step(METRICS[step])
    else:
        scheduler.step()


def momenta(opt) -> list:
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


@pytest.mark.parametrize("name, optimizer_name, make", CASES, ids=[c[0] for c in CASES])
def test_scheduler_follows_pytorch_and_resumes_from_a_checkpoint(name, optimizer_name, make, tmp_path: Path) -> None:
    opt, ours = schedule(mg, optimizer_name, make)
    their_opt, theirs = schedule(torch, optimizer_name, make)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=RTOL)
    for step in range(STEPS):
        if step == RESUME_AT:
            mg.save({"optimizer": opt.state_dict(), "scheduler": ours.state_dict()}, tmp_path / "ck.npz")
            checkpoint = mg.load(tmp_path / "ck.npz")
            opt, ours = schedule(mg, optimizer_name, make)
            opt.load_state_dict(checkpoint["optimizer"])
            ours.load_state_dict(checkpoint["scheduler"])
        advance(opt, ours, step)
        advance(their_opt, theirs, step)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=RTOL), f"step {step}"
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(ours.get_last_lr(), rel=RTOL)
        assert momenta(opt) == pytest.approx(momenta(their_opt), rel=RTOL), f"step {step}"
        assert ours.last_epoch == theirs.last_epoch


@pytest.mark.parametrize("name, optimizer_name, make", CASES, ids=[c[0] for c in CASES])
def test_state_dict_keys_are_pytorchs_but_for_its_private_flags(name, optimizer_name, make) -> None:
    _, ours = schedule(mg, optimizer_name, make)
    _, theirs = schedule(torch, optimizer_name, make)
    private = {"_is_initial", "_get_lr_called_within_step"}
    assert set(ours.state_dict()) == set(theirs.state_dict()) - private


def test_multistep_milestones_are_counted_like_pytorchs() -> None:
    _, ours = schedule(mg, "SGD", CASES[1][2])
    assert ours.state_dict()["milestones"] == {2: 1, 5: 2, 9: 1}


def test_loading_another_objects_state_names_the_unexpected_keys() -> None:
    opt, ours = schedule(mg, "SGD", CASES[0][2])
    with pytest.raises(ValueError, match=r"StepLR.load_state_dict: unexpected keys \['param_groups', 'state'\]"):
        ours.load_state_dict(opt.state_dict())


def test_lambda_lr_saves_a_callable_objects_attributes_but_not_functions() -> None:
    class Warmup:
        def __init__(self, epochs):
            self.epochs = epochs

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.epochs)

    opt = make_optimizer(mg, "SGD")
    scheduler = lr_scheduler.LambdaLR(opt, [Warmup(4), lambda_schedule])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"epochs": 4}, None]
    other = lr_scheduler.LambdaLR(make_optimizer(mg, "SGD"), [Warmup(9), lambda_schedule])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].epochs == 4


def test_stepping_the_scheduler_before_the_optimizer_warns_like_pytorch() -> None:
    opt = make_optimizer(mg, "SGD")
    scheduler = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        scheduler.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        lr_scheduler.StepLR(opt, step_size=2).step()


def test_resuming_with_last_epoch_needs_initial_lr() -> None:
    with pytest.raises(KeyError, match=r"StepLR: param 'initial_lr' is not specified in param_groups\[0\]"):
        lr_scheduler.StepLR(make_optimizer(mg, "SGD"), step_size=2, last_epoch=3)


def test_one_cycle_lr_refuses_to_step_past_total_steps() -> None:
    opt = make_optimizer(mg, "SGD")
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    opt.step()
    scheduler.step()
    scheduler.step()
    with pytest.raises(ValueError, match=r"OneCycleLR: tried to step 3 times; total_steps is 2"):
        scheduler.step()


@pytest.mark.parametrize("make, error, message", [
    (lambda o: lr_scheduler.StepLR("opt", 2), TypeError, r"StepLR: expected an optimizer, got str"),
    (lambda o: lr_scheduler.StepLR(o, 0), ValueError, r"StepLR: step_size must be a positive integer, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, 0), ValueError, r"CosineAnnealingLR: T_max must be a positive"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda_schedule]), ValueError,
     r"LambdaLR: expected 2 values for lr_lambda \(one per parameter group\), got 1"),
    (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError, r"LambdaLR: lr_lambda must be a function"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, r"LinearLR: start_factor must be in \(0, 1\]"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=2), ValueError, r"LinearLR: end_factor must be in \[0, 1\]"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0), ValueError, r"OneCycleLR: give either total_steps or both"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, total_steps=0), ValueError, r"total_steps must be a positive"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, 5, pct_start=2.0), ValueError, r"pct_start must be a float"),
    (lambda o: lr_scheduler.OneCycleLR(o, 1.0, 5, anneal_strategy="cosine"), ValueError,
     r"anneal_strategy must be 'cos' or 'linear', got 'cosine'"),
    (lambda o: lr_scheduler.OneCycleLR(optim.Adagrad(o.param_groups[0]["params"]), 1.0, 5), ValueError,
     r"OneCycleLR: cycle_momentum=True needs an optimizer with momentum or betas, Adagrad has neither"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor must be < 1.0, got 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="low"), ValueError, r"mode must be 'min' or 'max'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, r"threshold_mode must be"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, r"expected 2 values for min_lr"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o).step("low"), TypeError, r"metrics must be a number"),
    (lambda o: lr_scheduler.SequentialLR(o, [], []), ValueError, r"SequentialLR: expects at least one"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], []), TypeError,
     r"SequentialLR: schedulers\[0\] is a ReduceLROnPlateau"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(make_optimizer(mg, "SGD"), 2)], []), ValueError,
     r"schedulers\[0\] \(StepLR\) belongs to another optimizer"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], [3]), ValueError,
     r"one milestone fewer than schedulers, got 1 schedulers and 1 milestones"),
    (lambda o: lr_scheduler.StepLR(o, 2).load_state_dict([1]), TypeError, r"StepLR.load_state_dict: expected"),
])
def test_bad_scheduler_arguments_raise_clear_errors(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make(make_optimizer(mg, "SGD"))


def test_recursive_cosine_drifts_from_the_closed_form_like_pytorchs() -> None:
    """PyTorch's recursive rule is not the closed form after a restart past T_max; ours is PyTorch's."""
    ours_opt, theirs_opt = make_optimizer(mg, "SGD"), make_optimizer(torch, "SGD")
    ours = lr_scheduler.CosineAnnealingLR(ours_opt, T_max=3)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(theirs_opt, T_max=3)
    lrs = []
    for _ in range(10):
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        lrs.append((ours.get_last_lr()[0], theirs.get_last_lr()[0]))
    np.testing.assert_allclose(*zip(*lrs), rtol=RTOL, atol=1e-15)
    assert lrs[3][0] == pytest.approx(0.1 * (1 - np.cos(np.pi / 3)) / 2)     # epoch 4 climbs back up


def test_two_schedulers_on_one_optimizer_compose_like_pytorchs() -> None:
    rates = []
    for lib in (mg, torch):
        opt = make_optimizer(lib, "SGD")
        decay = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        steps = lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 6], gamma=0.5)
        rates.append([])
        for _ in range(10):
            opt.step()
            decay.step()
            steps.step()
            rates[-1].append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(rates[0], rates[1], rtol=RTOL)
