"""einsum's forward and every operand's gradient (itself an einsum) against PyTorch, over
equations with diagonals, letters summed inside one operand, ellipses and broadcasting."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import minigrad as mg

EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,kj->ik", [(2, 3), (4, 3)]),
    ("ii->", [(3, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("iij->ji", [(2, 2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij,ij,ij->", [(2, 3), (2, 3), (2, 3)]),
    ("bij,bkj->bik", [(2, 3, 4), (2, 5, 4)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("...j,j->...", [(2, 3, 4), (4,)]),
    ("i,i", [(4,), (4,)]),
    ("ij,j", [(3, 4), (4,)]),
    ("ijk,kji->", [(2, 3, 4), (4, 3, 2)]),
    ("ij,jk", [(3, 1), (4, 2)]),
    ("i,j,k->ijk", [(2,), (3,), (2,)]),
    ("ab,ab->a", [(0, 3), (0, 3)]),
]


@pytest.mark.parametrize("equation, shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_forward_and_every_gradient_match_torch(equation, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, y_torch = mg.einsum(equation, *ours), torch.einsum(equation, *theirs)
    np.testing.assert_allclose(y.numpy(), y_torch.detach().numpy(), rtol=1e-10, atol=1e-12)
    cotangent = rng.standard_normal(y.shape)
    y.backward(cotangent)
    y_torch.backward(torch.tensor(cotangent))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk->ik", [(2, 3)], "has 2 operand terms but 1 operands"),
    ("ijk->i", [(2, 3)], "does not fit an operand of shape"),
    ("ij->ii", [(2, 2)], "must use each letter at most once"),
    ("ij->k", [(2, 2)], "only letters of the operands"),
    ("ij,jk->ik", [(2, 3), (2, 4)], "subscript 'j' has sizes 3 and 2"),
])
def test_einsum_errors_name_the_equation(equation, shapes, message):
    with pytest.raises(ValueError, match=message):
        mg.einsum(equation, *(mg.ones(*s) for s in shapes))
