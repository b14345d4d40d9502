"""gradcheck: passes on correct VJPs, names input, index and values on wrong ones."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import OPS, Op, register


def test_gradcheck_passes_on_a_composite_function() -> None:
    x = mg.randn(3, 4, requires_grad=True)
    w = mg.randn(4, 2, requires_grad=True)
    assert mg.gradcheck(lambda a, b: ((a @ b).exp() / 3).sum(dim=0), [x, w])


def test_gradcheck_reports_input_worst_index_and_both_values() -> None:
    @register("test_wrong_square")
    class WrongSquare(Op):
        @staticmethod
        def forward(x):
            return x * x, x

        @staticmethod
        def vjp(g, saved, needs_input_grad):
            wrong = 2 * saved * g
            wrong[1] += 1.0                                # a bug at index 1
            return (wrong,)

    try:
        x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
        c = mg.tensor([1.0, 1.0, 1.0], requires_grad=True)
        with pytest.raises(mg.GradcheckError, match=r"input 0 \(shape \(3,\)\) disagrees at index \(1,\): "
                                                   r"analytic .*, numeric "):
            mg.gradcheck(lambda a, b: WrongSquare.apply(a) + b, [x, c])
    finally:
        OPS.pop("test_wrong_square")


def test_gradcheck_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(lambda a: a * 2, [mg.ones(2)])


def test_gradcheck_does_not_change_the_callers_tensors() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    mg.gradcheck(lambda a: a.exp(), [x])
    assert x.grad is None and x.dtype == np.float32
