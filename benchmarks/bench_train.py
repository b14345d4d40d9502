"""One training step (forward, cross-entropy, backward, SGD step): minigrad against PyTorch,
same process, float32, N=64 28x28x1.

Models (benchmarks/models.py): the LeNet-style CNN and the residual digits model
(examples/digits_models.py: two residual blocks with BatchNorm, a 1x1 projection shortcut,
global average pooling). For each: the step times, minigrad's peak traced memory and
resident memory for one step, and the resident memory before and after --steps more steps
(the script exits with status 1 if it grew by more than the limit).

    python benchmarks/bench_train.py [--model lenet|resnet|all] [--repeats 10] [--min-seconds 0.2]
                                     [--steps 200] [--quick] [--threads 2] [--keep-blas-env]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from environment import use_native_blas  # noqa: E402

use_native_blas()

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from environment import add_keep_flag, describe_libraries  # noqa: E402
from memory import growth_report, step_memory  # noqa: E402
from models import MODELS  # noqa: E402
from timing import best_ms, add_threads_flag, use_threads  # noqa: E402

TARGETS = {"lenet": 1.75, "resnet": 2.0}
SIZE = 28


def minigrad_step(model_name: str, batch: int):
    model = MODELS[model_name][0]()
    opt, loss_fn = optim.SGD(model.parameters(), lr=0.01, momentum=0.9), nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.random((batch, SIZE, SIZE, 1), dtype=np.float32))
    y = mg.tensor(rng.integers(0, 10, batch))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def torch_step(model_name: str, batch: int, channels_last: bool):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = MODELS[model_name][1]().to(memory_format=fmt)
    opt, loss_fn = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, SIZE, SIZE).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=[*MODELS, "all"], default="all", help="which model (default all)")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per block (best is kept)")
    parser.add_argument("--min-seconds", type=float, default=0.2,
                        help="keep timing until each measurement block has lasted this long")
    parser.add_argument("--steps", type=int, default=200, help="steps for the memory-growth check")
    parser.add_argument("--quick", action="store_true", help="batch 8 (used by the tests)")
    add_threads_flag(parser)
    add_keep_flag(parser)
    args = parser.parse_args()
    batch = 8 if args.quick else 64
    threads = use_threads(args.threads)
    print(describe_libraries())
    print(f"training step, N={batch} {SIZE}x{SIZE}x1, float32, {threads} threads, best of 2 rounds of "
          f">= {args.repeats} steps and >= {args.min_seconds} s; ratio = minigrad / min(PyTorch NCHW, channels_last)")
    all_ok = True
    for name in MODELS if args.model == "all" else [args.model]:
        ours, nchw, cl = best_ms(minigrad_step(name, batch), torch_step(name, batch, channels_last=False),
                                 torch_step(name, batch, channels_last=True), repeats=args.repeats,
                                 min_seconds=args.min_seconds)
        print(f"{name}: minigrad {ours:.1f} ms/step   torch NCHW {nchw:.1f} ms/step   torch channels_last "
              f"{cl:.1f} ms/step   ratio {ours / min(nchw, cl):.2f} (target <= {TARGETS[name]})", flush=True)
        step = minigrad_step(name, batch)
        print(f"{name}: {step_memory(step)}")
        line, ok = growth_report(step, args.steps)
        print(f"{name}: {line}", flush=True)
        all_ok = all_ok and ok
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
