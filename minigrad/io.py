"""save / load: nested dicts of arrays and numbers as .npz, written atomically."""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np

from minigrad.tensor import Tensor

FORMAT = "minigrad-checkpoint-1"
_STRUCTURE_KEY = "__minigrad_structure__"


def _split(obj: Any, arrays: dict, prefix: str) -> Any:
    """The JSON skeleton of ``obj``; arrays move to ``arrays`` under their path."""
    if isinstance(obj, dict):
        return {"dict": [[str(k), type(k).__name__, _split(v, arrays, f"{prefix}/{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {type(obj).__name__: [_split(v, arrays, f"{prefix}/{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        arrays[prefix] = obj.data if isinstance(obj, Tensor) else np.asarray(obj)
        return {"array": prefix}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(f"save: cannot store a value of type {type(obj).__name__} at {prefix or '/'}")


def _join(skeleton: dict, arrays: Any) -> Any:
    kind, body = next(iter(skeleton.items()))
    if kind == "dict":
        return {(int(k) if t == "int" else k): _join(v, arrays) for k, t, v in body}
    if kind in ("list", "tuple"):
        items = [_join(v, arrays) for v in body]
        return items if kind == "list" else tuple(items)
    return arrays[body] if kind == "array" else body


def save(obj: dict, path: str | os.PathLike) -> None:
    """Write ``obj`` (e.g. ``model.state_dict()``) to ``path``: temp file, fsync, rename.

    A crash mid-save leaves the previous file (if any) untouched under ``path``.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    skeleton = _split(obj, arrays, "")
    payload = {f"a{i}": array for i, array in enumerate(arrays.values())}
    names = dict(zip(arrays, payload))
    header = json.dumps({"format": FORMAT, "skeleton": skeleton, "names": names})
    atomic_write(path, lambda f: np.savez(f, **{_STRUCTURE_KEY: np.array(header)}, **payload))


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, fsync, then rename it.

    Readers see the old file or the new one, never half of one; the new file gets the usual
    permissions (0666 minus the umask), not the 0600 of a temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike) -> dict:
    """Read a file written by ``save``; a truncated or foreign file raises ValueError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load: no such file {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(str(archive[_STRUCTURE_KEY]))
            if header.get("format") != FORMAT:
                raise ValueError(f"unknown format {header.get('format')!r}")
            stored = {name: archive[key] for name, key in header["names"].items()}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, json.JSONDecodeError) as error:
        raise ValueError(f"load: {path} is not a readable minigrad checkpoint (truncated, corrupt or "
                         f"written by something else): {error}") from None
    return _join(header["skeleton"], stored)
