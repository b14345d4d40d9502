"""The Winograd benchmark keeps working: a quick run prints errors, times and ratios."""
from __future__ import annotations

import re
import subprocess
import sys


def test_bench_winograd_quick_prints_kernel_errors_and_ratios() -> None:
    out = subprocess.run([sys.executable, "benchmarks/bench_winograd.py", "--quick", "--errors",
                          "--min-seconds", "0", "--keep-blas-env"], check=True, capture_output=True, text=True).stdout
    assert re.search(r"openblas .* kernel \w+", out)
    assert re.search(r"F\(4x4,3x3\) float32 error y, dx, dw: [\d.e-]+, [\d.e-]+, [\d.e-]+", out)
    assert len(re.findall(r"ratio winograd F4 [\d.]+ \[[\d.]+-[\d.]+\]", out)) == 2


def test_bench_winograd_dispatch_times_both_algorithms_through_the_op() -> None:
    out = subprocess.run([sys.executable, "benchmarks/bench_winograd.py", "--quick", "--dispatch",
                          "--min-seconds", "0", "--keep-blas-env"], check=True, capture_output=True, text=True).stdout
    assert re.search(r"N=4 10x10x8->16: winograd [\d.]+ ms, im2col [\d.]+ ms; faster (winograd|im2col), "
                     r"dispatcher picks im2col", out)
