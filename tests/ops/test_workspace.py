"""Reused buffers by explicit ownership: only a given-back buffer is handed out again; conv2d
gives its im2col matrix back when the engine releases the node, and never reuses an output;
importing minigrad makes the C allocator keep freed memory."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import weakref

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.ops import conv_fast, workspace

BIG = (512, 1024)                               # 2 MB of float32: above MIN_BYTES


@pytest.fixture(autouse=True)
def empty_workspace():
    workspace.clear()
    yield
    workspace.clear()


def test_a_given_back_buffer_is_handed_out_again() -> None:
    first = workspace.take("site", BIG, np.float32)
    workspace.give_back("site", first)
    assert workspace.take("site", BIG, np.float32) is first
    assert workspace.kept_bytes() == 0                       # taken again: no longer kept


def test_a_column_major_buffer_comes_back_column_major() -> None:
    first = workspace.take("site", BIG, np.float32, order="F")
    assert first.flags.f_contiguous and not first.flags.c_contiguous
    workspace.give_back("site", first)
    assert workspace.take("site", BIG, np.float32) is not first           # a row-major take
    assert workspace.take("site", BIG, np.float32, order="F") is first


def test_a_buffer_not_given_back_is_never_handed_out_and_not_kept_alive() -> None:
    held = workspace.take("site", BIG, np.float32)
    assert workspace.take("site", BIG, np.float32) is not held
    dropped = weakref.ref(held)
    del held                                                 # dropped, not given back
    assert dropped() is None and workspace.kept_bytes() == 0


def test_giving_back_twice_raises() -> None:
    buffer = workspace.take("site", BIG, np.float32)
    workspace.give_back("site", buffer)
    with pytest.raises(RuntimeError, match="workspace.give_back: this 'site' buffer .* already given back"):
        workspace.give_back("site", buffer)


def test_sites_shapes_dtypes_and_orders_do_not_share_and_small_arrays_are_not_kept() -> None:
    buffer = workspace.take("one", BIG, np.float32)
    workspace.give_back("one", buffer)
    for other in (("two", BIG, np.float32), ("one", (1024, 512), np.float32), ("one", BIG, np.float64),
                  ("one", BIG, np.float32, "F")):
        assert workspace.take(*other) is not buffer
    small = workspace.take("one", (4, 4), np.float32)
    workspace.give_back("one", small)
    assert workspace.kept_bytes() == buffer.nbytes
    assert workspace.take("one", (4, 4), np.float32) is not small


def test_same_shaped_buffers_are_all_kept_and_at_most_max_entries(monkeypatch) -> None:
    monkeypatch.setattr(workspace, "MAX_ENTRIES", 3)
    buffers = [workspace.take("site", BIG, np.float32) for _ in range(5)]
    for buffer in buffers:
        workspace.give_back("site", buffer)
    taken = {id(workspace.take("site", BIG, np.float32)) for _ in range(3)}
    assert taken == {id(b) for b in buffers[2:]}             # the three most recent


def test_conv2d_gives_its_windows_back_after_backward_and_after_a_no_grad_forward() -> None:
    x = mg.randn(8, 32, 32, 4)
    w = mg.randn(3, 3, 4, 64, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert workspace.kept_bytes() == 0                       # the graph owns the windows
    y.sum().backward()
    cols_bytes = 8 * 32 * 32 * 3 * 3 * 4 * 4
    assert workspace.kept_bytes() == cols_bytes              # released with the node
    with mg.no_grad():
        F.conv2d(x, w, padding=1)
    assert workspace.kept_bytes() == cols_bytes              # taken and given straight back


def test_retained_graphs_keep_their_windows_until_the_last_backward() -> None:
    x = mg.randn(8, 32, 32, 4)
    w = mg.randn(3, 3, 4, 64, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    kept, w.grad = workspace.kept_bytes(), None
    y = F.conv2d(x, w, padding=1)                            # takes the kept windows
    y.sum().backward(retain_graph=True)
    assert workspace.kept_bytes() == 0
    first = w.grad.numpy().copy()
    F.conv2d(x, w, padding=1).sum().backward()               # a new graph: new windows
    y.sum().backward()                                       # still reads its own
    np.testing.assert_allclose(w.grad.numpy(), 3 * first, rtol=1e-5)
    assert workspace.kept_bytes() == 2 * kept


def test_conv2d_outputs_and_saved_windows_of_live_graphs_are_not_overwritten() -> None:
    rng = np.random.default_rng(0)
    w = mg.tensor(rng.standard_normal((3, 3, 4, 64)).astype(np.float32), requires_grad=True)
    xs = [mg.tensor(rng.standard_normal((8, 32, 32, 4)).astype(np.float32)) for _ in range(2)]
    ys = [F.conv2d(x, w, padding=1) for x in xs]            # both graphs alive: 2 MB outputs
    assert not np.shares_memory(ys[0].numpy(), ys[1].numpy())
    ys[0].sum().backward()
    grad_from_first = w.grad.numpy().copy()
    expected_first = ys[0].numpy().copy()
    w.grad = None
    F.conv2d(xs[1], w, padding=1).sum().backward()           # reuses the freed windows
    np.testing.assert_array_equal(ys[0].numpy(), expected_first)  # outputs are never reused
    w.grad = None
    ys[1].sum().backward()                                   # its windows were not given away
    np.testing.assert_allclose(w.grad.numpy(), weight_grad_of_sum(xs[1], w), rtol=1e-5, atol=1e-4)
    w.grad = None
    F.conv2d(xs[0], w, padding=1).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), grad_from_first)


def weight_grad_of_sum(x: mg.Tensor, w: mg.Tensor) -> np.ndarray:
    """conv2d's weight gradient for a sum loss, from fresh tensors (no workspace buffer)."""
    wt = mg.tensor(w.numpy(), requires_grad=True)
    workspace.clear()
    F.conv2d(x, wt, padding=1).sum().backward()
    return wt.grad.numpy()


def test_threads_get_distinct_buffers() -> None:
    results, barrier = [], threading.Barrier(4)

    def grab(mark: int) -> None:
        barrier.wait()
        for _ in range(50):
            buffer = workspace.take(conv_fast.COLS_SITE, BIG, np.float32)
            buffer[:] = mark
            results.append(bool((buffer == mark).all()))
            workspace.give_back(conv_fast.COLS_SITE, buffer)

    threads = [threading.Thread(target=grab, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 200 and all(results)


ALLOCATE_AND_FREE = """
import resource, sys
import numpy as np
if sys.argv[1] == "import":
    import minigrad  # noqa: F401
def step():
    a = np.ones(1 << 20, np.float32); b = np.ones(1 << 20, np.float32); c = a + b; del a, b, c
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(*args: str, **env: str) -> int:
    """Minor page faults of 20 steps of three fresh 4 MB arrays in a new process."""
    inherited = {k: v for k, v in os.environ.items() if k != workspace.KEEP_FREED_MEMORY_ENV}
    out = subprocess.run([sys.executable, "-c", ALLOCATE_AND_FREE, *args], check=True,
                         capture_output=True, text=True, env={**inherited, **env})
    return int(out.stdout)


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="keep_freed_memory tunes glibc's malloc only")
def test_importing_minigrad_makes_freed_arrays_reuse_their_memory() -> None:
    """Without the tuning every fresh 4 MB array is new memory to the kernel, mapped page by
    page (hundreds of faults each); with it the freed memory comes back."""
    pages = 3 * 20 * (4 << 20) // 4096
    assert page_faults("numpy-only") > pages // 4
    assert page_faults("import", MINIGRAD_KEEP_FREED_MEMORY="0") > pages // 4
    assert page_faults("import") < pages // 100


def test_keep_freed_memory_says_whether_it_tuned_the_allocator(monkeypatch) -> None:
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    monkeypatch.delenv(workspace.KEEP_FREED_MEMORY_ENV, raising=False)
    assert workspace.keep_freed_memory() is glibc
    monkeypatch.setenv("MINIGRAD_KEEP_FREED_MEMORY", "0")
    assert workspace.keep_freed_memory() is False
