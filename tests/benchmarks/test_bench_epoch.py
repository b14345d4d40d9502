"""The epoch benchmark at a tiny size: its synthetic MNIST-sized data and its report."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np


def test_bench_epoch_tiny_prints_times_accuracy_memory_and_ratio() -> None:
    result = subprocess.run([sys.executable, "benchmarks/bench_epoch.py", "--images", "128", "--keep-blas-env"],
                            check=True, capture_output=True, text=True)
    for name in ("minigrad", "torch NCHW", "torch channels_last"):
        assert re.search(rf"{name}\s+[\d.]+ s\s+test accuracy [\d.]+\s+resident \d+ MB", result.stdout), result.stdout
    assert re.search(r"ratio [\d.]+ \(target <= 2.0\)", result.stdout)
    bars = result.stderr.replace("\r", "\n")
    # tqdm throttles redraws (mininterval), so any drawn state of the 2-batch bar will do
    assert re.search(r"minigrad:\s+\d+%\|.*\| [0-2]/2 ", bars), "no progress bar counting batches"


def test_synthetic_mnist_is_28x28_in_range_jittered_and_labelled(monkeypatch) -> None:
    monkeypatch.syspath_prepend("benchmarks")
    from bench_epoch import synthetic_mnist

    x, y = synthetic_mnist(500, seed=0)
    assert x.shape == (500, 28, 28, 1) and x.dtype == np.float32 and y.shape == (500,)
    assert x.min() >= 0 and x.max() <= 1 and set(np.unique(y)) == set(range(10))
    ink_rows = [np.flatnonzero(img[:, :, 0].max(axis=1) > 0.5) for img in x[:50]]
    assert len({rows[0] for rows in ink_rows if len(rows)}) > 3, "digits are not shifted around"
    x_again, _ = synthetic_mnist(500, seed=0)
    assert np.array_equal(x, x_again)
