"""Generic checks driven by the case table: finite differences, PyTorch parity, dtypes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import autograd
from minigrad.autograd import OPS, Node
from tests.ops.cases import CASES, Case

PARITY_RTOL = 1e-9          # float64 on both sides: only rounding differs
PARITY_ATOL = 1e-12


def make_inputs(case: Case, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [spec.make(rng) for spec in case.inputs]


def to_minigrad(case: Case, arrays: list[np.ndarray], dtype=np.float64) -> list[mg.Tensor]:
    return [mg.tensor(a, dtype=dtype, requires_grad=True) if not spec.constant
            else mg.tensor(a, dtype=dtype if a.dtype.kind == "f" else None)
            for spec, a in zip(case.inputs, arrays)]


def graph_op_names(root: mg.Tensor) -> set[str]:
    names, stack, seen = set(), [root.grad_fn], set()
    while stack:
        node = stack.pop()
        if isinstance(node, Node) and id(node) not in seen:
            seen.add(id(node))
            names.add(node.name)
            stack.extend(node.edges)
    return names


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_finite_differences_float64(case: Case) -> None:
    assert mg.gradcheck(case.fn, to_minigrad(case, make_inputs(case)), eps=case.eps)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_forward_and_every_input_gradient_match_pytorch(case: Case) -> None:
    arrays = make_inputs(case)
    ours = to_minigrad(case, arrays)
    theirs = [torch.tensor(a, requires_grad=not spec.constant) for spec, a in zip(case.inputs, arrays)]
    y = case.fn(*ours)
    y_torch = (case.torch_fn or case.fn)(*theirs)
    np.testing.assert_allclose(y.numpy(), y_torch.detach().numpy(), rtol=PARITY_RTOL, atol=PARITY_ATOL)

    cotangent = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(cotangent.astype(y.dtype))
    y_torch.backward(torch.tensor(cotangent, dtype=y_torch.dtype))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b.requires_grad:
            assert a.grad is not None, f"input {i} got no gradient"
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6 if case.op == "to"
                                       else PARITY_RTOL, atol=PARITY_ATOL, err_msg=f"input {i}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_float32_stays_float32_in_forward_and_every_vjp(case: Case, monkeypatch) -> None:
    vjp_dtypes = []
    original = autograd._call_vjp

    def recording_call_vjp(node, g):
        grads = original(node, g)
        vjp_dtypes.extend((node.name, np.asarray(gi).dtype) for gi in grads if gi is not None)
        return grads

    monkeypatch.setattr(autograd, "_call_vjp", recording_call_vjp)
    inputs = to_minigrad(case, make_inputs(case), dtype=np.float32)
    y = case.fn(*inputs)
    assert y.dtype == np.float32
    y.sum().backward()
    assert vjp_dtypes and all(dtype == np.float32 for _, dtype in vjp_dtypes), vjp_dtypes
    assert all(x.grad.dtype == np.float32 for x in inputs if x.requires_grad)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_exercises_the_op_it_names(case: Case) -> None:
    y = case.fn(*to_minigrad(case, make_inputs(case)))
    assert case.op in graph_op_names(y)


def test_every_registered_op_has_a_case() -> None:
    covered = set()
    for case in CASES:
        covered |= graph_op_names(case.fn(*to_minigrad(case, make_inputs(case))))
    missing = sorted(set(OPS) - covered)
    assert not missing, f"ops without a case in tests/ops/cases.py: {missing}"
