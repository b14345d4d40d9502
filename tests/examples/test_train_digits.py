"""The digits trainer at a tiny size: every output is written, --resume continues."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import minigrad as mg

OUTPUTS = ["checkpoint.npz", "curves.png", "filters.png", "misclassified.png", "summary.txt", "metrics.json"]


def run(*args: str) -> str:
    return subprocess.run([sys.executable, "examples/train_digits.py", "--quiet", *args],
                          check=True, capture_output=True, text=True).stdout


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
    out = run("--epochs", "2", "--resume", "--out", str(tmp_path))
    assert "resumed from" in out and "epoch  2" in out and "epoch  1 " not in out
    history = json.loads((tmp_path / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2]


def test_help_documents_the_flags() -> None:
    text = subprocess.run([sys.executable, "examples/train_digits.py", "--help"], check=True,
                          capture_output=True, text=True).stdout
    for flag in ("--epochs", "--batch-size", "--lr", "--seed", "--out", "--resume"):
        assert flag in text
