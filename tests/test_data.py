"""TensorDataset, DataLoader and default_collate."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, TensorDataset, default_collate


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


def test_a_generator_makes_the_shuffle_independent_of_the_global_seed() -> None:
    ds = TensorDataset(np.arange(20))
    orders = []
    for seed in (1, 2):
        mg.manual_seed(seed)
        loader = DataLoader(ds, batch_size=20, shuffle=True, generator=np.random.default_rng(7))
        orders.append(next(iter(loader))[0].tolist())
    assert orders[0] == orders[1] == np.random.default_rng(7).permutation(20).tolist()


class Squares:
    """A plain dataset object: only __len__ and __getitem__."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i


def test_dataloader_stacks_items_of_any_indexable_dataset() -> None:
    (features, labels), *_ = DataLoader(Squares(), batch_size=5)
    assert features.shape == (5, 2) and features.dtype == np.float32
    assert labels.tolist() == [0, 1, 2, 3, 4] and labels.dtype == np.int64


def test_default_collate_batches_dicts_lists_numbers_and_strings_like_pytorch() -> None:
    batch = default_collate([{"x": np.ones(2), "name": "a", "w": 0.5, "pair": [1, 2.0]},
                             {"x": np.zeros(2), "name": "b", "w": 1.5, "pair": [3, 4.0]}])
    assert batch["x"].shape == (2, 2) and batch["name"] == ["a", "b"]
    assert batch["w"].dtype == np.float64 and batch["w"].tolist() == [0.5, 1.5]
    assert [t.tolist() for t in batch["pair"]] == [[1, 3], [2.0, 4.0]] and batch["pair"][0].dtype == np.int64


def test_collate_fn_receives_the_list_of_samples() -> None:
    loader = DataLoader(TensorDataset(np.arange(6)), batch_size=4, collate_fn=lambda samples: len(samples))
    assert list(loader) == [4, 2]


def test_samples_of_different_shapes_give_a_clear_error() -> None:
    class Ragged:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.ones(i + 1)

    with pytest.raises(ValueError, match=r"DataLoader: the samples of a batch have different shapes "
                                         r"\[\(1,\), \(2,\)\]; give a collate_fn"):
        next(iter(DataLoader(Ragged(), batch_size=2)))


def test_worker_arguments_are_accepted_and_workers_are_set_up_in_the_main_process() -> None:
    started = []
    loader = DataLoader(TensorDataset(np.arange(4)), batch_size=2, num_workers=2, pin_memory=True,
                        worker_init_fn=started.append, prefetch_factor=2, timeout=5)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3]]
    list(loader)
    assert started == [0, 1, 0, 1]
    persistent = DataLoader(TensorDataset(np.arange(4)), num_workers=3, worker_init_fn=started.append,
                            persistent_workers=True)
    started.clear()
    list(persistent)
    list(persistent)
    assert started == [0, 1, 2]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(batch_size=0), ValueError, r"DataLoader: batch_size must be a positive integer, got 0"),
    (dict(batch_size=2.5), ValueError, r"batch_size must be a positive integer, got 2.5"),
    (dict(num_workers=-1), ValueError, r"DataLoader: num_workers must be a non-negative integer, got -1"),
    (dict(persistent_workers=True), ValueError, r"persistent_workers option needs num_workers > 0"),
    (dict(prefetch_factor=2), ValueError, r"prefetch_factor option could only be specified in multiprocessing"),
    (dict(timeout=-1), ValueError, r"timeout must be a non-negative number"),
    (dict(collate_fn="stack"), TypeError, r"DataLoader: collate_fn must be callable or None, got str"),
    (dict(generator=3), TypeError, r"generator must be a numpy.random.Generator"),
])
def test_bad_dataloader_arguments(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        DataLoader(TensorDataset(np.zeros(3)), **kwargs)


def test_a_dataset_without_indexing_is_refused() -> None:
    with pytest.raises(TypeError, match="DataLoader: dataset must support len\\(\\) and indexing, got generator"):
        DataLoader(x for x in range(3))


@pytest.mark.parametrize("arrays, message", [
    ((np.zeros(3), np.zeros(4)), r"same length, got lengths \[3, 4\]"),
    ((np.float64(1),), r"TensorDataset: argument 0 is a single value \(np.float64\(1.0\)\); each argument needs"),
    ((np.zeros(2), [[1, 2], [3]]), r"TensorDataset: argument 1 is not a rectangular array"),
    ((), r"TensorDataset: needs at least one array"),
])
def test_tensor_dataset_bad_arrays(arrays, message) -> None:
    with pytest.raises(ValueError, match=message):
        TensorDataset(*arrays)
