"""The Table 1 kernels through ``convolve`` on a real photo, and the example end to end."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch

from examples.image_filters import TABLE_1, filter_example, load_example_image


def test_table1_kernels_match_pytorch_on_a_real_photo() -> None:
    image = load_example_image(40)
    results = filter_example(image)
    assert set(results) == set(TABLE_1)
    for name, out in results.items():
        kernel = torch.tensor(TABLE_1[name], dtype=torch.float64).reshape(1, 1, 3, 3)
        channels = torch.tensor(image[0]).permute(2, 0, 1)[:, None]          # (3, 1, H, W)
        expected = torch.nn.functional.conv2d(channels, kernel, padding=1)[:, 0].permute(1, 2, 0)
        assert out.shape == image.shape
        np.testing.assert_allclose(out[0], expected.numpy(), atol=1e-12, err_msg=name)


def test_identity_is_exact_and_blur_keeps_the_interior_mean() -> None:
    image = load_example_image(40)
    results = filter_example(image)
    np.testing.assert_array_equal(results["Identity"], image)
    inner = (slice(None), slice(2, -2), slice(2, -2))
    assert abs(results["Gaussian Blur"][inner].mean() - image[inner].mean()) < 0.01
    for edges in ("Edge Detection 1", "Edge Detection 2", "Edge Detection 3"):
        assert abs(results[edges][inner].mean()) < 0.02      # kernels summing to 0


def test_example_writes_the_grid(tmp_path) -> None:
    subprocess.run([sys.executable, "examples/image_filters.py", "--size", "24", "--out", str(tmp_path)],
                   check=True, capture_output=True)
    assert (tmp_path / "filters.png").stat().st_size > 10_000
