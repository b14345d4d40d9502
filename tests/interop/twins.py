"""Checks shared by the interop tests: a minigrad model and its PyTorch twin agree."""
from __future__ import annotations

import numpy as np
import torch

import minigrad as mg
from minigrad import interop, nn

TWIN_TOLERANCE = 1e-8                  # float64 outputs and parameter gradients


def randomise_buffers(model: nn.Module, seed: int = 0) -> nn.Module:
    """Running statistics away from 0/1 so a BatchNorm conversion error would show."""
    rng = np.random.default_rng(seed)
    for name, buffer in model.named_buffers():
        buffer.data[...] = rng.uniform(0.5, 1.5, buffer.shape)
    return model


def _nchw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy((x.transpose(0, 3, 1, 2) if x.ndim == 4 else x).copy()).requires_grad_(True)


def assert_twins(model: nn.Module, twin: torch.nn.Module, shape: tuple, seed: int = 0) -> None:
    """Same output (in eval mode) and the same parameter gradients of sum(output * weights)."""
    model.eval(), twin.eval(), model.zero_grad(), twin.zero_grad()
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, shape)
    mine = model(mg.tensor(x))
    theirs = twin(_nchw(x))
    theirs_nhwc = theirs.permute(0, 2, 3, 1) if theirs.ndim == 4 else theirs
    np.testing.assert_allclose(mine.numpy(), theirs_nhwc.detach().numpy(), rtol=0, atol=TWIN_TOLERANCE)
    weights = rng.uniform(-1, 1, mine.shape)
    (mine * mg.tensor(weights)).sum().backward()
    (theirs_nhwc * torch.from_numpy(weights)).sum().backward()
    grads = interop.state_dict_from_torch({n: p.grad for n, p in twin.named_parameters()}
                                          | {n: b for n, b in twin.named_buffers()}, model, shape)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name], rtol=0, atol=TWIN_TOLERANCE, err_msg=name)
