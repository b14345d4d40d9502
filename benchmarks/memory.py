"""Memory of a training step: its peak NumPy allocations, the process's resident set, growth.

``tracemalloc`` sees every NumPy array (NumPy reports its data buffers to it) and every
Python object; ``/proc/self/status`` gives the resident set the OS sees (VmRSS) and its
high-water mark (VmHWM, for the whole process: PyTorch's steps included).
"""
from __future__ import annotations

import tracemalloc
from typing import Callable

from minigrad.ops import workspace

GROWTH_LIMIT_MB = 16.0      # a leak of one 28x28x16 activation batch per step passes this in 200 steps

MB = 2 ** 20


def process_memory_mb() -> tuple[float, float]:
    """(resident, peak resident) of this process in MB, from /proc/self/status (Linux)."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024          # kB -> MB
    return fields["VmRSS"], fields["VmHWM"]


def step_memory(step: Callable[[], object]) -> str:
    """One line: peak traced memory of one minigrad step, what the workspace keeps, and the
    process's resident memory after it."""
    step()
    workspace.clear()                   # so the traced step allocates the buffers it reuses
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    resident, peak_resident = process_memory_mb()
    return (f"memory per step: peak traced {peak / MB:.1f} MB, of which {workspace.kept_bytes() / MB:.1f} MB "
            f"stay in the workspace for the next step; resident {resident:.1f} MB "
            f"(process peak {peak_resident:.1f} MB)")


def resident_growth_mb(step: Callable[[], object], steps: int, warmup: int = 10) -> tuple[float, float]:
    """Resident memory (MB) after ``warmup`` steps and after ``steps`` more."""
    for _ in range(warmup):
        step()
    before, _ = process_memory_mb()
    for _ in range(steps):
        step()
    after, _ = process_memory_mb()
    return before, after


def growth_report(step: Callable[[], object], steps: int) -> tuple[str, bool]:
    """The growth line and whether growth stayed within ``GROWTH_LIMIT_MB``."""
    before, after = resident_growth_mb(step, steps)
    ok = after - before <= GROWTH_LIMIT_MB
    return (f"resident memory before {steps} steps {before:.1f} MB, after {after:.1f} MB "
            f"(growth {after - before:+.1f} MB, limit {GROWTH_LIMIT_MB:.0f} MB: {'ok' if ok else 'GROWS'})"), ok
