"""TensorDataset, DataLoader and default_collate: batches of Tensors, shuffled by minigrad's generator.

Everything runs in the main process: ``num_workers``, ``pin_memory``, ``persistent_workers``,
``timeout`` and ``prefetch_factor`` are accepted (and checked as PyTorch checks them) so that
PyTorch code runs unchanged, but there are no worker processes and no pinned memory (there is
no GPU). ``worker_init_fn(worker_id)`` is called in the main process once per worker id when
an epoch's iteration starts (once in all with ``persistent_workers``), so per-worker set-up
still happens.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, Callable, Iterator

import numpy as np

from minigrad.random import generator as default_generator
from minigrad.tensor import Tensor, as_tensor


class TensorDataset:
    """Rows of equally long arrays or tensors; ``dataset[i]`` is a tuple of one row from each."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        self.arrays = []
        for i, a in enumerate(arrays):
            try:
                array = a.data if isinstance(a, Tensor) else np.asarray(a)
            except ValueError as error:
                raise ValueError(f"TensorDataset: argument {i} is not a rectangular array: {error}") from None
            if array.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is a single value ({a!r}); each argument needs a "
                                 f"first dimension that indexes the samples")
            self.arrays.append(array)
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: arrays must have the same length, got lengths {lengths}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple:
        return tuple(a[index] for a in self.arrays)


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, as PyTorch's ``default_collate`` does.

    Arrays, Tensors and numbers become one Tensor (Python floats float64, ints int64, as in
    PyTorch); tuples and lists are collated field by field (a tuple of batches); dicts key by
    key; strings stay a list.
    """
    first = batch[0]
    if isinstance(first, (Tensor, np.ndarray, np.generic, numbers.Number)):
        arrays = [np.asarray(s.data if isinstance(s, Tensor) else s) for s in batch]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"DataLoader: the samples of a batch have different shapes {sorted(shapes)}; "
                             f"give a collate_fn that pads or crops them")
        return as_tensor(np.stack(arrays))
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if len({len(sample) for sample in batch}) > 1:
            raise ValueError("DataLoader: each sample in a batch must have the same number of fields")
        fields = [default_collate(list(column)) for column in zip(*batch)]
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"DataLoader: default_collate cannot batch samples of type {type(first).__name__}; "
                    f"give a collate_fn")


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive integer" if minimum > 0 else "a non-negative integer"
        raise ValueError(f"DataLoader: {name} must be {kind}, got {value!r}")
    return int(value)


class DataLoader:
    """Iterate a dataset (anything with ``len()`` and ``[i]``) in batches; a TensorDataset
    yields tuples of Tensors (one per field)."""

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable[[int], None] | None = None,
                 generator: np.random.Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must support len() and indexing, got {type(dataset).__name__}")
        self.batch_size = _check_count("batch_size", batch_size, 1)
        self.num_workers = _check_count("num_workers", num_workers, 0)
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"DataLoader: timeout must be a non-negative number, got {timeout!r}")
        if self.num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None")
        if self.num_workers == 0 and persistent_workers:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        for name, function in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn)):
            if function is not None and not callable(function):
                raise TypeError(f"DataLoader: {name} must be callable or None, got {type(function).__name__}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy.random.Generator (e.g. "
                            f"np.random.default_rng(0)) or None, got {type(generator).__name__}")
        self.dataset, self.shuffle, self.drop_last = dataset, bool(shuffle), bool(drop_last)
        self.collate_fn, self.worker_init_fn, self.generator = collate_fn, worker_init_fn, generator
        self.pin_memory, self.timeout, self.prefetch_factor = bool(pin_memory), timeout, prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self._workers_started = False

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        self._start_workers()
        n = len(self.dataset)
        order = (self.generator or default_generator()).permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _start_workers(self) -> None:
        if self.worker_init_fn is None or (self.persistent_workers and self._workers_started):
            return
        for worker_id in range(self.num_workers):
            self.worker_init_fn(worker_id)
        self._workers_started = True

    def _batch(self, indices: np.ndarray) -> Any:
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is None:   # one fancy index per field
            return tuple(as_tensor(np.ascontiguousarray(f)) for f in self.dataset[indices])
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or default_collate)(samples)
