"""Learning-rate schedules."""
from __future__ import annotations

from minigrad.optim.optimizer import Optimizer


class StepLR:
    """lr = initial_lr * gamma ** (epoch // step_size); call ``step()`` once per epoch."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size <= 0:
            raise ValueError(f"StepLR: step_size must be positive, got {step_size}")
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base_lrs = [group.setdefault("initial_lr", group["lr"]) for group in optimizer.param_groups]
        self.last_epoch = 0

    def step(self) -> None:
        self.last_epoch += 1
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * self.gamma ** (self.last_epoch // self.step_size)

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "step_size": self.step_size, "gamma": self.gamma,
                "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict) -> None:
        self.last_epoch, self.step_size, self.gamma = state["last_epoch"], state["step_size"], state["gamma"]
        self.base_lrs = list(state["base_lrs"])
