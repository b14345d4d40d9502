"""Train a small CNN with minigrad on scikit-learn's handwritten digits (1,797 real 8x8 images).

Fixed stratified 80/20 split, a progress bar per epoch and validation accuracy after each.
Each model has its recipe (RECIPES): the plain CNN trains with Adam, learning rate x0.3 every
10 epochs; ``--model resnet`` trains the small residual network of examples/digits_models.py
the way a PyTorch user would: AdamW (weight decay 0.01), a cosine schedule over the epochs,
gradient clipping to norm 1 and label smoothing 0.1. Every choice of a recipe has a flag.
Writes into --out: checkpoint.npz, curves.png, filters.png, misclassified.png, summary.txt
and metrics.json.

    python examples/train_digits.py [--model cnn|resnet] [--optimizer adam|adamw|sgd] [--epochs N]
                                    [--batch-size 32] [--lr LR] [--weight-decay WD]
                                    [--schedule step|cosine] [--clip-grad-norm C]
                                    [--label-smoothing S] [--seed 0]
                                    [--out outputs/digits] [--resume]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import minigrad as mg
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_models import MODELS  # noqa: E402

SPLIT_SEED = 0                      # the 80/20 split never changes between runs


def load_split() -> tuple[np.ndarray, ...]:
    """Images (N, 8, 8, 1) scaled to [0, 1] and labels, split 80/20 stratified."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    return train_test_split(images, digits.target, test_size=0.2, stratify=digits.target,
                            random_state=SPLIT_SEED)


def make_model(name: str = "cnn") -> nn.Module:
    """A fresh model of examples/digits_models.py: "cnn" (plain) or "resnet" (residual)."""
    return MODELS[name]()


# Each maker takes the parameters, the learning rate and the weight decay; add an entry to offer another.
OPTIMIZERS = {
    "adam": lambda parameters, lr, wd: optim.Adam(parameters, lr=lr, weight_decay=wd),
    "adamw": lambda parameters, lr, wd: optim.AdamW(parameters, lr=lr, weight_decay=wd),
    "sgd": lambda parameters, lr, wd: optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=wd),
}

# Each maker takes the optimizer and the number of epochs.
SCHEDULES = {
    "step": lambda optimizer, epochs: optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.3),
    "cosine": lambda optimizer, epochs: optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs),
}

# A model's defaults for every flag left unset (clip_grad_norm None: no clipping).
RECIPES = {
    "cnn": dict(optimizer="adam", epochs=30, lr=2e-3, weight_decay=0.0, schedule="step",
                clip_grad_norm=None, label_smoothing=0.0),
    "resnet": dict(optimizer="adamw", epochs=20, lr=3e-3, weight_decay=1e-2, schedule="cosine",
                   clip_grad_norm=1.0, label_smoothing=0.1),
}


@mg.no_grad()
def predict(model: nn.Module, images: np.ndarray) -> np.ndarray:
    model.eval()
    labels = model(mg.tensor(images)).numpy().argmax(axis=1)
    model.train()
    return labels


def train(args: argparse.Namespace) -> dict:
    mg.manual_seed(args.seed)
    x_train, x_test, y_train, y_test = load_split()
    model = make_model(args.model)
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), args.lr, args.weight_decay)
    scheduler = SCHEDULES[args.schedule](optimizer, args.epochs)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    checkpoint = args.out / "checkpoint.npz"
    history, seconds = [], 0.0
    if args.resume:
        state = mg.load(checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, seconds = list(state["history"]), state["train_seconds"]
        print(f"resumed from {checkpoint} after epoch {len(history)}")
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)
    for epoch in range(len(history) + 1, args.epochs + 1):
        start, total = time.perf_counter(), 0.0
        # The bar is advanced by hand: a bar that wraps the loader counts a batch only when its
        # display is due, so set_postfix would redraw a stale counter (0/45) after every batch.
        bar = tqdm(total=len(loader), desc=f"epoch {epoch}/{args.epochs}", leave=False, disable=args.quiet)
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            if args.clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad_norm)
            optimizer.step()
            total += loss.item() * len(labels)
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
            bar.update(1)
        bar.close()
        scheduler.step()
        seconds += time.perf_counter() - start
        accuracy = float((predict(model, x_test) == y_test).mean())
        history.append({"epoch": epoch, "train_loss": total / len(y_train), "test_accuracy": accuracy})
        print(f"epoch {epoch:2d}  train loss {total / len(y_train):.4f}  test accuracy {accuracy:.4f}")
        mg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "history": history, "train_seconds": seconds}, checkpoint)
    return dict(model=model, x_test=x_test, y_test=y_test, history=history, seconds=seconds)


def plot_curves(history: list, path: Path) -> None:
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, [h["train_loss"] for h in history], marker="o")
    left.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    right.plot(epochs, [h["test_accuracy"] for h in history], marker="o", color="tab:green")
    right.set(title="test accuracy", xlabel="epoch", ylabel="accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_filters(model: nn.Module, path: Path) -> None:
    """The first conv's 16 kernels, (3, 3, 1, 16) in NHWC kernel layout, on one colour scale
    centred at 0 (red positive, blue negative weights)."""
    import matplotlib.pyplot as plt

    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    kernels = first_conv.weight.numpy()[:, :, 0, :]
    limit = float(np.abs(kernels).max())
    fig, axes = plt.subplots(2, 8, figsize=(9, 2.6), layout="constrained")
    for i, ax in enumerate(axes.flat):
        image = ax.imshow(kernels[:, :, i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(str(i), fontsize=8)
        ax.axis("off")
    fig.colorbar(image, ax=axes, shrink=0.9, label="weight")
    fig.suptitle("first-layer filters")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_misclassified(images: np.ndarray, truth: np.ndarray, predicted: np.ndarray, path: Path) -> None:
    import matplotlib.pyplot as plt

    wrong = np.flatnonzero(truth != predicted)[:24]
    columns = 8
    rows = max(1, -(-len(wrong) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i, :, :, 0], cmap="gray_r")
        ax.set_title(f"pred {predicted[i]}\ntrue {truth[i]}", fontsize=8, color="tab:red")
    fig.suptitle(f"misclassified test digits ({int((truth != predicted).sum())} of {len(truth)})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_outputs(result: dict, args: argparse.Namespace) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    model, x_test, y_test = result["model"], result["x_test"], result["y_test"]
    predicted = predict(model, x_test)
    summary = nn.summary(model, (8, 8, 1))
    (args.out / "summary.txt").write_text(summary + "\n")
    plot_curves(result["history"], args.out / "curves.png")
    plot_filters(model, args.out / "filters.png")
    plot_misclassified(x_test, y_test, predicted, args.out / "misclassified.png")
    metrics = {"test_accuracy": float((predicted == y_test).mean()), "epochs": len(result["history"]),
               "train_seconds": round(result["seconds"], 2), "train_images": int(len(y_test) * 4),
               "test_images": int(len(y_test)), "model": args.model, "optimizer": args.optimizer,
               "batch_size": args.batch_size, "lr": args.lr, "weight_decay": args.weight_decay,
               "schedule": args.schedule, "clip_grad_norm": args.clip_grad_norm,
               "label_smoothing": args.label_smoothing,
               "seed": args.seed, "history": result["history"]}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="cnn", help="network to train (default cnn)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=None,
                        help="adam, adamw, or sgd with momentum 0.9 (default: cnn adam, resnet adamw)")
    parser.add_argument("--epochs", type=int, default=None, help="total epochs to train (default: cnn 30, resnet 20)")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default 32)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: cnn 0.002, resnet 0.003)")
    parser.add_argument("--weight-decay", type=float, default=None, help="weight decay (default: cnn 0, resnet 0.01)")
    parser.add_argument("--schedule", choices=sorted(SCHEDULES), default=None,
                        help="step: lr x0.3 every 10 epochs; cosine: annealed to 0 over the epochs "
                             "(default: cnn step, resnet cosine)")
    parser.add_argument("--clip-grad-norm", type=float, default=None,
                        help="clip the gradients' total norm to this (default: cnn none, resnet 1.0)")
    parser.add_argument("--label-smoothing", type=float, default=None,
                        help="cross-entropy label smoothing (default: cnn 0, resnet 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed for init, dropout and shuffling (default 0)")
    parser.add_argument("--out", type=Path, default=Path("outputs/digits"), help="output folder")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz up to --epochs")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    for name, value in RECIPES[args.model].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    metrics = write_outputs(train(args), args)
    print(f"test accuracy {metrics['test_accuracy']:.4f} after {metrics['epochs']} epochs, "
          f"{metrics['train_seconds']:.1f} s of training; outputs in {args.out}/")


if __name__ == "__main__":
    main()
