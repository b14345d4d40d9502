"""The digits trainer at a tiny size: every output is written, --resume continues, the
residual model trains, the progress bar counts batches."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import minigrad as mg

OUTPUTS = ["checkpoint.npz", "curves.png", "filters.png", "misclassified.png", "summary.txt", "metrics.json"]


def run(*args: str, quiet: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "examples/train_digits.py", *(["--quiet"] if quiet else []), *args],
                          check=True, capture_output=True, text=True)


def test_two_epochs_write_every_output_and_learn(tmp_path: Path) -> None:
    run("--epochs", "2", "--out", str(tmp_path))
    assert all((tmp_path / name).stat().st_size > 0 for name in OUTPUTS)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and len(metrics["history"]) == 2
    assert metrics["test_accuracy"] > 0.6 and metrics["train_seconds"] > 0
    assert "Total params:" in (tmp_path / "summary.txt").read_text()
    assert set(mg.load(tmp_path / "checkpoint.npz")) == {"model", "optimizer", "scheduler", "history", "train_seconds"}


def test_resume_continues_from_the_checkpoint(tmp_path: Path) -> None:
    run("--epochs", "1", "--out", str(tmp_path))
    out = run("--epochs", "2", "--resume", "--out", str(tmp_path)).stdout
    assert "resumed from" in out and "epoch  2" in out and "epoch  1 " not in out
    history = json.loads((tmp_path / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2]


def test_residual_model_trains_with_sgd(tmp_path: Path) -> None:
    run("--model", "resnet", "--optimizer", "sgd", "--lr", "0.05", "--batch-size", "64", "--epochs", "1",
        "--out", str(tmp_path))
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["model"] == "resnet" and metrics["optimizer"] == "sgd"
    assert metrics["test_accuracy"] > 0.4
    assert "block2.shortcut.0 (Conv2d)" in (tmp_path / "summary.txt").read_text()


def test_progress_bar_redraws_with_the_current_batch_count(tmp_path: Path) -> None:
    bar = run("--epochs", "1", "--out", str(tmp_path), quiet=False).stderr.replace("\r", "\n")
    with_loss = re.findall(r"(\d+)/(\d+) \[[^]]*loss=", bar)
    assert with_loss, bar
    assert all(int(done) > 0 for done, _ in with_loss), "a redraw after a batch showed 0 batches done"


def test_help_documents_the_flags() -> None:
    text = subprocess.run([sys.executable, "examples/train_digits.py", "--help"], check=True,
                          capture_output=True, text=True).stdout
    for flag in ("--model", "--optimizer", "--epochs", "--batch-size", "--lr", "--weight-decay", "--schedule",
                 "--clip-grad-norm", "--label-smoothing", "--seed", "--out", "--resume"):
        assert flag in text


def test_residual_model_trains_with_its_recipe(tmp_path: Path) -> None:
    run("--model", "resnet", "--epochs", "1", "--out", str(tmp_path))
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (metrics["optimizer"], metrics["lr"], metrics["weight_decay"], metrics["schedule"],
            metrics["clip_grad_norm"], metrics["label_smoothing"]) == ("adamw", 3e-3, 1e-2, "cosine", 1.0, 0.1)
    assert metrics["test_accuracy"] > 0.4


def test_plain_cnn_keeps_its_recipe(tmp_path: Path) -> None:
    run("--epochs", "1", "--out", str(tmp_path))
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (metrics["optimizer"], metrics["lr"], metrics["weight_decay"], metrics["schedule"],
            metrics["clip_grad_norm"], metrics["label_smoothing"]) == ("adam", 2e-3, 0.0, "step", None, 0.0)
