"""Finite-difference check of every input's VJP, in float64."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from minigrad.tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central differences."""


def _as_tensors(fn: Callable, output) -> list[Tensor]:
    outputs = list(output) if isinstance(output, (tuple, list)) else [output]
    if not all(isinstance(o, Tensor) for o in outputs):
        raise TypeError(f"gradcheck: {getattr(fn, '__name__', 'fn')} must return a Tensor "
                        f"or a tuple of Tensors")
    return outputs


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare ``fn``'s analytic VJPs with central differences for every input that requires grad.

    Inputs are copied to float64. A fixed random cotangent ``v`` reduces the outputs to
    ``s = sum(v * fn(*inputs))``; d s / d input is computed by backward and by
    ``(s(x + eps) - s(x - eps)) / (2 eps)`` one element at a time.
    Returns True or raises ``GradcheckError`` naming the input, the worst element's index,
    and the analytic and numeric values.
    """
    inputs = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    inputs = [Tensor(x.data, requires_grad=x.requires_grad,
                     dtype=np.float64 if x.dtype.kind == "f" else None) for x in inputs]
    rng = np.random.default_rng(0)
    cotangents = [rng.standard_normal(o.shape) for o in _as_tensors(fn, fn(*inputs))]

    def reduced(*args: Tensor) -> Tensor:
        outputs = _as_tensors(fn, fn(*args))
        return sum(((o.double() if o.dtype.kind == "f" else o) * v).sum()
                   for o, v in zip(outputs, cotangents))

    reduced(*inputs).backward()
    for i in checked:
        analytic = inputs[i].grad.data if inputs[i].grad is not None else np.zeros(inputs[i].shape)
        numeric = np.zeros(inputs[i].shape)
        flat = inputs[i].data.reshape(-1)
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus = reduced(*inputs).item()
            flat[j] = original - eps
            minus = reduced(*inputs).item()
            flat[j] = original
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if excess.size and excess.max() > 0:
            worst = tuple(int(k) for k in np.unravel_index(np.argmax(excess), excess.shape))
            raise GradcheckError(
                f"gradcheck: input {i} (shape {inputs[i].shape}) disagrees at index {worst}: "
                f"analytic {analytic[worst]:.6g}, numeric {numeric[worst]:.6g} "
                f"(atol={atol}, rtol={rtol})")
    return True
