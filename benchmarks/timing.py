"""Shared benchmark helpers: best-of-n wall time and the thread settings both libraries use."""
from __future__ import annotations

import os
import time
from typing import Callable


def best_ms(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """The fastest of ``repeats`` timed calls, in milliseconds (after ``warmup`` calls)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def same_threads_for_torch() -> int:
    """Give PyTorch as many threads as NumPy's BLAS uses by default (one per core)."""
    import torch

    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    return threads
