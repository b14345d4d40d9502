"""Train a minigrad model on many processes as its PyTorch twin (DistributedDataParallel).

    torchrun --standalone --nproc_per_node=2 -m examples.casting.distributed --data DIR
        [--epochs 5] [--batch-size 16] [--lr 0.002] [--image-size 64] [--seed 0]
        [--out outputs/casting_ddp] [--every-rank-weights]

The model is the seed's SimpLeNet written in minigrad (NHWC). ``interop.to_torch`` makes its
twin, which DDP trains: gloo on CPU, NCCL when every rank has a GPU; a DistributedSampler
gives each rank its share of the training images; gradients are averaged across ranks, so
every rank holds the same weights after every step. Rank 0 alone logs and writes
checkpoint.pt (each epoch), metrics.json and, at the end, minigrad.npz: the trained twin
brought back with ``interop.from_torch``. --every-rank-weights makes each rank write
rank<R>.npz too (the tests compare them). Without torchrun it runs as a single process.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

import minigrad as mg
from examples.casting.data import load_datasets
from minigrad import interop, nn
from minigrad.io import atomic_write


def minigrad_simplenet(image_size: int) -> nn.Sequential:
    """Seed Question 3.3 in minigrad: conv 3x3 (16) + ReLU, max-pool 2, FC 16 + ReLU, FC 1 + sigmoid."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * (image_size // 2) ** 2, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())


def setup() -> tuple[int, int, torch.device]:
    """(rank, world size, device) from torchrun's environment; one process without it."""
    if "WORLD_SIZE" not in os.environ:
        return 0, 1, torch.device("cpu")
    gpus = torch.cuda.is_available() and torch.cuda.device_count() >= int(os.environ["LOCAL_WORLD_SIZE"])
    dist.init_process_group("nccl" if gpus else "gloo")
    device = torch.device(f"cuda:{os.environ['LOCAL_RANK']}") if gpus else torch.device("cpu")
    if gpus:
        torch.cuda.set_device(device)
    return dist.get_rank(), dist.get_world_size(), device


def mean_across_ranks(total: float, count: int, device: torch.device, world: int) -> float:
    values = torch.tensor([total, float(count)], dtype=torch.float64, device=device)
    if world > 1:
        dist.all_reduce(values)
    return (values[0] / values[1]).item()


def train(args: argparse.Namespace) -> dict | None:
    """Train; rank 0 returns the metrics it wrote, other ranks None."""
    rank, world, device = setup()
    mg.manual_seed(args.seed)                        # the same initial weights on every rank
    model = minigrad_simplenet(args.image_size)
    input_shape = (1, args.image_size, args.image_size, 1)
    twin = interop.to_torch(model, input_shape).to(device)
    ddp = DistributedDataParallel(twin) if world > 1 else twin
    train_ds, _ = load_datasets(args.data, args.image_size)
    sampler = DistributedSampler(train_ds, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train_ds, batch_size=args.batch_size, sampler=sampler)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=args.lr)
    loss_fn = torch.nn.BCELoss()
    history = []
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)                     # a different shuffle each epoch, the same on every rank
        start, total, seen = time.perf_counter(), 0.0, 0
        ddp.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device, torch.float32)
            optimizer.zero_grad()
            loss = loss_fn(ddp(x).squeeze(1), y)
            loss.backward()                          # DDP averages the gradients over the ranks here
            optimizer.step()
            total, seen = total + loss.item() * len(y), seen + len(y)
        history.append(dict(epoch=epoch, train_loss=mean_across_ranks(total, seen, device, world),
                            seconds=time.perf_counter() - start))
        if rank == 0:
            print(f"epoch {epoch}/{args.epochs}  train loss {history[-1]['train_loss']:.4f}  "
                  f"({world} processes, {history[-1]['seconds']:.1f} s)")
            atomic_write(args.out / "checkpoint.pt",
                         lambda f: torch.save(dict(model=twin.state_dict(), epoch=epoch), f))
    trained = interop.from_torch(twin.cpu(), input_shape)          # back into minigrad
    if args.every_rank_weights:
        mg.save(trained.state_dict(), args.out / f"rank{rank}.npz")
    metrics = None
    if rank == 0:
        mg.save(dict(model=trained.state_dict(), image_size=args.image_size), args.out / "minigrad.npz")
        metrics = dict(world_size=world, backend=dist.get_backend() if world > 1 else None,
                       history=history, image_size=args.image_size, batch_size=args.batch_size)
        (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if world > 1:
        dist.destroy_process_group()
    return metrics


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train minigrad's SimpLeNet as its PyTorch twin with DDP.")
    parser.add_argument("--data", type=Path, required=True, help="the casting folder (train/ and test/)")
    parser.add_argument("--epochs", type=int, default=5, help="default 5")
    parser.add_argument("--batch-size", type=int, default=16, help="per process, default 16")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate, default 0.002")
    parser.add_argument("--image-size", type=int, default=64, help="default 64 (even)")
    parser.add_argument("--seed", type=int, default=0, help="default 0")
    parser.add_argument("--out", type=Path, default=Path("outputs/casting_ddp"), help="output folder")
    parser.add_argument("--every-rank-weights", action="store_true", help="each rank writes rank<R>.npz")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0 or args.image_size < 2 or args.image_size % 2:
        parser.error("--epochs and --batch-size must be >= 1, --lr > 0, --image-size even and >= 2")
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def main(argv: list[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()
