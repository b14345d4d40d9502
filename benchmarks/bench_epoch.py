"""One training epoch over 60,000 MNIST-sized images: minigrad against PyTorch, same process.

The images are synthetic (nothing is downloaded): scikit-learn's 1,797 bundled 8x8 digits,
upscaled to 20x20 (bilinear), placed at a random offset in a 28x28 canvas (MNIST's digit
box and margin), with random contrast and a little Gaussian noise. Each library trains the
same model (benchmarks/models.py) from scratch for one epoch with SGD (momentum 0.9),
batch 64, shuffled, float32; PyTorch in both memory formats. Prints the epoch times, the
ratio to PyTorch's faster format, the accuracy on 2,000 fresh jittered images and the
resident memory after each epoch.

    python benchmarks/bench_epoch.py [--images 60000] [--model lenet|resnet] [--batch-size 64]
                                     [--quiet] [--threads 2] [--keep-blas-env]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from environment import use_native_blas  # noqa: E402

use_native_blas()

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.ndimage import zoom  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from tqdm import tqdm  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.data import DataLoader, TensorDataset  # noqa: E402
from environment import add_keep_flag, describe_libraries  # noqa: E402
from memory import process_memory_mb  # noqa: E402
from models import MODELS  # noqa: E402
from timing import add_threads_flag, use_threads  # noqa: E402

TARGET = 2.0
SIZE, DIGIT = 28, 20            # canvas and digit box, as in MNIST
TEST_IMAGES = 2000
LR, MOMENTUM = 0.02, 0.9


def synthetic_mnist(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` jittered 28x28x1 float32 images in [0, 1] and their int64 labels."""
    digits = load_digits()
    upscaled = zoom(digits.images / 16.0, (1, DIGIT / 8, DIGIT / 8), order=1).clip(0, 1).astype(np.float32)
    rng = np.random.default_rng(seed)
    source = rng.integers(0, len(upscaled), count)
    top, left = rng.integers(0, SIZE - DIGIT + 1, (2, count))
    images = np.zeros((count, SIZE, SIZE), np.float32)
    for dy in range(SIZE - DIGIT + 1):              # one slice assignment per offset, not per image
        for dx in range(SIZE - DIGIT + 1):
            at = np.flatnonzero((top == dy) & (left == dx))
            images[at, dy:dy + DIGIT, dx:dx + DIGIT] = upscaled[source[at]]
    images *= rng.uniform(0.6, 1.0, (count, 1, 1)).astype(np.float32)
    images += rng.standard_normal(images.shape, dtype=np.float32) * 0.05
    return images.clip(0, 1)[..., None], digits.target[source].astype(np.int64)


def minigrad_epoch(model_name: str, x, y, x_test, y_test, args) -> tuple[float, float]:
    """Train one epoch; return (seconds, test accuracy)."""
    mg.manual_seed(0)
    model = MODELS[model_name][0]()
    opt, loss_fn = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM), nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=args.batch_size, shuffle=True)
    start = time.perf_counter()
    for images, labels in tqdm(loader, desc="minigrad", leave=False, disable=args.quiet):
        opt.zero_grad()
        loss_fn(model(images), labels).backward()
        opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with mg.no_grad():
        accuracy = float((model(mg.tensor(x_test)).numpy().argmax(axis=1) == y_test).mean())
    return seconds, accuracy


def torch_epoch(model_name: str, x, y, x_test, y_test, args, fmt) -> tuple[float, float]:
    """The same epoch in PyTorch. Batches are slices of one shuffled tensor (the work
    minigrad's DataLoader does), not DataLoader's per-image collation."""
    torch.manual_seed(0)
    model = MODELS[model_name][1]().to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=fmt)
    yt = torch.from_numpy(y)
    batches = torch.randperm(len(yt)).split(args.batch_size)
    start = time.perf_counter()
    for index in tqdm(batches, desc="torch " + str(fmt).removeprefix("torch.").replace("contiguous_format", "NCHW"), leave=False, disable=args.quiet):
        opt.zero_grad()
        loss_fn(model(xt[index]), yt[index]).backward()
        opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        test = torch.from_numpy(x_test).permute(0, 3, 1, 2).contiguous(memory_format=fmt)
        accuracy = float((model(test).argmax(dim=1).numpy() == y_test).mean())
    return seconds, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60000, help="training images (default 60000)")
    parser.add_argument("--model", choices=sorted(MODELS), default="lenet", help="model (default lenet)")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_threads_flag(parser)
    add_keep_flag(parser)
    args = parser.parse_args()
    threads = use_threads(args.threads)
    print(describe_libraries())
    start = time.perf_counter()
    x, y = synthetic_mnist(args.images, seed=0)
    x_test, y_test = synthetic_mnist(TEST_IMAGES, seed=1)
    print(f"one epoch of {args.model}, {args.images} synthetic 28x28x1 images (made in "
          f"{time.perf_counter() - start:.1f} s), batch {args.batch_size}, SGD, float32, {threads} threads")
    times = {}
    for name, run in (("minigrad", lambda: minigrad_epoch(args.model, x, y, x_test, y_test, args)),
                      ("torch NCHW", lambda: torch_epoch(args.model, x, y, x_test, y_test, args,
                                                         torch.contiguous_format)),
                      ("torch channels_last", lambda: torch_epoch(args.model, x, y, x_test, y_test, args,
                                                                  torch.channels_last))):
        times[name], accuracy = run()
        resident, peak = process_memory_mb()
        print(f"{name:20s} {times[name]:7.1f} s   test accuracy {accuracy:.3f}   resident {resident:.0f} MB "
              f"(process peak {peak:.0f} MB)", flush=True)
    fastest = min(times["torch NCHW"], times["torch channels_last"])
    print(f"ratio {times['minigrad'] / fastest:.2f} (target <= {TARGET})")


if __name__ == "__main__":
    main()
