"""Reused buffers: handed back only when nothing refers to them; conv2d results never clobbered."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.ops import workspace

BIG = (512, 1024)                               # 2 MB of float32: above MIN_BYTES


@pytest.fixture(autouse=True)
def empty_workspace():
    workspace.clear()
    yield
    workspace.clear()


def test_a_dropped_buffer_is_handed_back() -> None:
    first = workspace.reusable_empty("site", BIG, np.float32)
    address = first.ctypes.data
    del first
    assert workspace.reusable_empty("site", BIG, np.float32).ctypes.data == address


def test_a_held_buffer_or_one_with_a_live_view_is_never_handed_back() -> None:
    held = workspace.reusable_empty("site", BIG, np.float32)
    assert workspace.reusable_empty("site", BIG, np.float32) is not held
    view = workspace.reusable_empty("site", BIG, np.float32).reshape(-1)[10:]
    assert not np.shares_memory(workspace.reusable_empty("site", BIG, np.float32), view)


def test_sites_shapes_and_dtypes_do_not_share_and_small_arrays_are_not_kept() -> None:
    a = workspace.reusable_empty("one", BIG, np.float32)
    address = a.ctypes.data
    del a
    for other in (("two", BIG, np.float32), ("one", (1024, 512), np.float32), ("one", BIG, np.float64)):
        assert workspace.reusable_empty(*other).ctypes.data != address
    kept = workspace.kept_bytes()
    small = workspace.reusable_empty("one", (4, 4), np.float32)
    assert workspace.kept_bytes() == kept == 4 * BIG[0] * BIG[1] * (1 + 1 + 1 + 2)
    assert not any(buffer is small for buffer in workspace._buffers.values())


def test_at_most_max_entries_are_kept(monkeypatch) -> None:
    monkeypatch.setattr(workspace, "MAX_ENTRIES", 3)
    for k in range(5):
        workspace.reusable_empty(f"site{k}", BIG, np.float32)
    assert [key[0] for key in workspace._buffers] == ["site2", "site3", "site4"]


def test_conv2d_outputs_and_saved_windows_of_live_graphs_are_not_overwritten() -> None:
    rng = np.random.default_rng(0)
    w = mg.tensor(rng.standard_normal((3, 3, 4, 64)).astype(np.float32), requires_grad=True)
    xs = [mg.tensor(rng.standard_normal((8, 32, 32, 4)).astype(np.float32)) for _ in range(2)]
    ys = [F.conv2d(x, w, padding=1) for x in xs]            # both graphs alive: 2 MB outputs
    assert not np.shares_memory(ys[0].numpy(), ys[1].numpy())
    ys[0].sum().backward()
    grad_from_first = w.grad.numpy().copy()
    w.grad = None
    expected_first = F.conv2d(xs[0], w, padding=1).numpy()
    np.testing.assert_array_equal(ys[0].numpy(), expected_first)
    F.conv2d(xs[1], w, padding=1).sum().backward()           # reuses the freed buffers
    w.grad = None
    ys[0] = F.conv2d(xs[0], w, padding=1)
    ys[0].sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), grad_from_first)


def test_threads_get_distinct_buffers() -> None:
    results, barrier = [], threading.Barrier(4)

    def grab(mark: int) -> None:
        barrier.wait()
        for _ in range(50):
            buffer = workspace.reusable_empty("site", BIG, np.float32)
            buffer[:] = mark
            results.append(bool((buffer == mark).all()))
            del buffer

    threads = [threading.Thread(target=grab, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 200 and all(results)
