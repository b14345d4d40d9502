"""Evaluate the minigrad twin of a trained casting model on the test split, next to PyTorch.

    python -m examples.casting.evaluate_minigrad --data DIR [--out outputs/casting]
        [--batch-size 32] [--compare-batch 8]

Reads --out/minigrad.npz (written by ``train --export-minigrad``) and --out/best.pt, predicts
every test image with both models, prints how many predicted labels agree and the largest
probability difference, then ``minigrad.interop.compare``'s per-layer report on the first
test images. Writes --out/minigrad_eval.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

import minigrad as mg
from examples.casting.data import load_datasets
from examples.casting.models import build_model
from minigrad import interop, nn


def load_twin(path: Path) -> tuple[nn.Module, dict]:
    """The minigrad model saved by train.export_minigrad, and the checkpoint's contents."""
    state = mg.load(path)
    reference = build_model(state["name"], state["image_size"])    # the architecture to mirror
    twin = interop.from_torch(reference, (1, state["image_size"], state["image_size"], 1))
    twin.load_state_dict(state["model"])
    return twin.eval(), state


def evaluate(data: Path, out: Path, batch_size: int = 32, compare_batch: int = 8) -> dict:
    """Labels and probabilities of both models on the test split, and compare()'s report."""
    twin, state = load_twin(out / "minigrad.npz")
    model = build_model(state["name"], state["image_size"])
    model.load_state_dict(torch.load(out / "best.pt", map_location="cpu")["model"])
    model.eval()
    _, test = load_datasets(data, state["image_size"])
    mine, theirs, labels = [], [], []
    for x, y in DataLoader(test, batch_size=batch_size):
        with torch.no_grad():
            theirs.append(model(x).squeeze(1).numpy())
        with mg.no_grad():
            mine.append(twin(mg.tensor(x.permute(0, 2, 3, 1).numpy())).numpy()[:, 0])
        labels.append(y.numpy())
    mine, theirs, labels = map(np.concatenate, (mine, theirs, labels))
    first = torch.stack([test[i][0] for i in range(min(compare_batch, len(test)))])
    report = interop.compare(twin, model, first.permute(0, 2, 3, 1).numpy(),
                             target=labels[:len(first), None].astype(np.float32), loss="bce")
    result = dict(images=int(len(labels)), labels_agree=int(((mine >= 0.5) == (theirs >= 0.5)).sum()),
                  max_probability_difference=float(np.abs(mine - theirs).max()),
                  minigrad_accuracy=float(((mine >= 0.5) == labels).mean()),
                  pytorch_accuracy=float(((theirs >= 0.5) == labels).mean()),
                  first_divergent=None if report.first_divergent is None else report.first_divergent.name)
    (out / "minigrad_eval.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"test split: {result['labels_agree']}/{result['images']} predicted labels agree; max |p_minigrad - "
          f"p_pytorch| = {result['max_probability_difference']:.2e}; accuracy minigrad "
          f"{result['minigrad_accuracy']:.4f}, PyTorch {result['pytorch_accuracy']:.4f}")
    print(report)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Check the minigrad twin of a trained casting model.")
    parser.add_argument("--data", type=Path, required=True, help="the folder given to train --data")
    parser.add_argument("--out", type=Path, default=Path("outputs/casting"),
                        help="train's output folder, holding best.pt and minigrad.npz")
    parser.add_argument("--batch-size", type=int, default=32, help="default 32")
    parser.add_argument("--compare-batch", type=int, default=8, help="test images compare() runs on, default 8")
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.compare_batch < 1:
        parser.error("--batch-size and --compare-batch must be >= 1")
    evaluate(args.data, args.out, args.batch_size, args.compare_batch)


if __name__ == "__main__":
    main()
