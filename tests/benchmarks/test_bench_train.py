"""The training-step benchmark keeps working at a tiny size, and its growth check can fail."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest


def test_bench_train_quick_prints_ratio_memory_and_growth() -> None:
    # the residual model only: the LeNet-style one takes the same code path (and bench_epoch's test runs it)
    out = subprocess.run([sys.executable, "benchmarks/bench_train.py", "--quick", "--model", "resnet", "--repeats", "2",
                          "--steps", "5", "--min-seconds", "0", "--keep-blas-env"],
                         check=True, capture_output=True, text=True).stdout
    assert re.search(r"resnet: minigrad [\d.]+ ms/step .* ratio [\d.]+ \(target <= 2.0\)", out), out
    assert re.search(r"resnet: memory per step: peak traced [\d.]+ MB, .* resident [\d.]+ MB", out), out
    assert re.search(r"resnet: .*growth [+-][\d.]+ MB, limit \d+ MB: ok", out), out


@pytest.fixture()
def memory(monkeypatch):
    monkeypatch.syspath_prepend("benchmarks")
    import memory

    return memory


def test_growth_check_passes_a_step_that_frees_what_it_makes(memory) -> None:
    _, ok = memory.growth_report(lambda: np.ones(2 ** 19), steps=10)
    assert ok


def test_growth_check_catches_a_step_that_keeps_what_it_makes(memory) -> None:
    kept = []
    line, ok = memory.growth_report(lambda: kept.append(np.ones(2 ** 19)), steps=10)   # 4 MB a step
    assert not ok and "GROWS" in line
