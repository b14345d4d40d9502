"""Type promotion: minigrad's result_type against torch.result_type, and the ops that use it."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.functional as F
from minigrad import nn
from minigrad.dtypes import result_type

DTYPES = [np.bool_, np.int8, np.uint8, np.int32, np.int64, np.float32, np.float64]


def _operand(kind: str, dtype):
    """(minigrad operand, torch operand) of one category: 'dim', 'zero', 'python', 'numpy'."""
    value = np.ones(2 if kind == "dim" else (), dtype)
    if kind in ("dim", "zero"):
        return mg.tensor(value), torch.from_numpy(value)
    scalar = value[()]
    return (scalar.item(), scalar.item()) if kind == "python" else (scalar, scalar.item())


OPERANDS = [(kind, dtype) for kind in ("dim", "zero") for dtype in DTYPES] + \
           [(kind, dtype) for kind in ("python", "numpy") for dtype in (np.bool_, np.int64, np.float64)] + \
           [("numpy", np.float32), ("numpy", np.int32)]
PAIRS = [(a, b) for a, b in itertools.product(OPERANDS, repeat=2)
         if a[0] in ("dim", "zero") or b[0] in ("dim", "zero")]


def _torch_dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "").replace("bool", "bool_")


@pytest.mark.parametrize("a, b", PAIRS, ids=lambda spec: f"{spec[0]}-{np.dtype(spec[1]).name}")
def test_result_type_matches_torch_result_type(a, b) -> None:
    (ours_a, theirs_a), (ours_b, theirs_b) = _operand(*a), _operand(*b)
    expected = torch.result_type(theirs_a, theirs_b)
    assert result_type(ours_a, ours_b) == np.dtype(_torch_dtype_name(expected))


@pytest.mark.parametrize("a, b", [p for p in PAIRS if "bool" not in (np.dtype(p[0][1]).name + np.dtype(p[1][1]).name)
                                  ][::7], ids=lambda spec: f"{spec[0]}-{np.dtype(spec[1]).name}")
def test_operators_give_torch_dtypes(a, b) -> None:
    (ours_a, theirs_a), (ours_b, theirs_b) = _operand(*a), _operand(*b)
    if not isinstance(ours_a, mg.Tensor):
        ours_a, ours_b, theirs_a, theirs_b = ours_b, ours_a, theirs_b, theirs_a
    ops = [lambda x, y: x + y, lambda x, y: y - x, lambda x, y: x * y, lambda x, y: x / y, lambda x, y: y / x]
    if isinstance(ours_b, mg.Tensor):                       # torch.maximum takes two tensors
        ops.append(lambda x, y: x.maximum(y) if isinstance(x, mg.Tensor) else torch.maximum(x, y))
    for op in ops:
        ours, theirs = op(ours_a, ours_b), op(theirs_a, theirs_b)
        assert ours.dtype == np.dtype(_torch_dtype_name(theirs.dtype))


def test_float32_tensor_with_numpy_float64_or_int64_scalars_stays_float32() -> None:
    x = mg.ones(3)
    assert (x * np.sqrt(2.0)).dtype == np.float32
    assert (x * np.int64(2)).dtype == np.float32 and (np.float64(2) + x).dtype == np.float32
    assert (x ** np.float64(2)).dtype == np.float32


def test_integer_true_division_and_float_scalars_give_the_default_float() -> None:
    i = mg.tensor([1, 2])
    assert (i / mg.tensor([2, 4])).dtype == np.float32 and (i / 2).dtype == np.float32
    assert (i * 2.5).dtype == np.float32 and (0.7 ** i).dtype == np.float32
    assert (i ** 0.5).dtype == np.float32 and (i * 2).dtype == np.int64
    assert mg.maximum(mg.tensor([1], dtype=np.int32), mg.ones(1)).dtype == np.float32
    np.testing.assert_allclose((i / 4).numpy(), [0.25, 0.5])


def test_integer_tensor_to_a_negative_integer_power_raises() -> None:
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        mg.tensor([1, 2]) ** -2


def test_float_only_activations_promote_integers_or_refuse_like_torch() -> None:
    i = mg.tensor([1, 2])
    for name in ("sigmoid", "tanh", "exp", "log", "sqrt"):
        assert getattr(i, name)().dtype == getattr(torch, name)(torch.tensor([1, 2])).dtype == torch.float32 \
            or getattr(i, name)().dtype == np.float32
    assert F.sigmoid(i).dtype == np.float32 and i.relu().dtype == np.int64 and i.abs().dtype == np.int64
    for call in (lambda: F.softmax(i, 0), lambda: F.log_softmax(i, 0), lambda: F.leaky_relu(i)):
        with pytest.raises(TypeError, match="not implemented for integer"):
            call()
    with pytest.raises(RuntimeError, match="dropout: result type float can't be cast"):
        F.dropout(i)


def test_mixed_dtype_promotion_is_differentiable_back_to_each_input_dtype() -> None:
    x = mg.ones(2, requires_grad=True)
    s = mg.tensor(2.0, dtype=np.float64, requires_grad=True)        # 0-d: does not promote x
    y = x * s
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and s.grad.dtype == np.float64 and s.grad.item() == 2.0


@pytest.mark.parametrize("call, message", [
    (lambda: F.linear(mg.ones(2, 3, dtype=np.float64), mg.ones(3, 4)), "same dtype"),
    (lambda: nn.Linear(3, 4)(mg.ones(2, 3, dtype=np.float64)), "same dtype"),
    (lambda: mg.ones(2, 3, dtype=np.float64) @ mg.ones(3, 4), "same dtype"),
    (lambda: F.conv2d(mg.ones(1, 5, 5, 3, dtype=np.float64), mg.ones(3, 3, 3, 4)), "same dtype"),
    (lambda: nn.Conv2d(3, 4, 3)(mg.ones(1, 5, 5, 3, dtype=np.float64)), "same dtype"),
])
def test_a_float64_batch_into_float32_weights_is_refused_like_torch(call, message) -> None:
    with pytest.raises(RuntimeError, match=message):
        call()
