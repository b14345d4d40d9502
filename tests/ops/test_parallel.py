"""The batch-split threads give the same numbers as one thread."""
from __future__ import annotations

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
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "1")
    single = conv_pool_and_grads(x, w)
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "3")
    monkeypatch.setattr(parallel, "MIN_ELEMENTS_PER_THREAD", 1)
    split = []
    monkeypatch.setattr(parallel, "_pool", lambda real=parallel._pool: _recording(real(), split))
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


def test_worker_errors_reach_the_caller(monkeypatch) -> None:
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "2")
    monkeypatch.setattr(parallel, "MIN_ELEMENTS_PER_THREAD", 1)

    def fail(batch):
        raise RuntimeError(f"boom {batch.start}")
    with pytest.raises(RuntimeError, match="boom"):
        parallel.over_batch(fail, 4, 100)
