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
