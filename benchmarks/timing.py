"""Shared benchmark helpers: best-of-n wall time and the thread count both libraries use."""
from __future__ import annotations

import argparse
import os
import time
from typing import Callable


def best_ms(*fns: Callable[[], object], repeats: int = 5, rounds: int = 2,
            min_seconds: float = 0.2) -> list[float]:
    """For each function, the fastest of its timed calls, in milliseconds.

    Each round runs every function in a block: one untimed call, then at least ``repeats``
    timed ones, more until the block has lasted ``min_seconds`` (a 3 ms step gets about 65
    tries, like ``timeit``'s autorange, so one busy moment cannot decide its best). A block
    keeps the function's steady state: warm caches, and no other library's idle threads
    still spinning on the cores. The rounds take turns, so that a busy minute on a shared
    machine slows every function alike and their ratio stays meaningful.
    """
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            fn()
            block_start, runs = time.perf_counter(), 0
            while runs < repeats or time.perf_counter() - block_start < min_seconds:
                start = time.perf_counter()
                fn()
                best[k] = min(best[k], time.perf_counter() - start)
                runs += 1
    return [b * 1000 for b in best]


def add_threads_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for both libraries (default: one per core)")


def use_threads(threads: int) -> int:
    """Give both libraries the same thread count: PyTorch's intra-op pool, NumPy's BLAS
    (through threadpoolctl) and minigrad's pool for memory-bound passes."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads, user_api="blas")
    os.environ["MINIGRAD_NUM_THREADS"] = str(threads)
    return threads
