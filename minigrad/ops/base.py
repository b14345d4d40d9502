"""What every op is: the ``Op`` base class and the ``OPS`` registry. Imports nothing of minigrad.

An op is a class with two static methods, side by side::

    forward(*arrays, **attrs) -> (y, saved)
    vjp(g, saved, needs_input_grad) -> (one gradient or None per input)

``forward`` takes the input arrays positionally and the hyper-parameters keyword-only, and
returns the output array and ``saved``: everything ``vjp`` will need, hyper-parameters
included (normalised, e.g. axes as a tuple). ``vjp`` gets exactly three arguments and no
attributes: ``g`` (the gradient of the loss with respect to y, shaped like y), ``saved``
exactly as forward returned it, and ``needs_input_grad`` (one bool per input: whether a
gradient for that input is wanted). It returns one entry per input, None where no gradient
flows or none is needed.

``fresh_grads = True`` on an op promises that every array its vjp returns is new: not g,
not saved, not a view of them, not shared with another returned gradient, and not kept by
the op. The engine then lets a leaf adopt it as ``.grad`` (and adds later gradients into
it) instead of copying it first. Off by default: most vjps return g or views of it.

``release(saved)`` is called once when ``saved`` will not be used again: by the engine when a
backward frees a node's saved values, and right after ``forward`` when no node is recorded.
An op that lends out buffers can take them back there; the default does nothing.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

OPS: dict[str, type["Op"]] = {}

# How ``Op.apply`` runs an op on Tensors. The tensor layer installs it (``set_apply``), so
# this module never imports Tensor: ops sit below the engine and the Tensor class.
_apply: Callable[..., Any] | None = None


def register(name: str) -> Callable[[type["Op"]], type["Op"]]:
    """Class decorator: ``@register("mul")`` puts the op in ``OPS`` under its PyTorch name."""
    def decorate(cls: type[Op]) -> type[Op]:
        if name in OPS:
            raise ValueError(f"register: an op named {name!r} is already registered "
                             f"({OPS[name].__qualname__})")
        cls.name = name
        OPS[name] = cls
        return cls
    return decorate


def set_apply(apply: Callable[..., Any]) -> None:
    """Install ``apply(op, inputs, attrs) -> Tensor``, what ``Op.apply`` calls (minigrad.tensor)."""
    global _apply
    _apply = apply


class Op:
    """Base class of every op: subclasses define ``forward`` and ``vjp`` (see the module doc)."""

    name = "op"
    fresh_grads = False

    @staticmethod
    def forward(*arrays: np.ndarray, **attrs: Any) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    @staticmethod
    def vjp(g: np.ndarray, saved: Any,
            needs_input_grad: tuple[bool, ...]) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @staticmethod
    def release(saved: Any) -> None:
        """``saved`` will not be used again (backward freed it, or no node was recorded)."""

    @classmethod
    def apply(cls, *inputs: Any, **attrs: Any):
        """Run the op on Tensors (other values become constant Tensors); return a Tensor."""
        if _apply is None:
            raise RuntimeError(f"{cls.name}.apply: the tensor layer is not loaded; "
                               f"import minigrad first")
        return _apply(cls, inputs, attrs)
