"""TensorDataset, DataLoader, save and load."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import io, nn
from minigrad.data import DataLoader, TensorDataset


def test_dataloader_batches_cover_the_data_once_and_drop_last_works() -> None:
    x, y = np.arange(10.0).reshape(10, 1), np.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[0]) for b in batches] == [4, 4, 2]
    assert isinstance(batches[0][0], mg.Tensor) and batches[0][1].dtype == np.int64
    assert len(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)) == 2


def test_shuffle_is_seeded_by_manual_seed_and_is_a_permutation() -> None:
    ds = TensorDataset(np.arange(20))
    mg.manual_seed(4)
    first = np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=6, shuffle=True)])
    mg.manual_seed(4)
    second = np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=6, shuffle=True)])
    np.testing.assert_array_equal(first, second)
    assert sorted(first) == list(range(20)) and list(first) != list(range(20))


def test_dataloader_stacks_items_of_any_indexable_dataset() -> None:
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i

    (features, labels), *_ = DataLoader(Squares(), batch_size=5)
    assert features.shape == (5, 2) and labels.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(batch_size=0), ValueError, r"DataLoader: batch_size must be a positive integer, got 0"),
    (dict(batch_size=2.5), ValueError, r"batch_size must be a positive integer, got 2.5"),
])
def test_bad_dataloader_arguments(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        DataLoader(TensorDataset(np.zeros(3)), **kwargs)


def test_tensor_dataset_needs_equal_lengths() -> None:
    with pytest.raises(ValueError, match=r"same length, got lengths \[3, 4\]"):
        TensorDataset(np.zeros(3), np.zeros(4))


def test_save_and_load_round_trip_a_model(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    mg.save(model.state_dict(), tmp_path / "model.npz")
    loaded = mg.load(tmp_path / "model.npz")
    assert list(loaded) == list(model.state_dict())
    other = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    other.load_state_dict(loaded)
    np.testing.assert_array_equal(other[0].weight.numpy(), model[0].weight.numpy())


def test_truncated_and_foreign_files_give_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ck.npz"
    mg.save({"w": np.ones(1000)}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"load: .*ck.npz is not a readable minigrad checkpoint"):
        mg.load(path)
    foreign = tmp_path / "other.npz"
    np.savez(foreign, w=np.ones(3))
    with pytest.raises(ValueError, match="not a readable minigrad checkpoint"):
        mg.load(foreign)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a readable minigrad checkpoint"):
        mg.load(tmp_path / "text.npz")


def test_a_crash_mid_save_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ck.npz"
    mg.save({"w": np.zeros(3)}, path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(io.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"w": np.ones(3)}, path)
    np.testing.assert_array_equal(mg.load(path)["w"], np.zeros(3))
    assert os.listdir(tmp_path) == ["ck.npz"]                 # no temp file left behind
