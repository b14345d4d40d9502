"""The batch-split threads give the same numbers as one thread; one pool, made once."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.ops import parallel


def conv_pool_and_grads(x, w):
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    y = F.max_pool2d(F.conv2d(xt, wt, padding=1), 2) + F.max_pool2d(xt, 3, stride=2).sum()
    y.sum().backward()
    return y.numpy(), xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize("C", [2, 8])
def test_threaded_passes_match_a_single_thread(monkeypatch, C) -> None:
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((5, 8, 8, C)), rng.standard_normal((3, 3, C, 4))
    single = conv_pool_and_grads(x, w)               # tiny passes: all in the calling thread
    monkeypatch.setattr(parallel, "MIN_ELEMENTS_PER_THREAD", 1)
    split = []
    with ThreadPoolExecutor(3) as executor:
        monkeypatch.setattr(parallel, "_pool", (_recording(executor, split), 3))
        threaded = conv_pool_and_grads(x, w)
    assert len(split) > 0, "the threaded path was not taken"
    for a, b in zip(threaded, single):
        np.testing.assert_array_equal(a, b)


def _recording(pool, calls):
    class Recording:
        def submit(self, fn, *args):
            calls.append(args)
            return pool.submit(fn, *args)
    return Recording()


def test_the_pool_is_made_once_even_when_threads_race(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "_pool", None)
    counted = []

    def slow_count():
        counted.append(1)
        time.sleep(0.01)                              # widen the window for a second maker
        return 2
    monkeypatch.setattr(parallel, "num_threads", slow_count)
    results = []
    threads = [threading.Thread(target=lambda: results.append(parallel.pool())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    try:
        assert len(counted) == 1 and len({id(r[0]) for r in results}) == 1
        assert results[0][1] == 2
    finally:
        results[0][0].shutdown()


def test_the_pool_keeps_the_thread_count_it_was_made_with(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "_pool", None)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS_PER_THREAD", 1)
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "2")
    executor, count = parallel.pool()
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "5")   # too late: the pool exists
    slices = []
    try:
        parallel.over_batch(slices.append, 100, 10_000)
        assert count == 2 and len(slices) == 2 * 2    # two slices per thread of the pool
        assert parallel.pool() == (executor, 2)
    finally:
        executor.shutdown()


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_bad_thread_count_is_named(monkeypatch, value) -> None:
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", value)
    with pytest.raises(ValueError, match="MINIGRAD_NUM_THREADS must be a positive integer"):
        parallel.num_threads()


def test_worker_errors_reach_the_caller(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "MIN_ELEMENTS_PER_THREAD", 1)

    def fail(batch):
        raise RuntimeError(f"boom {batch.start}")
    with pytest.raises(RuntimeError, match="boom"):
        parallel.over_batch(fail, 4, 100)


def test_each_runs_every_task_once_and_passes_on_errors() -> None:
    seen, lock = [], threading.Lock()

    def record(k):
        with lock:
            seen.append(k)
    parallel.each(record, 7)
    assert sorted(seen) == list(range(7))

    def fail(k):
        if k == 3:
            raise RuntimeError(f"boom {k}")
    with pytest.raises(RuntimeError, match="boom 3"):
        parallel.each(fail, 5)
