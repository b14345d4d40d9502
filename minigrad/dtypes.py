"""The default floating dtype (float32 unless ``set_default_dtype`` changes it)."""
from __future__ import annotations

import numpy as np

_default = {"dtype": np.dtype(np.float32)}


def set_default_dtype(dtype) -> None:
    """Make ``dtype`` (a NumPy float dtype) the dtype of Python floats and new float tensors."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default["dtype"] = dtype


def get_default_dtype() -> np.dtype:
    return _default["dtype"]


def resolve_dtype(dtype) -> np.dtype:
    """``None`` -> the default float dtype; anything else -> ``np.dtype(dtype)``."""
    return _default["dtype"] if dtype is None else np.dtype(dtype)
