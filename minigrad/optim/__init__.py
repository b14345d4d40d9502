"""Optimizers with PyTorch's update rules."""
from minigrad.optim import lr_scheduler
from minigrad.optim.adam import Adam
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "lr_scheduler"]
