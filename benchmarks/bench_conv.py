"""conv2d and max_pool2d forward+backward: minigrad against PyTorch, same process, float32.

PyTorch runs in both memory formats (NCHW and channels_last); the ratio is minigrad's time
over the faster of the two. Prints one line per shape.

    python benchmarks/bench_conv.py [--repeats 5] [--min-seconds 0.2] [--quick]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import minigrad as mg  # noqa: E402
import minigrad.functional as F  # noqa: E402
from timing import best_ms, same_threads_for_torch  # noqa: E402

CONV_TARGET = 1.5
POOL_TARGET = 2.0
# (label, N, H, W, C, O, K, stride, padding)
CONV_SHAPES = [
    ("N=64 32x32x32->64 3x3 p1", 64, 32, 32, 32, 64, 3, 1, 1),
    ("N=32 300x300x1->16 3x3 p1", 32, 300, 300, 1, 16, 3, 1, 1),
    ("N=64 28x28x1->16 3x3", 64, 28, 28, 1, 16, 3, 1, 0),
    ("N=64 32x32x16->32 3x3 s2 p1", 64, 32, 32, 16, 32, 3, 2, 1),
    ("N=32 14x14x16->32 5x5 p2", 32, 14, 14, 16, 32, 5, 1, 2),
]
QUICK_SHAPES = [("N=8 16x16x8->16 3x3 p1", 8, 16, 16, 8, 16, 3, 1, 1)]


def minigrad_conv_step(x, w, b, g, stride, padding):
    xt, wt, bt = (mg.tensor(a, requires_grad=True) for a in (x, w, b))

    def step():
        xt.grad = wt.grad = bt.grad = None
        F.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(g)
    return step


def torch_conv_step(x, w, b, g, stride, padding, channels_last):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    xt = torch.tensor(x).permute(0, 3, 1, 2).contiguous(memory_format=fmt).requires_grad_()
    wt = torch.tensor(w).permute(3, 2, 0, 1).contiguous(memory_format=fmt).requires_grad_()
    bt = torch.tensor(b).requires_grad_()
    gt = torch.tensor(g).permute(0, 3, 1, 2).contiguous(memory_format=fmt)

    def step():
        xt.grad = wt.grad = bt.grad = None
        torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(gt)
    return step


def minigrad_pool_step(x, g):
    xt = mg.tensor(x, requires_grad=True)

    def step():
        xt.grad = None
        F.max_pool2d(xt, 2).backward(g)
    return step


def torch_pool_step(x, g, channels_last):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    xt = torch.tensor(x).permute(0, 3, 1, 2).contiguous(memory_format=fmt).requires_grad_()
    gt = torch.tensor(g).permute(0, 3, 1, 2).contiguous(memory_format=fmt)

    def step():
        xt.grad = None
        torch.nn.functional.max_pool2d(xt, 2).backward(gt)
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (best is kept)")
    parser.add_argument("--min-seconds", type=float, default=0.2,
                        help="keep timing until each measurement block has lasted this long")
    parser.add_argument("--quick", action="store_true", help="one small shape (used by the tests)")
    args = parser.parse_args()
    threads = same_threads_for_torch()
    print(f"float32, forward+backward (input, weight, bias gradients); {threads} threads; "
          f"best of 2 rounds of >= {args.repeats} runs and >= {args.min_seconds} s; ratio = minigrad / min(PyTorch NCHW, channels_last)")
    print(f"{'shape':32s} {'minigrad':>10s} {'torch NCHW':>11s} {'torch CL':>10s} {'ratio':>6s}")
    rng = np.random.default_rng(0)
    worst = 0.0
    for label, N, H, W, C, O, K, S, P in (QUICK_SHAPES if args.quick else CONV_SHAPES):
        x = rng.standard_normal((N, H, W, C), dtype=np.float32)
        w = rng.standard_normal((K, K, C, O), dtype=np.float32) * 0.1
        b = rng.standard_normal(O, dtype=np.float32)
        OH, OW = (H + 2 * P - K) // S + 1, (W + 2 * P - K) // S + 1
        g = rng.standard_normal((N, OH, OW, O), dtype=np.float32)
        ours, nchw, cl = best_ms(minigrad_conv_step(x, w, b, g, S, P),
                                 torch_conv_step(x, w, b, g, S, P, channels_last=False),
                                 torch_conv_step(x, w, b, g, S, P, channels_last=True),
                                 repeats=args.repeats, min_seconds=args.min_seconds)
        ratio = ours / min(nchw, cl)
        worst = max(worst, ratio)
        print(f"{label:32s} {ours:8.1f}ms {nchw:9.1f}ms {cl:8.1f}ms {ratio:6.2f}", flush=True)
    print(f"worst conv ratio {worst:.2f} (target <= {CONV_TARGET})")
    N, H = (8, 16) if args.quick else (64, 32)
    x = rng.standard_normal((N, H, H, 32), dtype=np.float32)
    g = rng.standard_normal((N, H // 2, H // 2, 32), dtype=np.float32)
    ours, nchw, cl = best_ms(minigrad_pool_step(x, g), torch_pool_step(x, g, channels_last=False),
                             torch_pool_step(x, g, channels_last=True), repeats=args.repeats,
                             min_seconds=args.min_seconds)
    print(f"{f'max_pool2d 2x2 N={N} {H}x{H}x32':32s} {ours:8.1f}ms {nchw:9.1f}ms {cl:8.1f}ms "
          f"{ours / min(nchw, cl):6.2f}  (target <= {POOL_TARGET})")


if __name__ == "__main__":
    main()
