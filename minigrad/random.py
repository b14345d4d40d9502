"""minigrad's random generator, used by creation functions, init, dropout and shuffling."""
from __future__ import annotations

import numpy as np

_generator = {"rng": np.random.default_rng()}


def manual_seed(seed: int) -> None:
    """Seed minigrad's generator so that rand, randn, init, dropout and shuffling repeat."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator["rng"] = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    return _generator["rng"]
