"""Metrics (defect = positive) and the figures of a casting run."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from examples.casting.data import CLASSES  # noqa: E402

LABEL_NAMES = ("ok", "defective")             # index = label


def binary_metrics(labels: np.ndarray, probs: np.ndarray, threshold: float = 0.5) -> dict:
    """Accuracy, precision, recall, F1 of the defective class and the confusion matrix
    [[TN, FP], [FN, TP]] (rows: true ok/defective, columns: predicted)."""
    predicted = (probs >= threshold).astype(int)
    cm = np.zeros((2, 2), dtype=int)
    np.add.at(cm, (labels.astype(int), predicted), 1)
    (tn, fp), (fn, tp) = cm
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return dict(accuracy=float((tp + tn) / cm.sum()), precision=float(precision),
                recall=float(recall), f1=float(f1), confusion_matrix=cm.tolist(),
                threshold=threshold)


def _show(ax, image, title: str, colour: str = "black") -> None:
    ax.imshow(np.asarray(image).squeeze(), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=8, color=colour)
    ax.axis("off")


def plot_samples(dataset, path: Path, per_class: int = 5, seed: int = 0) -> Path:
    """``per_class`` random training images of each class as stored (no resizing or
    augmentation), one row per class."""
    rng = np.random.default_rng(seed)
    targets = np.asarray(dataset.targets)
    fig, axes = plt.subplots(2, per_class, figsize=(2 * per_class, 4.8), squeeze=False)
    for row, label in enumerate((1, 0)):
        pool = np.flatnonzero(targets == label)
        chosen = rng.choice(pool, size=min(per_class, len(pool)), replace=False)
        for col in range(per_class):
            ax = axes[row, col]
            if col < len(chosen):
                file = Path(dataset.samples[chosen[col]][0])
                _show(ax, np.asarray(dataset.loader(str(file))) / 255.0, file.name)
            else:
                ax.axis("off")
    fig.suptitle("training samples: defective (top), ok (bottom)")
    return _save(fig, path)


def plot_curves(history: list[dict], path: Path) -> Path:
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(epochs, [h["train_loss"] for h in history], "o-", label="training")
    left.plot(epochs, [h["val_loss"] for h in history], "o-", label="validation (test split)")
    left.set(xlabel="epoch", ylabel="BCE loss", title="loss")
    left.legend()
    right.plot(epochs, [h["val_accuracy"] for h in history], "o-", color="C2")
    right.set(xlabel="epoch", ylabel="accuracy", title="validation accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_confusion(cm: list[list[int]], path: Path) -> Path:
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.imshow(cm, cmap="Blues")
    for (i, j), count in np.ndenumerate(cm):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > cm.max() / 2 else "black", fontsize=12)
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=LABEL_NAMES, yticklabels=LABEL_NAMES,
           xlabel="predicted", ylabel="true", title="confusion matrix (test split)")
    return _save(fig, path)


def plot_misclassified(dataset, labels: np.ndarray, probs: np.ndarray, path: Path,
                       threshold: float = 0.5, limit: int = 16) -> Path:
    """Up to ``limit`` wrongly classified test images, the most confident mistakes first."""
    wrong = np.flatnonzero((probs >= threshold) != labels.astype(bool))
    wrong = wrong[np.argsort(-np.abs(probs[wrong] - threshold))][:limit]
    cols = 4
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, wrong):
        _show(ax, dataset[index][0][0], f"true {LABEL_NAMES[int(labels[index])]}\n"
              f"p(defect) = {probs[index]:.2f}", colour="C3")
    title = f"{len(np.flatnonzero((probs >= threshold) != labels.astype(bool)))} misclassified test images"
    fig.suptitle(title if len(wrong) else "no misclassified test images")
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
