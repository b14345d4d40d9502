"""Learning-rate schedulers with PyTorch's rules, step for step (``minigrad.optim.lr_scheduler``).

As in PyTorch, constructing a scheduler performs step 0 (``last_epoch`` becomes 0) and
``step()`` is called once per epoch (or per batch for OneCycleLR) after ``optimizer.step()``.
The chainable schedulers update the optimizer's current ``lr`` recursively, exactly as
PyTorch does, so that stacking two of them on one optimizer gives PyTorch's numbers;
``_closed_form`` is the formula from ``base_lrs`` that SequentialLR uses at a milestone.
"""
from minigrad.optim.lr_scheduler.base import LRScheduler
from minigrad.optim.lr_scheduler.chainable import (CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiStepLR,
                                                   StepLR)
from minigrad.optim.lr_scheduler.one_cycle import OneCycleLR
from minigrad.optim.lr_scheduler.plateau import ReduceLROnPlateau
from minigrad.optim.lr_scheduler.sequential import SequentialLR

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "LinearLR", "ExponentialLR", "CosineAnnealingLR",
           "SequentialLR", "OneCycleLR", "ReduceLROnPlateau"]
