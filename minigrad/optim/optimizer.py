"""Optimizer base: parameter groups, per-parameter state, step, zero_grad, state_dict.

Each optimizer states its update rule in ``update(param, grad, state, group)`` on NumPy
arrays; the base class walks the groups, applies ``maximize``, checks hyper-parameters and
keeps PyTorch's state-dict structure.
"""
from __future__ import annotations

import copy
import numbers
import warnings
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Callable, Iterable

import numpy as np

from minigrad.autograd import enable_grad
from minigrad.tensor import Tensor, zero_grads

# Hyper-parameters that PyTorch requires to be >= 0 wherever an optimizer has them.
NON_NEGATIVE = ("lr", "eps", "weight_decay", "momentum", "alpha", "lr_decay", "initial_accumulator_value")
_LABELS = {"lr": "learning rate"}
DUPLICATE_WARNING = ("optimizer contains a parameter group with duplicate parameters; in future, this will "
                     "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information")


def add_weight_decay(grad: np.ndarray, param: np.ndarray, weight_decay: float) -> np.ndarray:
    """L2 penalty folded into the gradient: g + wd * p (a new array; g is not changed)."""
    return grad + weight_decay * param if weight_decay else grad


class Optimizer:
    """Holds ``param_groups`` (dicts with 'params' and hyper-parameters) and ``state``.

    Subclasses set ``PARAM_STATE`` (state arrays shaped like the parameter) and
    ``SCALAR_STATE`` (numbers such as 'step'), and implement ``update``.
    """

    PARAM_STATE: tuple[str, ...] = ()
    SCALAR_STATE: tuple[str, ...] = ()

    def __init__(self, params: Iterable, defaults: dict) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor) or not isinstance(params, Iterable):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts (parameter groups), "
                            f"got {type(params).__name__}")
        params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)     # optimizer.state[p]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group; its missing hyper-parameters take the optimizer's defaults."""
        name = type(self).__name__
        if not isinstance(group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(group).__name__}")
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        if isinstance(params, (set, frozenset)) or not isinstance(params, Iterable):
            raise TypeError(f"{name}: a group's 'params' must be an ordered collection of Tensors, "
                            f"got {type(params).__name__}")
        params, names = self._split_names(list(params))
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (shape {p.shape})")
        first = {}                                      # id -> position of its first occurrence
        for i, p in enumerate(params):
            first.setdefault(id(p), i)
        if len(first) != len(params):
            warnings.warn(DUPLICATE_WARNING, UserWarning, stacklevel=3)
        taken = {id(p) for p in self._parameters()}
        if any(key in taken for key in first):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        if self.param_groups and ("param_names" in self.param_groups[0]) != (names is not None):
            raise ValueError(f"{name}: all parameter groups must be given with names (named_parameters()) "
                             f"or all without")
        group = {**self.defaults, **group, "params": [params[i] for i in first.values()]}
        if names is not None:
            group["param_names"] = [names[i] for i in first.values()]
        self.check_hyperparameters(group)
        self.param_groups.append(group)

    def _split_names(self, params: list) -> tuple[list, list[str] | None]:
        """``named_parameters()`` pairs -> (tensors, names); plain tensors -> (tensors, None)."""
        named = [isinstance(p, tuple) for p in params]
        if not any(named):
            return params, None
        if not all(named) or not all(len(p) == 2 and isinstance(p[0], str) for p in params):
            raise ValueError(f"{type(self).__name__}: give all parameters with names, as (name, tensor) pairs "
                             f"from named_parameters(), or all without")
        return [p for _, p in params], [n for n, _ in params]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines + [")"])

    def check_hyperparameters(self, group: dict) -> None:
        """Raise on invalid hyper-parameters; subclasses add their own checks after these."""
        name = type(self).__name__
        for key in NON_NEGATIVE:
            if key in group:
                value = group[key]
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise TypeError(f"{name}: {key} must be a real number, got {value!r} "
                                    f"({type(value).__name__})")
                if not value >= 0:
                    raise ValueError(f"{name}: invalid {_LABELS.get(key, key)} {value} (must be >= 0)")
        if "betas" in group:
            betas = group["betas"]
            if not isinstance(betas, (tuple, list)) or len(betas) != 2:
                raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
            for i, beta in enumerate(betas):
                if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
                    raise ValueError(f"{name}: invalid betas {tuple(betas)}: beta at index {i} is {beta!r} "
                                     f"(each must be in [0, 1))")
            group["betas"] = tuple(betas)

    def _parameters(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self._parameters(), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad.data if group.get("maximize") else p.grad.data
                state = self.state.get(p) or self.init_state(p.data, group)
                self.update(p.data, grad, state, group)
                if state:                                  # PyTorch lists no empty states
                    self.state[p] = state
                p._version_counter.bump()
        self._opt_called = True
        return loss

    def init_state(self, param: np.ndarray, group: dict) -> dict:
        """The state of a parameter before its first update (PyTorch's initial values)."""
        return {}

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        """Change ``param`` in place from ``grad`` (already negated when maximizing)."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        """PyTorch's structure: state by parameter index, groups with 'params' as indices."""
        index = {id(p): i for i, p in enumerate(self._parameters())}
        state = {index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                 for p, s in sorted(self.state.items(), key=lambda item: index.get(id(item[0]), -1))
                 if id(p) in index}
        groups, start = [], 0
        for group in self.param_groups:
            hyper = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            groups.append({**hyper, "params": list(range(start, start + len(group["params"])))})
            start += len(group["params"])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load ``optimizer.state_dict()`` output; a state from another model or optimizer raises."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            got = sorted(map(str, state_dict)) if isinstance(state_dict, Mapping) else type(state_dict).__name__
            raise TypeError(f"{where}: expected the dict of optimizer.state_dict() with keys 'state' and "
                            f"'param_groups', got {got}")
        groups = state_dict["param_groups"]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, Mapping) for g in groups):
            raise TypeError(f"{where}: 'param_groups' must be a list of dicts, got {groups!r:.80}")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{where}: the saved state has {len(groups)} parameter groups, this optimizer "
                             f"{len(self.param_groups)}")
        saved_sizes = [len(g.get("params", ())) for g in groups]
        sizes = [len(g["params"]) for g in self.param_groups]
        if saved_sizes != sizes:
            raise ValueError(f"{where}: the saved groups hold {saved_sizes} parameters, this optimizer's {sizes}")
        new_groups = [self._loaded_group(saved, where, i) for i, saved in enumerate(groups)]
        params = self._parameters()
        new_state = {}
        for key, saved in state_dict["state"].items():
            index = int(key)
            if not 0 <= index < len(params):
                raise ValueError(f"{where}: state for parameter {index}, but this optimizer has {len(params)}")
            new_state[params[index]] = self._loaded_state(saved, params[index], where, index)
        for group, new in zip(self.param_groups, new_groups):
            group.update(new)
        self.state = defaultdict(dict, new_state)

    def _loaded_group(self, saved: Mapping, where: str, i: int) -> dict:
        """A saved group's hyper-parameters; flags added since (booleans) take their defaults."""
        missing = [k for k, v in self.defaults.items() if k not in saved and not isinstance(v, bool)]
        if missing:
            raise ValueError(f"{where}: saved parameter group {i} has no {', '.join(missing)} "
                             f"(was it saved by another optimizer?)")
        group = {**{k: v for k, v in self.defaults.items() if isinstance(v, bool)},
                 **{k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}}
        self.check_hyperparameters(group)
        return group

    def _loaded_state(self, saved: Mapping, param: Tensor, where: str, index: int) -> dict:
        """A copy of one parameter's saved state, checked against this optimizer and cast to its dtype."""
        state = {}
        for key, value in saved.items():
            if key in self.PARAM_STATE:
                value = np.asarray(value)
                if value.shape != param.shape:
                    raise ValueError(f"{where}: state '{key}' of parameter {index} has shape {value.shape}, "
                                     f"the parameter {param.shape}")
                state[key] = value.astype(param.dtype, copy=True)
            elif key in self.SCALAR_STATE:
                state[key] = float(value)
            else:
                known = ", ".join(self.PARAM_STATE + self.SCALAR_STATE) or "none"
                raise ValueError(f"{where}: parameter {index} has state '{key}', which {type(self).__name__} "
                                 f"does not keep (its state: {known}); was it saved by another optimizer?")
        return state
