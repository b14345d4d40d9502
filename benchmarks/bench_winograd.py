"""Winograd 3x3 convolutions (minigrad/ops/winograd.py) against minigrad's conv2d and PyTorch.

One step is the forward, the input gradient and the weight gradient (no bias), float32,
same process; Winograd's gradients come from ``backward`` (both from one transform of the
output gradient) or, for comparison, from ``input_grad`` and ``weight_grad`` separately. The functions take turns in every round, so a busy moment on a shared
machine slows all of them alike; each round keeps each function's best time, and the table
shows the best over rounds and, for the ratios, their range over the rounds (the spread).
ratio = time / min(PyTorch NCHW, channels_last). With ``--errors``, the float32 results'
max abs error over max |ref| against PyTorch in float64. With ``--dispatch``, instead: the
conv2d op (forward + every gradient, bias included, ``backward(g)``) with Winograd and with
im2col forced, on the shapes that place ``conv_fast.WINOGRAD_MIN_OUTPUT_PIXELS``, next to
what ``conv_fast.choose_algorithm`` picks.

The script re-runs itself without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so that NumPy's
OpenBLAS picks its native kernel, as on a user's machine (see the env notes of issue 21).

    python benchmarks/bench_winograd.py [--rounds 5] [--min-seconds 0.2] [--errors] [--dispatch] [--quick]
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from environment import use_native_blas  # noqa: E402

use_native_blas()

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402
import torch  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.functional as F  # noqa: E402
from minigrad.ops import conv_fast, winograd  # noqa: E402
from environment import add_keep_flag  # noqa: E402
from timing import add_threads_flag, best_ms, use_threads  # noqa: E402

SHAPES = [  # label, N, H, W, C, O, padding
    ("N=64 32x32x32->64 3x3 p1", 64, 32, 32, 32, 64, 1),
    ("N=64 28x28x1->16 3x3", 64, 28, 28, 1, 16, 0),
    ("N=32 14x14x16->32 3x3 p1", 32, 14, 14, 16, 32, 1),
]
QUICK_SHAPES = [("N=4 10x10x8->16 3x3 p1", 4, 10, 10, 8, 16, 1)]
DISPATCH_SHAPES = [  # N, H, W, C, O: 3x3 p1, around the dispatcher's thresholds
    (64, 32, 32, 32, 64), (64, 14, 14, 32, 32), (64, 12, 12, 32, 32), (64, 7, 7, 64, 64),
    (64, 28, 28, 16, 16), (64, 32, 32, 16, 16), (64, 16, 16, 16, 32), (64, 14, 14, 16, 16),
    (64, 14, 14, 16, 32), (64, 28, 28, 8, 16), (64, 28, 28, 1, 16),
]


def winograd_step(x, w, g, padding, summed, m, shared=True):
    """forward keeping its tiles, then ``backward`` (both gradients from one transform of g
    and the kept tiles) when ``shared``, else forward, ``input_grad`` and ``weight_grad``.
    With ``summed``, the gradient is the stride-0 view of ones that ``sum``'s VJP hands on."""
    pads = ((padding, padding), (padding, padding))

    def step():
        gy = np.broadcast_to(np.float32(1), g.shape) if summed else g
        if shared:
            _, tiles = winograd.forward(x, w, pads, m, keep_tiles=True)
            winograd.backward(x, gy, w, pads, m, tiles)
        else:
            winograd.forward(x, w, pads, m)
            winograd.input_grad(gy, w, pads, m)
            winograd.weight_grad(x, gy, pads, m)
    return step


def minigrad_step(x, w, g, padding, summed):
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)

    def step():
        xt.grad = wt.grad = None
        y = F.conv2d(xt, wt, padding=padding)
        y.sum().backward() if summed else y.backward(g)
    return step


def torch_step(x, w, g, padding, summed, channels_last):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    xt = torch.tensor(x).permute(0, 3, 1, 2).contiguous(memory_format=fmt).requires_grad_()
    wt = torch.tensor(w).permute(3, 2, 0, 1).contiguous(memory_format=fmt).requires_grad_()
    gt = torch.tensor(g).permute(0, 3, 1, 2).contiguous(memory_format=fmt)

    def step():
        xt.grad = wt.grad = None
        y = torch.nn.functional.conv2d(xt, wt, padding=padding)
        y.sum().backward() if summed else y.backward(gt)
    return step


def op_step(x, w, b, g, algorithm):
    """The conv2d op's step (3x3 p1, forward + every gradient) with ``algorithm`` forced."""
    xt, wt, bt = (mg.tensor(a, requires_grad=True) for a in (x, w, b))
    gt = mg.tensor(g)
    table = {1: 1} if algorithm == "winograd" else {}          # {}: Winograd never

    def step():
        xt.grad = wt.grad = bt.grad = None
        saved, conv_fast.WINOGRAD_MIN_OUTPUT_PIXELS = conv_fast.WINOGRAD_MIN_OUTPUT_PIXELS, table
        try:
            F.conv2d(xt, wt, bt, padding=1).backward(gt)
        finally:
            conv_fast.WINOGRAD_MIN_OUTPUT_PIXELS = saved
    return step


def time_dispatch(shapes, rounds: int, min_seconds: float) -> None:
    """Print Winograd's and im2col's op step per shape, the faster one, and the dispatcher's pick."""
    rng = np.random.default_rng(0)
    print("conv2d op step (3x3 p1, forward + input, weight and bias gradients, backward(g)), "
          f"best ms of {rounds} rounds, Winograd and im2col taking turns")
    for N, H, W, C, O in shapes:
        x = rng.standard_normal((N, H, W, C), dtype=np.float32)
        w = rng.standard_normal((3, 3, C, O), dtype=np.float32) * 0.1
        b = rng.standard_normal(O, dtype=np.float32)
        g = rng.standard_normal((N, H, W, O), dtype=np.float32)
        wino, im2col = best_ms(op_step(x, w, b, g, "winograd"), op_step(x, w, b, g, "im2col"),
                               rounds=rounds, min_seconds=min_seconds)
        picked = conv_fast.choose_algorithm(x, w, (1, 1), (1, 1), 1, (H, W))
        faster = "winograd" if wino < im2col else "im2col"
        print(f"N={N} {H}x{W}x{C}->{O}: winograd {wino:.2f} ms, im2col {im2col:.2f} ms; "
              f"faster {faster}, dispatcher picks {picked}", flush=True)


def relative_errors(x, w, g, padding) -> dict[str, list[float]]:
    """float32 (y, dx, dw) of F(2x2), F(4x4) and PyTorch against PyTorch in float64:
    max abs error / max |ref| of each."""
    pads = ((padding, padding), (padding, padding))

    def torch_conv(dtype):
        xt = torch.tensor(x, dtype=dtype).permute(0, 3, 1, 2).requires_grad_()
        wt = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)), dtype=dtype).requires_grad_()
        y = torch.nn.functional.conv2d(xt, wt, padding=padding)
        y.backward(torch.tensor(g, dtype=dtype).permute(0, 3, 1, 2))
        return (y.detach().permute(0, 2, 3, 1).numpy(), xt.grad.permute(0, 2, 3, 1).numpy(),
                wt.grad.permute(2, 3, 1, 0).numpy())
    references = torch_conv(torch.float64)
    results = {f"F({m}x{m},3x3)": (winograd.forward(x, w, pads, m), winograd.input_grad(g, w, pads, m),
                                   winograd.weight_grad(x, g, pads, m)[0]) for m in (2, 4)}
    results["PyTorch"] = torch_conv(torch.float32)
    return {name: [float(np.abs(r - ref).max() / np.abs(ref).max()) for r, ref in zip(result, references)]
            for name, result in results.items()}


def print_header(threads: int) -> None:
    print(f"NumPy {np.__version__}; thread pools loaded (threadpoolctl):")
    for info in threadpoolctl.threadpool_info():
        print(f"  {info['internal_api']} {info.get('version')} kernel {info.get('architecture')}, "
              f"{info['num_threads']} threads ({Path(info['filepath']).name})")
    print(f"PyTorch {torch.__version__}: oneDNN {torch.backends.mkldnn.is_available()}, "
          f"{threads} threads; minigrad parallel threads {winograd.parallel.num_threads()}, "
          f"Winograd's BLAS single-threaded per block: {winograd.blas_controller() is not None}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of turns; best and spread over them")
    parser.add_argument("--min-seconds", type=float, default=0.2, help="each function's block per round lasts this long")
    parser.add_argument("--errors", action="store_true", help="also print float32 errors against float64")
    parser.add_argument("--dispatch", action="store_true",
                        help="time the conv2d op with Winograd and with im2col on the dispatcher's shapes")
    parser.add_argument("--quick", action="store_true", help="one small shape, one round (used by the tests)")
    add_threads_flag(parser)
    add_keep_flag(parser)
    args = parser.parse_args()
    threads = use_threads(args.threads)
    print_header(threads)
    rounds = 1 if args.quick else args.rounds
    if args.dispatch:
        time_dispatch([(4, 10, 10, 8, 16)] if args.quick else DISPATCH_SHAPES, rounds, args.min_seconds)
        return
    names = ["winograd F4", "F4 separate grads", "winograd F2", "minigrad conv2d", "torch NCHW", "torch CL"]
    print(f"float32 step = forward + input grad + weight grad; best ms of {rounds} rounds; "
          f"ratio to min(torch NCHW, CL), [range over rounds]")
    rng = np.random.default_rng(0)
    for label, N, H, W, C, O, P in QUICK_SHAPES if args.quick else SHAPES:
        x = rng.standard_normal((N, H, W, C), dtype=np.float32)
        w = rng.standard_normal((3, 3, C, O), dtype=np.float32) * 0.1
        g = rng.standard_normal((N, H + 2 * P - 2, W + 2 * P - 2, O), dtype=np.float32)
        if args.errors:
            for name, errors in relative_errors(x, w, g, P).items():
                print(f"{label}: {name} float32 error y, dx, dw: " + ", ".join(f"{e:.1e}" for e in errors))
        for gradient in ("backward(g)", "sum().backward()"):
            summed = gradient != "backward(g)"
            steps = [winograd_step(x, w, g, P, summed, 4), winograd_step(x, w, g, P, summed, 4, shared=False),
                     winograd_step(x, w, g, P, summed, 2),
                     minigrad_step(x, w, g, P, summed), torch_step(x, w, g, P, summed, False),
                     torch_step(x, w, g, P, summed, True)]
            per_round = np.array([best_ms(*steps, rounds=1, min_seconds=args.min_seconds)
                                  for _ in range(rounds)])                   # (rounds, steps)
            ratios = per_round[:, :4] / per_round[:, 4:].min(axis=1, keepdims=True)
            best = per_round.min(axis=0)
            print(f"{label} {gradient}: " + "  ".join(
                f"{name} {ms:.1f}ms" for name, ms in zip(names, best)))
            print("    ratio " + "  ".join(
                f"{name} {ms / best[4:].min():.2f} [{lo:.2f}-{hi:.2f}]" for name, ms, lo, hi in
                zip(names, best, ratios.min(axis=0), ratios.max(axis=0))), flush=True)


if __name__ == "__main__":
    main()
