"""Does a checkpoint look like a PyTorch state_dict? (load_state_dict's hint; no torch import.)

PyTorch keeps conv kernels as (C_out, C_in, KH, KW) and Linear weights as (out, in), where
minigrad keeps (KH, KW, C_in, C_out) and (in, out); BatchNorm adds ``num_batches_tracked``.
By shape this is decidable only where the two layouts differ (a square weight looks the same
either way), so the evidence is: a weight whose shape is minigrad's in PyTorch's order, a
``num_batches_tracked`` key, or values that are torch tensors.
"""
from __future__ import annotations

from typing import Any

import numpy as np

CONVERTER = "minigrad.interop.state_dict_from_torch(torch_state_dict, model, input_shape)"


def _pytorch_order(shape: tuple) -> tuple | None:
    """The shape PyTorch gives a minigrad weight of ``shape`` (None when not a 2-D/4-D weight)."""
    if len(shape) == 4:
        KH, KW, C, O = shape
        return (O, C, KH, KW)
    if len(shape) == 2:
        return shape[::-1]
    return None


def pytorch_layout_evidence(state_dict: dict, own_shapes: dict) -> list[str]:
    """Reasons to think ``state_dict`` is in PyTorch's layouts, one line each (empty if none).

    own_shapes: the model's name -> shape of every parameter and buffer.
    """
    evidence = []
    for name, shape in own_shapes.items():
        if name not in state_dict:
            continue
        theirs = tuple(np.shape(state_dict[name]))
        if theirs != tuple(shape) and theirs == _pytorch_order(tuple(shape)):
            evidence.append(f"{name} is {theirs}, PyTorch's order of minigrad's {tuple(shape)}")
    batches = [name for name in state_dict if name.endswith("num_batches_tracked") and name not in own_shapes]
    if batches:
        evidence.append(f"{batches[0]} is a PyTorch BatchNorm buffer")
    if any(_is_torch_tensor(value) for value in state_dict.values()):
        evidence.append("its values are torch tensors")
    return evidence


def _is_torch_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def check_not_pytorch(state_dict: dict, own_shapes: dict, owner: str) -> None:
    """Raise a RuntimeError pointing to the converter when ``state_dict`` looks like PyTorch's."""
    evidence = pytorch_layout_evidence(state_dict, own_shapes)
    if evidence:
        raise RuntimeError(f"load_state_dict: the checkpoint for {owner} looks like a PyTorch "
                           f"state_dict ({'; '.join(evidence)}). PyTorch stores conv kernels "
                           f"(C_out, C_in, KH, KW) and Linear weights (out, in); convert it with "
                           f"{CONVERTER}")
