"""Pooling: known answers, tie-breaking, errors."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F

KNOWN_ANSWER_ATOL = 1e-8


def test_known_answer_max_pool_kernel4_stride2_from_seed_002() -> None:
    image = mg.tensor(np.linspace(-0.1, 0.4, num=64).reshape(1, 8, 8, 1))
    expected = [[0.11428571, 0.13015873, 0.14603175],
                [0.24126984, 0.25714286, 0.27301587],
                [0.36825397, 0.38412698, 0.4]]
    out = F.max_pool2d(image, 4, stride=2)
    assert out.shape == (1, 3, 3, 1)
    np.testing.assert_allclose(out.numpy()[0, :, :, 0], expected, atol=KNOWN_ANSWER_ATOL)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_in_row_major_order() -> None:
    x = mg.tensor(np.ones((1, 2, 2, 1)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, :, :, 0], [[1, 0], [0, 0]])


def test_overlapping_windows_accumulate_gradient_at_a_shared_maximum() -> None:
    x = np.zeros((1, 3, 3, 1))
    x[0, 1, 1, 0] = 5                                      # the max of all four 2x2 windows
    xt = mg.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2, stride=1).sum().backward()
    assert xt.grad.numpy()[0, 1, 1, 0] == 4 and xt.grad.numpy().sum() == 4


def test_avg_pool_counts_zero_padding_like_pytorch() -> None:
    out = F.avg_pool2d(mg.ones(1, 2, 2, 1), 2, stride=2, padding=1)
    np.testing.assert_allclose(out.numpy()[0, :, :, 0], [[0.25, 0.25], [0.25, 0.25]])


@pytest.mark.parametrize("make, message", [
    (lambda: F.max_pool2d(mg.zeros(1, 4, 4, 1), 2, stride=0), r"max_pool2d: kernel_size and stride must be positive"),
    (lambda: F.max_pool2d(mg.zeros(1, 4, 4, 1), 0), r"max_pool2d: kernel_size and stride must be positive"),
    (lambda: F.max_pool2d(mg.zeros(1, 2, 2, 1), 3), r"max_pool2d: kernel 3x3 is larger than the padded input 2x2"),
    (lambda: F.avg_pool2d(mg.zeros(1, 4, 4, 1), 2, padding=2), r"avg_pool2d: padding must be between 0 and half"),
    (lambda: F.max_pool2d(mg.zeros(4, 4, 1), 2), r"max_pool2d: expected input \(N, H, W, C\), got shape \(4, 4, 1\)"),
])
def test_pool_errors_name_the_function(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()
