"""Train a CNN with PyTorch to tell defective cast impellers from good ones.

    python -m examples.casting.train --data DIR [--model {simplenet,improved}] [--epochs 15]
        [--batch-size 16] [--lr 0.002] [--image-size 128] [--no-augment] [--device auto]
        [--seed 0] [--out outputs/casting] [--export-minigrad]

DIR holds train/ and test/, each with def_front/ and ok_front/ (Kaggle's casting_data, or
``python -m examples.casting.make_synthetic``). The test split is the validation set.
Writes into --out: samples.png, best.pt (the checkpoint with the lowest validation loss),
curves.png, confusion_matrix.png, misclassified.png, model.txt and metrics.json; with
--export-minigrad also minigrad.npz, the trained model converted to its minigrad twin (NHWC)
by ``minigrad.interop.from_torch`` (check it with ``python -m examples.casting.evaluate_minigrad``).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from examples.casting.data import class_counts, load_datasets
from examples.casting.models import (MODELS, PARAMETER_LIMIT, build_model, check_parameter_budget,
                                     trainable_parameters)
from examples.casting.report import (binary_metrics, plot_confusion, plot_curves,
                                     plot_misclassified, plot_samples)
import minigrad as mg
from minigrad import interop
from minigrad.io import atomic_write


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train: --device cuda was asked for but PyTorch sees no CUDA GPU; "
                           "use --device cpu or auto")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def save_checkpoint(state: dict, path: Path) -> None:
    """torch.save via minigrad's atomic write: a crash never leaves half a checkpoint."""
    atomic_write(path, lambda f: torch.save(state, f))


def export_minigrad(model: nn.Module, name: str, image_size: int, path: Path) -> Path:
    """Save the minigrad twin of the trained ``model`` (its state_dict, NHWC layouts) with the
    model name and image size that rebuild it: see evaluate_minigrad.load_twin."""
    twin = interop.from_torch(model.cpu(), (1, image_size, image_size, 1))
    mg.save(dict(model=twin.state_dict(), name=name, image_size=image_size), path)
    return path


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, device: torch.device, loss_fn: nn.Module,
            progress: bool = False) -> tuple[float, np.ndarray, np.ndarray]:
    """(mean loss, p(defect) per image, labels) over ``loader``, in evaluation mode."""
    model.eval()
    total, probs, labels = 0.0, [], []
    for x, y in tqdm(loader, desc="validate", leave=False, disable=not progress):
        p = model(x.to(device)).squeeze(1)
        total += loss_fn(p, y.to(device, torch.float32)).item() * len(y)
        probs.append(p.cpu().numpy())
        labels.append(y.numpy())
    probs, labels = np.concatenate(probs), np.concatenate(labels)
    return total / len(labels), probs, labels


def train(model: nn.Module, train_ds, val_ds, *, epochs: int, batch_size: int, lr: float,
          device: torch.device, checkpoint: Path, parameter_limit: int | None = None,
          seed: int = 0, workers: int = 0, progress: bool = True) -> list[dict]:
    """Adam + BCE with a cosine learning-rate schedule; the training and validation loss each
    epoch; keeps the weights with the lowest validation loss in ``checkpoint`` and loads
    them back at the end. Returns the per-epoch history."""
    count = trainable_parameters(model)
    if parameter_limit is not None:
        check_parameter_budget(model, parameter_limit)
    print(f"{type(model).__name__}: {count:,} trainable parameters"
          + (f" (limit {parameter_limit:,})" if parameter_limit else ""))
    loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, num_workers=workers,
                        generator=torch.Generator().manual_seed(seed))
    val_loader = DataLoader(val_ds, batch_size=2 * batch_size, num_workers=workers)
    model.to(device)
    loss_fn = nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history, best = [], float("inf")
    for epoch in range(1, epochs + 1):
        start, model_loss, seen = time.perf_counter(), 0.0, 0
        model.train()
        bar = tqdm(loader, desc=f"epoch {epoch}/{epochs}", leave=False, disable=not progress)
        for x, y in bar:
            x, y = x.to(device), y.to(device, torch.float32)
            optimizer.zero_grad()
            loss = loss_fn(model(x).squeeze(1), y)
            loss.backward()
            optimizer.step()
            model_loss += loss.item() * len(y)
            seen += len(y)
            bar.set_postfix(loss=f"{loss.item():.4f}")
        schedule.step()
        val_loss, probs, labels = predict(model, val_loader, device, loss_fn, progress)
        history.append(dict(epoch=epoch, train_loss=model_loss / seen, val_loss=val_loss,
                            val_accuracy=float(((probs >= 0.5) == labels).mean()),
                            seconds=time.perf_counter() - start))
        if val_loss < best:
            best = val_loss
            save_checkpoint(dict(model=model.state_dict(), epoch=epoch, val_loss=val_loss), checkpoint)
        h = history[-1]
        print(f"epoch {epoch:3d}/{epochs}  train loss {h['train_loss']:.4f}  val loss "
              f"{val_loss:.4f}  val accuracy {h['val_accuracy']:.4f}  {h['seconds']:.1f} s"
              + ("  (best, saved)" if best == val_loss else ""))
    model.load_state_dict(torch.load(checkpoint, map_location=device)["model"])
    return history


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train a CNN (PyTorch) on the casting-defect images; see docs/casting.md.")
    parser.add_argument("--data", type=Path, required=True,
                        help="folder with train/ and test/, each holding def_front/ and ok_front/")
    parser.add_argument("--model", choices=sorted(MODELS), default="improved",
                        help="simplenet (the seed's) or improved (< 500k parameters); default improved")
    parser.add_argument("--epochs", type=int, default=15, help="default 15")
    parser.add_argument("--batch-size", type=int, default=16, help="default 16")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate, default 0.002")
    parser.add_argument("--image-size", type=int, default=128,
                        help="images are resized to this square size (the originals are 300), default 128")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                        help="random flips and rotations of up to 10 degrees for training (default on)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default auto")
    parser.add_argument("--seed", type=int, default=0, help="seed for init and shuffling, default 0")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes, default 0")
    parser.add_argument("--out", type=Path, default=Path("outputs/casting"), help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--export-minigrad", action="store_true",
                        help="also save the trained model as a minigrad checkpoint, minigrad.npz")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0 or args.image_size < 8:
        parser.error("--epochs and --batch-size must be >= 1, --lr > 0 and --image-size >= 8")
    return args


def run(args: argparse.Namespace) -> dict:
    """Everything the CLI does; returns the metrics written to metrics.json."""
    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    train_ds, val_ds = load_datasets(args.data, args.image_size, args.augment)
    print(f"data {args.data}: train {class_counts(train_ds)}, test {class_counts(val_ds)}; device {device}")
    args.out.mkdir(parents=True, exist_ok=True)
    plot_samples(train_ds, args.out / "samples.png", seed=args.seed)
    model = build_model(args.model, args.image_size)
    (args.out / "model.txt").write_text(f"{model}\n\ntrainable parameters: {trainable_parameters(model):,}\n")
    start = time.perf_counter()
    history = train(model, train_ds, val_ds, epochs=args.epochs, batch_size=args.batch_size,
                    lr=args.lr, device=device, checkpoint=args.out / "best.pt",
                    parameter_limit=PARAMETER_LIMIT if args.model == "improved" else None,
                    seed=args.seed, workers=args.workers, progress=not args.quiet)
    train_seconds = time.perf_counter() - start
    val_loader = DataLoader(val_ds, batch_size=2 * args.batch_size, num_workers=args.workers)
    val_loss, probs, labels = predict(model, val_loader, device, nn.BCELoss())
    metrics = binary_metrics(labels, probs)
    best_epoch = min(history, key=lambda h: h["val_loss"])["epoch"]
    metrics.update(model=args.model, trainable_parameters=trainable_parameters(model),
                   image_size=args.image_size, epochs=args.epochs, batch_size=args.batch_size,
                   lr=args.lr, augment=args.augment, seed=args.seed, device=str(device),
                   data=str(args.data), test_loss=val_loss, best_epoch=best_epoch,
                   train_seconds=train_seconds, history=history,
                   test_counts=class_counts(val_ds), train_counts=class_counts(train_ds))
    plot_curves(history, args.out / "curves.png")
    plot_confusion(metrics["confusion_matrix"], args.out / "confusion_matrix.png")
    plot_misclassified(val_ds, labels, probs, args.out / "misclassified.png")
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if args.export_minigrad:
        path = export_minigrad(model, args.model, args.image_size, args.out / "minigrad.npz")
        print(f"minigrad twin saved to {path}")
    return metrics


def main(argv: list[str] | None = None) -> None:
    metrics = run(parse_args(argv))
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]
    print(f"test accuracy {metrics['accuracy']:.4f}  precision {metrics['precision']:.4f}  "
          f"recall {metrics['recall']:.4f}  F1 {metrics['f1']:.4f}  (TN {tn}, FP {fp}, FN {fn}, "
          f"TP {tp}); best epoch {metrics['best_epoch']}, {metrics['train_seconds']:.0f} s")


if __name__ == "__main__":
    main()
