"""The training benchmark keeps working at a tiny size."""
from __future__ import annotations

import re
import subprocess
import sys


def test_bench_train_quick_prints_ratio_memory_and_growth() -> None:
    out = subprocess.run([sys.executable, "benchmarks/bench_train.py", "--quick", "--repeats", "2", "--steps", "5",
                          "--min-seconds", "0"],
                         check=True, capture_output=True, text=True).stdout
    assert re.search(r"minigrad [\d.]+ ms/step .* ratio [\d.]+ \(target <= 2.0\)", out)
    assert re.search(r"peak traced memory for one step: [\d.]+ MB", out)
    assert re.search(r"growth [+-][\d.]+ MB", out)
