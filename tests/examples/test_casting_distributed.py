"""examples/casting/distributed.py under torchrun: 2 CPU processes (gloo) on tiny synthetic
casting data end with identical weights, the loss falls, and the weights come back into
minigrad."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from examples.casting import distributed, make_synthetic

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return make_synthetic.write_dataset(tmp_path_factory.mktemp("casting_ddp"), 6, 1, size=16,
                                        seed=2, progress=False)


def test_two_processes_end_with_identical_weights_and_a_falling_loss(tiny_data, tmp_path) -> None:
    torchrun = Path(sys.executable).with_name("torchrun")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    result = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "examples.casting.distributed",
         "--data", str(tiny_data), "--epochs", "6", "--batch-size", "3", "--lr", "0.01",
         "--image-size", "16", "--out", str(tmp_path), "--every-rank-weights"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("epoch 6/6") == 1                     # rank 0 alone logs
    rank0, rank1 = mg.load(tmp_path / "rank0.npz"), mg.load(tmp_path / "rank1.npz")
    assert list(rank0) == ["0.weight", "0.bias", "4.weight", "4.bias", "6.weight", "6.bias"]
    for key in rank0:
        np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["backend"] == "gloo"
    losses = [h["train_loss"] for h in metrics["history"]]
    assert losses[-1] < 0.95 * losses[0], losses                  # it learns (10 images, 6 epochs)
    model = distributed.minigrad_simplenet(16)
    model.load_state_dict(mg.load(tmp_path / "minigrad.npz")["model"])
    np.testing.assert_array_equal(model.state_dict()["4.weight"], rank0["4.weight"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "metrics.json", "minigrad.npz",
                                                          "rank0.npz", "rank1.npz"]


def test_without_torchrun_it_trains_in_one_process(tiny_data, tmp_path) -> None:
    metrics = distributed.train(distributed.parse_args(
        ["--data", str(tiny_data), "--epochs", "1", "--batch-size", "4", "--image-size", "8", "--out", str(tmp_path)]))
    assert metrics["world_size"] == 1 and len(metrics["history"]) == 1
    assert (tmp_path / "minigrad.npz").exists()
