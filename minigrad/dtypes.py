"""The default floating dtype (float32 unless ``set_default_dtype`` changes it)."""
from __future__ import annotations

import numbers

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


# ----- type promotion (PyTorch's torch.result_type) -----------------------------------------
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}        # bool < integer < floating


def _category(operand) -> tuple[str, np.dtype]:
    """('dim' | 'zero' | 'scalar', dtype) of one operand, as PyTorch sorts them.

    Tensors (anything with ``.data``) and arrays with dimensions are 'dim', 0-d ones 'zero';
    Python and NumPy scalars are 'scalar' (PyTorch's wrapped numbers): a float takes the
    default dtype, an int int64, a bool bool, whatever NumPy type they have.
    """
    data = operand
    if not isinstance(operand, (numbers.Number, np.generic, np.ndarray)):
        data = getattr(operand, "data", operand)              # a Tensor: its array
        if isinstance(data, (list, tuple)):
            data = np.asarray(data)
    if isinstance(data, np.ndarray):
        return ("dim" if data.ndim else "zero"), data.dtype
    if isinstance(data, (bool, np.bool_)):
        return "scalar", np.dtype(np.bool_)
    if isinstance(data, (int, np.integer)):
        return "scalar", np.dtype(np.int64)
    if isinstance(data, (float, np.floating)):
        return "scalar", get_default_dtype()
    raise TypeError(f"result_type: unsupported operand of type {type(operand).__name__}")


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """``torch.promote_types``: a float with an integer or bool is that float (NumPy would
    widen int32 + float32 to float64); otherwise NumPy's rule, which is PyTorch's for these."""
    a, b = np.dtype(a), np.dtype(b)
    if a.kind == "f" and b.kind != "f":
        return a
    if b.kind == "f" and a.kind != "f":
        return b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """PyTorch's combine_categories: ``lower`` (a lower-priority category) only counts when it
    is of a higher kind (a float scalar with an int tensor), or when ``higher`` is bool."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or _KIND_RANK[lower.kind] > _KIND_RANK[higher.kind]:
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> np.dtype:
    """The dtype of a binary op on ``operands`` (tensors, arrays, Python or NumPy scalars),
    exactly ``torch.result_type``: dimensioned tensors, zero-dim tensors and scalars are three
    categories; within one they promote normally, and a lower category only raises the kind
    (bool < integer < floating), never the size: float32 tensor * np.float64 scalar is float32,
    int32 tensor * 2.5 is the default float dtype."""
    found: dict[str, np.dtype | None] = {"dim": None, "zero": None, "scalar": None}
    for operand in operands:
        category, dtype = _category(operand)
        previous = found[category]
        found[category] = dtype if previous is None else promote_types(previous, dtype)
    return _combine(found["dim"], _combine(found["zero"], found["scalar"]))


def true_divide_type(*operands) -> np.dtype:
    """``result_type``, with integer and bool results becoming the default float (``/``)."""
    dtype = result_type(*operands)
    return dtype if dtype.kind == "f" else get_default_dtype()
