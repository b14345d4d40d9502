"""sum_leading: the BLAS column sum behind bias gradients, unbroadcast, sum and mean."""
import numpy as np
import pytest

import minigrad as mg
from minigrad.ops.reduce import sum_leading


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, count", [((7, 5, 3), 1), ((7, 5, 3), 2), ((4, 3, 2, 16), 3), ((9, 1), 1)])
def test_sum_leading_matches_numpy(dtype, shape, count) -> None:
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    got = sum_leading(x, count)
    assert got.dtype == dtype and got.shape == shape[count:]
    np.testing.assert_allclose(got, x.astype(np.float64).sum(axis=tuple(range(count))), rtol=1e-5)


def test_sum_leading_is_more_accurate_than_row_by_row_float32() -> None:
    x = np.random.default_rng(1).standard_normal((1_000_000, 4)).astype(np.float32) + 10
    exact = x.astype(np.float64).sum(axis=0)
    blas_error = np.abs(sum_leading(x, 1) - exact).max()
    assert blas_error <= np.abs(x.sum(axis=0) - exact).max()
    assert blas_error / np.abs(exact).max() < 1e-5


def test_sum_leading_falls_back_for_views_and_integers() -> None:
    x = np.arange(24).reshape(2, 3, 4)
    assert np.array_equal(sum_leading(x, 2), x.sum(axis=(0, 1)))
    view = np.random.default_rng(2).standard_normal((6, 8))[:, ::2]
    np.testing.assert_allclose(sum_leading(view, 1), view.sum(axis=0))


def test_sum_and_mean_over_leading_dims_keep_their_shapes() -> None:
    data = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype(np.float32)
    x = mg.tensor(data)
    assert x.sum(dim=(0, 1, 2), keepdim=True).shape == (1, 1, 1, 5)
    np.testing.assert_allclose(x.mean(dim=(0, 1, 2)).numpy(), data.mean(axis=(0, 1, 2)), rtol=1e-5)
