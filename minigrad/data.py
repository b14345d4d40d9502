"""TensorDataset and DataLoader: batches of Tensors, shuffled by minigrad's generator."""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from minigrad.random import generator
from minigrad.tensor import Tensor, as_tensor


class TensorDataset:
    """Rows of equally long arrays or tensors; ``dataset[i]`` is a tuple of one row from each."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        self.arrays = [a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays]
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: arrays must have the same length, got lengths {lengths}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple:
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Iterate a dataset in batches; each batch is a tuple of Tensors (one per field)."""

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must support len() and indexing, got {type(dataset).__name__}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, int(batch_size), shuffle, drop_last

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        order = generator().permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        if isinstance(self.dataset, TensorDataset):             # one fancy index per field
            fields = self.dataset[indices]
        else:
            fields = [np.stack(column) for column in zip(*(self.dataset[int(i)] for i in indices))]
        return tuple(as_tensor(np.ascontiguousarray(f)) for f in fields)
