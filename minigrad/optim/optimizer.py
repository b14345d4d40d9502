"""Optimizer base: parameter groups, per-parameter state, zero_grad, state_dict."""
from __future__ import annotations

import copy
from typing import Any, Iterable

import numpy as np

from minigrad.tensor import Tensor, zero_grads


class Optimizer:
    """Holds ``param_groups`` (dicts with 'params' and hyper-parameters) and ``state``."""

    def __init__(self, params: Iterable, defaults: dict) -> None:
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict[int, dict[str, Any]] = {}
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        group = {**self.defaults, **group, "params": list(group["params"])}
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise TypeError(f"{type(self).__name__}: can only optimize leaf Tensors, got {type(p).__name__}")
        self.check_hyperparameters(group)
        self.param_groups.append(group)

    def check_hyperparameters(self, group: dict) -> None:
        """Raise ValueError on invalid hyper-parameters (each optimizer adds its own checks)."""
        if group["lr"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']} (must be >= 0)")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid weight_decay {group['weight_decay']} (must be >= 0)")

    def _parameters(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self._parameters(), set_to_none)

    def step(self) -> None:
        """Update every parameter with a gradient (NumPy in place, under no graph)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, p.grad.data, self.state.setdefault(id(p), {}), group)
                    p._version_counter.bump()

    def update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """PyTorch's structure: state by parameter index, groups with 'params' as indices."""
        index = {id(p): i for i, p in enumerate(self._parameters())}
        state = {index[key]: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                 for key, s in self.state.items() if key in index}
        groups, start = [], 0
        for group in self.param_groups:
            hyper = {k: v for k, v in group.items() if k != "params"}
            groups.append({**hyper, "params": list(range(start, start + len(group["params"])))})
            start += len(group["params"])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved groups hold "
                             f"{[len(g['params']) for g in groups]} parameters, this optimizer "
                             f"{[len(g['params']) for g in self.param_groups]}")
        params = self._parameters()
        for group, saved in zip(self.param_groups, groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {id(params[int(i)]): copy.deepcopy(s) for i, s in state_dict["state"].items()}
