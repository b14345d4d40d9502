"""The conv benchmark keeps working: a quick run prints a ratio per shape and gradient style."""
from __future__ import annotations

import re
import subprocess
import sys

ROW = r"\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+\s+[\d.]+"


def test_bench_conv_quick_prints_both_gradient_styles_and_the_libraries() -> None:
    out = subprocess.run([sys.executable, "benchmarks/bench_conv.py", "--quick", "--repeats", "1",
                          "--min-seconds", "0", "--threads", "1", "--keep-blas-env"],
                         check=True, capture_output=True, text=True).stdout
    for style in ("sum", "g"):
        assert re.search(rf"N=8 16x16x8->16 3x3 p1\s+{style}{ROW}", out), out
        assert re.search(rf"max_pool2d 2x2 N=8 16x16x32\s+{style}{ROW}", out), out
    assert re.search(r"threadpoolctl: blas openblas .*architecture \w+, 1 threads", out), out
    assert re.search(r"PyTorch .*: 1 threads, MKL .*, oneDNN .*", out), out
