"""Split memory-bound NumPy passes over the batch across threads.

BLAS already uses every core for the matrix products; the copies and scatters around them
(im2col, col2im, pooling) are single-threaded NumPy loops that release the GIL, so running
them on batch slices in a small thread pool uses the other cores too. The thread count is
``MINIGRAD_NUM_THREADS`` or, by default, the cores this process may use, read once when
the pool is made.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

MIN_ELEMENTS_PER_THREAD = 1 << 16      # below this, thread hand-off costs more than it saves


def num_threads() -> int:
    """The thread count a new pool gets: ``MINIGRAD_NUM_THREADS``, else the usable cores."""
    env = os.environ.get("MINIGRAD_NUM_THREADS")
    if env:
        if not env.strip().isdigit() or int(env) < 1:
            raise ValueError(f"MINIGRAD_NUM_THREADS must be a positive integer, got {env!r}")
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_pool_lock = threading.Lock()
_pool: tuple[ThreadPoolExecutor, int] | None = None


def pool() -> tuple[ThreadPoolExecutor, int]:
    """The shared thread pool and its thread count.

    Made on first use, exactly once even when several threads ask at the same moment;
    ``MINIGRAD_NUM_THREADS`` is read then, and the count stays the pool's for good.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            count = num_threads()
            _pool = ThreadPoolExecutor(count, thread_name_prefix="minigrad"), count
        return _pool


def over_batch(work: Callable[[slice], None], batch: int, elements: int) -> None:
    """Call ``work(batch_slice)`` on disjoint slices covering range(batch), in parallel.

    ``elements`` is the size of the pass; small passes run in the calling thread.
    """
    executor, threads = pool()
    # two slices per thread: smaller working sets stay in cache and the threads finish together
    parts = min(2 * threads, batch, max(1, elements // MIN_ELEMENTS_PER_THREAD))
    if parts <= 1:
        work(slice(0, batch))
        return
    bounds = np.linspace(0, batch, parts + 1).astype(int)
    slices = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
    for future in [executor.submit(work, s) for s in slices]:
        future.result()                 # re-raises the first error from a worker


def each(work: Callable[[int], None], count: int) -> None:
    """Call ``work(k)`` for k in range(count), each call a task of its own on the pool (the
    threads take the next task as they finish one)."""
    executor, _ = pool()
    for future in [executor.submit(work, k) for k in range(count)]:
        future.result()                 # re-raises the first error from a worker


def copy(view: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Copy ``view`` (e.g. the strided im2col windows) into ``out``, new and C-contiguous by
    default, in parallel over the first axis. Returns ``out``."""
    if out is None:
        out = np.empty(view.shape, dtype=view.dtype)
    over_batch(lambda s: np.copyto(out[s], view[s]), view.shape[0], view.size)
    return out
