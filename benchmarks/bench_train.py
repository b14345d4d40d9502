"""One training step of a LeNet-style CNN: minigrad against PyTorch, same process, float32.

conv 1->16 3x3 p1, relu, maxpool 2, conv 16->32 3x3 p1, relu, maxpool 2, flatten,
linear 1568->128, relu, linear 128->10, cross-entropy, SGD step; N=64 28x28x1.
Also: minigrad's peak traced memory for one step, and the process's resident memory
before and after 200 more steps (it must not grow).

    python benchmarks/bench_train.py [--repeats 10] [--min-seconds 0.2] [--steps 200] [--quick]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.ops import workspace  # noqa: E402
from timing import best_ms, same_threads_for_torch  # noqa: E402

TARGET = 2.0


def minigrad_step(batch: int):
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10))
    opt, loss_fn = optim.SGD(model.parameters(), lr=0.01, momentum=0.9), nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x, y = mg.tensor(rng.random((batch, 28, 28, 1), dtype=np.float32)), mg.tensor(rng.integers(0, 10, batch))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def torch_step(batch: int, channels_last: bool):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(1568, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10)).to(memory_format=fmt)
    opt, loss_fn = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, 28, 28).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def resident_mb() -> float:
    """Current resident set size of this process, in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2 ** 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed steps (best is kept)")
    parser.add_argument("--min-seconds", type=float, default=0.2,
                        help="keep timing until each measurement block has lasted this long")
    parser.add_argument("--steps", type=int, default=200, help="steps for the memory-growth check")
    parser.add_argument("--quick", action="store_true", help="batch 8 and few steps (used by the tests)")
    args = parser.parse_args()
    batch = 8 if args.quick else 64
    threads = same_threads_for_torch()
    ours, nchw, cl = best_ms(minigrad_step(batch), torch_step(batch, channels_last=False),
                             torch_step(batch, channels_last=True), repeats=args.repeats,
                             min_seconds=args.min_seconds)
    print(f"LeNet-style training step, N={batch} 28x28x1, float32, {threads} threads, "
          f"best of 2 rounds of >= {args.repeats} steps and >= {args.min_seconds} s")
    print(f"minigrad {ours:.1f} ms/step   torch NCHW {nchw:.1f} ms/step   torch channels_last {cl:.1f} "
          f"ms/step   ratio {ours / min(nchw, cl):.2f} (target <= {TARGET})")

    step = minigrad_step(batch)
    step()
    workspace.clear()                   # so the traced step allocates the buffers it reuses
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"minigrad peak traced memory for one step: {peak / 2 ** 20:.1f} MB, of which "
          f"{workspace.kept_bytes() / 2 ** 20:.1f} MB stay in the workspace for the next step")
    for _ in range(10):
        step()
    before = resident_mb()
    for _ in range(args.steps):
        step()
    after = resident_mb()
    print(f"resident memory before {args.steps} steps {before:.1f} MB, after {after:.1f} MB "
          f"(growth {after - before:+.1f} MB)")


if __name__ == "__main__":
    main()
