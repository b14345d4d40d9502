"""The benchmark script keeps working: a quick run prints a ratio per shape."""
from __future__ import annotations

import re
import subprocess
import sys


def test_bench_conv_quick_prints_ratios() -> None:
    out = subprocess.run([sys.executable, "benchmarks/bench_conv.py", "--quick", "--repeats", "1",
                          "--min-seconds", "0"],
                         check=True, capture_output=True, text=True).stdout
    assert re.search(r"N=8 16x16x8->16 3x3 p1\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+", out)
    assert re.search(r"max_pool2d 2x2 .*\(target <= 2.0\)", out)
