"""conv2d and max_pool2d forward+backward: minigrad against PyTorch, same process, float32.

Each shape is timed with the two ways a gradient reaches the op: ``y.sum().backward()``
(what users and tests write; the op's VJP gets the stride-0 broadcast view that sum's VJP
makes) and ``y.backward(g)`` with a contiguous random g. PyTorch runs in both memory formats
(NCHW and channels_last); the ratio is minigrad's time over the faster of the two, same
gradient style. NumPy runs its native BLAS kernel (see environment.py).

    python benchmarks/bench_conv.py [--repeats 5] [--min-seconds 0.2] [--quick] [--threads 2] [--keep-blas-env]
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
import minigrad.functional as F  # noqa: E402
from environment import add_keep_flag, describe_libraries  # noqa: E402
from timing import best_ms, add_threads_flag, use_threads  # noqa: E402

POOL_TARGET = 1.5
# (label, N, H, W, C, O, K, stride, padding, target ratio)
CONV_SHAPES = [
    ("N=64 32x32x32->64 3x3 p1", 64, 32, 32, 32, 64, 3, 1, 1, 1.5),
    ("N=32 300x300x1->16 3x3 p1", 32, 300, 300, 1, 16, 3, 1, 1, 1.0),
    ("N=64 28x28x1->16 3x3", 64, 28, 28, 1, 16, 3, 1, 0, 2.0),
    ("N=64 32x32x16->32 3x3 s2 p1", 64, 32, 32, 16, 32, 3, 2, 1, 2.0),
    ("N=32 14x14x16->32 5x5 p2", 32, 14, 14, 16, 32, 5, 1, 2, 2.0),
]
QUICK_SHAPES = [("N=8 16x16x8->16 3x3 p1", 8, 16, 16, 8, 16, 3, 1, 1, 1.5)]
# gradient style -> how the output's gradient is made: None is y.sum().backward()
STYLES = ("sum", "g")


def run_backward(y, g) -> None:
    """``y.sum().backward()`` if g is None, else ``y.backward(g)``; the same for both libraries."""
    if g is None:
        y.sum().backward()
    else:
        y.backward(g)


def to_torch(a: np.ndarray, fmt: torch.memory_format) -> torch.Tensor:
    """An NHWC array as an NCHW tensor in memory format ``fmt``."""
    return torch.tensor(a).permute(0, 3, 1, 2).contiguous(memory_format=fmt)


def minigrad_conv_step(x, w, b, g, stride, padding):
    xt, wt, bt = (mg.tensor(a, requires_grad=True) for a in (x, w, b))

    def step():
        xt.grad = wt.grad = bt.grad = None
        run_backward(F.conv2d(xt, wt, bt, stride=stride, padding=padding), g)
    return step


def torch_conv_step(x, w, b, g, stride, padding, fmt):
    xt = to_torch(x, fmt).requires_grad_()
    wt = torch.tensor(w).permute(3, 2, 0, 1).contiguous(memory_format=fmt).requires_grad_()
    bt = torch.tensor(b).requires_grad_()
    gt = None if g is None else to_torch(g, fmt)

    def step():
        xt.grad = wt.grad = bt.grad = None
        run_backward(torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding), gt)
    return step


def minigrad_pool_step(x, g):
    xt = mg.tensor(x, requires_grad=True)

    def step():
        xt.grad = None
        run_backward(F.max_pool2d(xt, 2), g)
    return step


def torch_pool_step(x, g, fmt):
    xt = to_torch(x, fmt).requires_grad_()
    gt = None if g is None else to_torch(g, fmt)

    def step():
        xt.grad = None
        run_backward(torch.nn.functional.max_pool2d(xt, 2), gt)
    return step


def time_both_styles(label: str, target: float, make_ours, make_torch, g: np.ndarray, args) -> float:
    """Time one shape with each gradient style, print a row per style; return the worst ratio."""
    worst = 0.0
    for style in STYLES:
        gradient = None if style == "sum" else g
        ours, nchw, cl = best_ms(make_ours(gradient), make_torch(gradient, torch.contiguous_format),
                                 make_torch(gradient, torch.channels_last),
                                 repeats=args.repeats, min_seconds=args.min_seconds)
        ratio = ours / min(nchw, cl)
        worst = max(worst, ratio)
        print(f"{label:32s} {style:>5s} {ours:8.1f}ms {nchw:9.1f}ms {cl:8.1f}ms {ratio:6.2f} {target:6.2f}",
              flush=True)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (best is kept)")
    parser.add_argument("--min-seconds", type=float, default=0.2,
                        help="keep timing until each measurement block has lasted this long")
    parser.add_argument("--quick", action="store_true", help="one small shape (used by the tests)")
    add_threads_flag(parser)
    add_keep_flag(parser)
    args = parser.parse_args()
    threads = use_threads(args.threads)
    print(describe_libraries())
    print(f"float32, forward+backward (input, weight, bias gradients); {threads} threads; best of 2 rounds "
          f"of >= {args.repeats} runs and >= {args.min_seconds} s; ratio = minigrad / min(PyTorch NCHW, "
          f"channels_last); style sum = y.sum().backward(), g = y.backward(g), g contiguous")
    print(f"{'shape':32s} {'style':>5s} {'minigrad':>10s} {'torch NCHW':>11s} {'torch CL':>10s} "
          f"{'ratio':>6s} {'target':>6s}")
    rng = np.random.default_rng(0)
    worst = 0.0
    for label, N, H, W, C, O, K, S, P, target in (QUICK_SHAPES if args.quick else CONV_SHAPES):
        x = rng.standard_normal((N, H, W, C), dtype=np.float32)
        w = rng.standard_normal((K, K, C, O), dtype=np.float32) * 0.1
        b = rng.standard_normal(O, dtype=np.float32)
        OH, OW = (H + 2 * P - K) // S + 1, (W + 2 * P - K) // S + 1
        g = rng.standard_normal((N, OH, OW, O), dtype=np.float32)
        worst = max(worst, time_both_styles(
            label, target, lambda grad: minigrad_conv_step(x, w, b, grad, S, P),
            lambda grad, fmt: torch_conv_step(x, w, b, grad, S, P, fmt), g, args))
    print(f"worst conv ratio {worst:.2f}")
    N, H = (8, 16) if args.quick else (64, 32)
    x = rng.standard_normal((N, H, H, 32), dtype=np.float32)
    g = rng.standard_normal((N, H // 2, H // 2, 32), dtype=np.float32)
    time_both_styles(f"max_pool2d 2x2 N={N} {H}x{H}x32", POOL_TARGET, lambda grad: minigrad_pool_step(x, grad),
                     lambda grad, fmt: torch_pool_step(x, grad, fmt), g, args)


if __name__ == "__main__":
    main()
