"""Optimizers: PyTorch trajectories, state dicts, duplicate parameters, errors."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import nn, optim

RTOL, ATOL = 1e-6, 1e-12          # float64 trajectories, 12 steps
STEPS, RESUME_AT = 12, 6
SHAPES = [(3, 2), (4,)]

# (optimizer name, keyword arguments); the second group always gets its own lr.
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    ("SGD", dict(lr=0.03, momentum=0.8, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.05, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.03, betas=(0.5, 0.9), weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.01, eps=1e-3, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5)),
    ("RMSprop", dict(lr=0.005, momentum=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.2, eps=1e-3, maximize=True)),
]


def starting_values() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.normal(size=shape) for shape in SHAPES]


def gradient(value: np.ndarray, step: int) -> np.ndarray:
    """A gradient that depends on the current weights, so that any update error compounds."""
    return np.sin(3 * value + step) + 0.5 * value


def make_ours(name: str, kwargs: dict, values: list[np.ndarray]) -> tuple[list, optim.Optimizer]:
    params = [nn.Parameter(mg.tensor(v.copy())) for v in values]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": kwargs["lr"] / 2}]
    return params, getattr(optim, name)(groups, **kwargs)


def make_theirs(name: str, kwargs: dict, values: list[np.ndarray]) -> tuple[list, torch.optim.Optimizer]:
    params = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": kwargs["lr"] / 2}]
    return params, getattr(torch.optim, name)(groups, **kwargs)


def set_gradients(params: list, step: int, to: callable) -> None:
    for p in params:
        p.grad = to(gradient(np.array(p.detach().numpy() if isinstance(p, torch.Tensor) else p.numpy()), step))


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_optimizer_follows_pytorch_for_12_steps_and_resumes_from_a_checkpoint(name, kwargs, tmp_path: Path) -> None:
    values = starting_values()
    ours, ours_opt = make_ours(name, kwargs, values)
    theirs, theirs_opt = make_theirs(name, kwargs, values)
    for step in range(STEPS):
        if step == RESUME_AT:                          # a fresh process: new tensors, loaded state
            mg.save({"params": [p.numpy() for p in ours], "optimizer": ours_opt.state_dict()}, tmp_path / "ck.npz")
            checkpoint = mg.load(tmp_path / "ck.npz")
            ours, ours_opt = make_ours(name, dict(kwargs, lr=123.0), checkpoint["params"])
            ours_opt.load_state_dict(checkpoint["optimizer"])
        set_gradients(ours, step, mg.tensor)
        set_gradients(theirs, step, torch.tensor)
        ours_opt.step()
        theirs_opt.step()
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=f"step {step}")
    assert_same_state_dict(ours_opt.state_dict(), theirs_opt.state_dict())


def assert_same_state_dict(ours: dict, theirs: dict) -> None:
    """Same structure as PyTorch: state by index with the same keys and values, the same groups."""
    assert list(ours["state"]) == list(theirs["state"])
    for index, state in theirs["state"].items():
        assert list(ours["state"][index]) == list(state)
        for key, value in state.items():
            np.testing.assert_allclose(ours["state"][index][key], value.numpy(), rtol=RTOL, atol=ATOL)
    torch_only = {"foreach", "differentiable", "fused", "capturable"}
    for our_group, their_group in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert our_group == {k: v for k, v in their_group.items() if k not in torch_only}


def test_adagrad_state_exists_before_the_first_step_as_in_pytorch() -> None:
    values = starting_values()
    _, ours = make_ours("Adagrad", dict(lr=0.1, initial_accumulator_value=0.25), values)
    _, theirs = make_theirs("Adagrad", dict(lr=0.1, initial_accumulator_value=0.25), values)
    assert_same_state_dict(ours.state_dict(), theirs.state_dict())


def test_parameters_without_gradient_are_left_alone_and_get_no_state() -> None:
    p, q = nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(2))
    opt = optim.Adam([p, q], lr=0.1)
    p.grad = mg.ones(2)
    opt.step()
    assert q.numpy().tolist() == [1, 1] and list(opt.state_dict()["state"]) == [0]


def test_step_calls_the_closure_and_returns_its_loss() -> None:
    p = nn.Parameter(mg.tensor([2.0]))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    assert p.item() == 1.0


def test_duplicate_parameters_warn_like_pytorch_and_are_updated_once() -> None:
    p = nn.Parameter(mg.tensor([1.0]))
    with pytest.warns(UserWarning, match="optimizer contains a parameter group with duplicate parameters; "
                                         "in future, this will cause an error"):
        opt = optim.SGD([p, p], lr=0.1, momentum=0.9)
    p.grad = mg.tensor([1.0])
    opt.step()
    assert p.item() == pytest.approx(0.9)
    assert opt.state_dict()["param_groups"][0]["params"] == [0]


def test_a_parameter_in_two_groups_is_refused() -> None:
    p = nn.Parameter(mg.ones(2))
    with pytest.raises(ValueError, match="Adam: some parameters appear in more than one parameter group"):
        optim.Adam([{"params": [p]}, {"params": [p]}])


def test_zero_grad_sets_to_none_by_default_or_zeroes() -> None:
    p = nn.Parameter(mg.ones(2))
    p.grad = mg.ones(2)
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad.numpy().tolist() == [0, 0]
    opt.zero_grad()
    assert p.grad is None


def test_step_bumps_parameter_versions() -> None:
    p = nn.Parameter(mg.ones(2))
    p.grad = mg.ones(2)
    optim.RMSprop([p]).step()
    assert p._version == 1


def test_defaults_are_pytorchs() -> None:
    p = nn.Parameter(mg.ones(2))
    t = torch.ones(2, requires_grad=True)
    torch_only = {"foreach", "differentiable", "fused", "capturable"}
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        ours = getattr(optim, name)([p]).param_groups[0]
        theirs = getattr(torch.optim, name)([t]).param_groups[0]
        assert {k: v for k, v in ours.items() if k != "params"} == \
               {k: v for k, v in theirs.items() if k not in torch_only | {"params"}}, name


@pytest.mark.parametrize("make, error, message", [
    (lambda p: optim.SGD([p], lr=-0.1), ValueError, r"SGD: invalid learning rate -0.1 \(must be >= 0\)"),
    (lambda p: optim.SGD([p], lr="0.1"), TypeError, r"SGD: lr must be a real number, got '0.1' \(str\)"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=-0.9), ValueError, r"SGD: invalid momentum -0.9"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), ValueError, r"Nesterov momentum requires a momentum"),
    (lambda p: optim.SGD([], lr=0.1), ValueError, r"SGD: got an empty parameter list"),
    (lambda p: optim.SGD(p, lr=0.1), TypeError, r"SGD: params must be an iterable of Tensors or of dicts"),
    (lambda p: optim.SGD([p * 2], lr=0.1), ValueError, r"SGD: can't optimize a non-leaf Tensor"),
    (lambda p: optim.SGD([{"params": {p}}]), TypeError, r"'params' must be an ordered collection"),
    (lambda p: optim.SGD([p.numpy()]), TypeError, r"SGD: can only optimize Tensors, got ndarray"),
    (lambda p: optim.Adam([p], lr=-1), ValueError, r"Adam: invalid learning rate -1"),
    (lambda p: optim.Adam([p], lr=float("nan")), ValueError, r"Adam: invalid learning rate nan"),
    (lambda p: optim.Adam([p], betas=(0.9,)), ValueError, r"Adam: betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
    (lambda p: optim.Adam([p], betas=(0.9, 1.0)), ValueError, r"Adam: invalid betas \(0.9, 1.0\): beta at index 1"),
    (lambda p: optim.AdamW([p], betas=(-0.1, 0.9)), ValueError, r"AdamW: invalid betas .*index 0 is -0.1"),
    (lambda p: optim.Adam([p], eps=-1e-8), ValueError, r"Adam: invalid eps -1e-08"),
    (lambda p: optim.AdamW([p], weight_decay=-1), ValueError, r"AdamW: invalid weight_decay -1"),
    (lambda p: optim.RMSprop([p], alpha=-0.5), ValueError, r"RMSprop: invalid alpha -0.5"),
    (lambda p: optim.RMSprop([p], momentum=-0.5), ValueError, r"RMSprop: invalid momentum -0.5"),
    (lambda p: optim.Adagrad([p], lr_decay=-1), ValueError, r"Adagrad: invalid lr_decay -1"),
    (lambda p: optim.Adagrad([p], initial_accumulator_value=-1), ValueError,
     r"Adagrad: invalid initial_accumulator_value -1"),
])
def test_bad_arguments_raise_clear_errors(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make(nn.Parameter(mg.ones(2)))


def trained_adam(shapes=((3, 2), (4,))) -> optim.Adam:
    params = [nn.Parameter(mg.ones(shape)) for shape in shapes]
    opt = optim.Adam(params, lr=0.1)
    for p in params:
        p.grad = mg.ones(p.shape)
    opt.step()
    return opt


@pytest.mark.parametrize("saved, error, message", [
    ("state.npz", TypeError, r"Adam.load_state_dict: expected the dict of optimizer.state_dict\(\) with keys "
                             r"'state' and 'param_groups', got str"),
    ([1, 2], TypeError, r"expected the dict of optimizer.state_dict\(\).*got list"),
    ({"model.weight": 1}, TypeError, r"with keys 'state' and 'param_groups', got \['model.weight'\]"),
    ({"state": {}, "param_groups": "x"}, TypeError, r"'param_groups' must be a list of dicts"),
])
def test_load_state_dict_refuses_what_is_not_an_optimizer_state(saved, error, message) -> None:
    with pytest.raises(error, match=message):
        trained_adam().load_state_dict(saved)


def test_load_state_dict_names_a_group_count_mismatch() -> None:
    p, q = nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(2))
    two_groups = optim.Adam([{"params": [p]}, {"params": [q]}])
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: the saved state has 1 parameter groups, "
                                         r"this optimizer 2"):
        two_groups.load_state_dict(trained_adam().state_dict())


def test_load_state_dict_names_a_parameter_count_mismatch() -> None:
    with pytest.raises(ValueError, match=r"the saved groups hold \[2\] parameters, this optimizer's \[3\]"):
        trained_adam(((3, 2), (4,), (1,))).load_state_dict(trained_adam().state_dict())


def test_load_state_dict_names_a_state_shape_mismatch_before_step_would_fail() -> None:
    other_model = trained_adam(((3, 5), (4,)))
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(3, 2\), the parameter "
                                         r"\(3, 5\)"):
        other_model.load_state_dict(trained_adam().state_dict())
    assert other_model.state_dict()["state"][0]["exp_avg"].shape == (3, 5)      # left unchanged


def test_load_state_dict_refuses_another_optimizers_state() -> None:
    p = nn.Parameter(mg.ones(2))
    p.grad = mg.ones(2)
    sgd = optim.SGD([p], lr=0.1, momentum=0.9)
    sgd.step()
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: saved parameter group 0 has no betas, eps "
                                         r"\(was it saved by another optimizer\?\)"):
        optim.Adam([p]).load_state_dict(sgd.state_dict())
    adagrad = optim.Adagrad([p])
    with pytest.raises(ValueError, match=r"parameter 0 has state 'momentum_buffer', which Adagrad does not keep "
                                         r"\(its state: sum, step\)"):
        adagrad.load_state_dict({"state": sgd.state_dict()["state"],
                                 "param_groups": adagrad.state_dict()["param_groups"]})


def test_load_state_dict_fills_flags_a_checkpoint_predates() -> None:
    opt = trained_adam()
    state = opt.state_dict()
    for key in ("amsgrad", "maximize", "decoupled_weight_decay"):
        del state["param_groups"][0][key]
    opt.load_state_dict(state)
    assert opt.param_groups[0]["amsgrad"] is False


def test_loaded_state_is_cast_to_the_parameters_dtype_and_copied() -> None:
    opt = trained_adam()
    state = opt.state_dict()
    state["state"][0]["exp_avg"] = state["state"][0]["exp_avg"].astype(np.float64)
    opt.load_state_dict(state)
    state["state"][0]["exp_avg"][...] = 7
    assert opt.state_dict()["state"][0]["exp_avg"].dtype == np.float32
    assert opt.state_dict()["state"][0]["exp_avg"].max() < 1


def test_no_warning_in_the_ordinary_case() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trained_adam()


def test_named_parameters_are_accepted_and_their_names_kept_as_in_pytorch() -> None:
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    theirs = torch.optim.SGD(torch.nn.Linear(2, 1).named_parameters(), lr=0.1)
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    assert theirs.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    with pytest.raises(ValueError, match=r"SGD: all parameter groups must be given with names"):
        opt.add_param_group({"params": [nn.Parameter(mg.ones(1))]})
    with pytest.raises(ValueError, match=r"SGD: give all parameters with names"):
        optim.SGD([("w", nn.Parameter(mg.ones(1))), nn.Parameter(mg.ones(1))])


def test_repr_lists_each_group_like_pytorch() -> None:
    opt = optim.SGD([nn.Parameter(mg.ones(1))], lr=0.1, momentum=0.9)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    lr: 0.1\n    maximize: False\n"
                         "    momentum: 0.9\n    nesterov: False\n    weight_decay: 0\n)")


def test_state_is_keyed_by_the_parameter_as_in_pytorch() -> None:
    p = nn.Parameter(mg.ones(2))
    p.grad = mg.ones(2)
    opt = optim.Adam([p])
    opt.step()
    assert sorted(opt.state[p]) == ["exp_avg", "exp_avg_sq", "step"] and opt.state[p]["step"] == 1


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_float32_parameters_and_their_state_stay_float32(name) -> None:
    p = nn.Parameter(mg.ones(3))
    opt = getattr(optim, name)([p], **(dict(momentum=0.9) if name in ("SGD", "RMSprop") else {}))
    for _ in range(2):
        p.grad = mg.ones(3)
        opt.step()
    assert p.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))
