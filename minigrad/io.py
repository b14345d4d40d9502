"""save / load: nested containers of arrays, tensors and numbers as .npz, written atomically.

The file is a NumPy ``.npz`` archive: arrays ``a0, a1, ...`` plus one JSON header that
records the structure (every dict key with its type, every list and tuple), so that what
``load`` returns equals what ``save`` was given. Nothing is pickled: loading a file runs no
code. Whatever would not come back equal is refused by ``save``, naming where it sits.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np

from minigrad.tensor import Tensor

FORMAT = "minigrad-checkpoint-2"
_OLD_FORMAT = "minigrad-checkpoint-1"            # keys as strings, arrays named by their path
_STRUCTURE_KEY = "__minigrad_structure__"


def _where(path: str) -> str:
    return path or "the top level"


def _encode_key(key: Any, path: str) -> Any:
    """A dict key as JSON that remembers its type: str, int, float, bool, None or a tuple of those."""
    if key is None:
        return {"none": None}
    if isinstance(key, (bool, np.bool_)):
        return {"bool": bool(key)}
    if isinstance(key, str):
        return {"str": str(key)}
    if isinstance(key, (int, np.integer)):
        return {"int": int(key)}
    if isinstance(key, (float, np.floating)):
        return {"float": float(key)}
    if isinstance(key, tuple):
        return {"tuple": [_encode_key(k, path) for k in key]}
    raise TypeError(f"save: cannot store the dict key {key!r} ({type(key).__name__}) at {_where(path)}; "
                    f"keys may be str, int, float, bool, None or tuples of those")


def _decode_key(encoded: dict) -> Any:
    kind, value = next(iter(encoded.items()))
    if kind == "tuple":
        return tuple(_decode_key(k) for k in value)
    return {"int": int, "float": float}.get(kind, lambda v: v)(value)


def _array_to_store(array: np.ndarray, path: str) -> np.ndarray:
    if type(array) is not np.ndarray:
        raise TypeError(f"save: the array at {_where(path)} is a {type(array).__name__}, which would come back "
                        f"as a plain ndarray; store np.asarray(...) of it (and anything else it holds)")
    if array.dtype.hasobject:
        raise TypeError(f"save: the array at {_where(path)} has dtype {array.dtype}, which holds Python objects "
                        f"and cannot be stored without pickle; store numeric arrays")
    return array


def _split(obj: Any, arrays: list, path: str, open_containers: set) -> dict:
    """The JSON skeleton of ``obj``; arrays are appended to ``arrays`` and named a0, a1, ..."""
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in open_containers:
            raise ValueError(f"save: the object contains itself at {_where(path)}")
        open_containers.add(id(obj))
        try:
            if isinstance(obj, dict):
                return {"dict": [[_encode_key(k, path), _split(v, arrays, f"{path}/{k}", open_containers)]
                                 for k, v in obj.items()]}
            if type(obj) not in (list, tuple):
                raise TypeError(f"save: cannot store the {type(obj).__name__} at {_where(path)} (it would come "
                                f"back as a plain {type(obj).__bases__[0].__name__}); convert it first")
            return {type(obj).__name__: [_split(v, arrays, f"{path}/{i}", open_containers)
                                         for i, v in enumerate(obj)]}
        finally:
            open_containers.discard(id(obj))
    if isinstance(obj, Tensor):
        from minigrad.nn import Parameter            # nn sits above io; imported only when needed

        if type(obj) not in (Tensor, Parameter):
            raise TypeError(f"save: cannot store the {type(obj).__name__} at {_where(path)} (it would come back "
                            f"as a plain Tensor); convert it first")
        arrays.append(_array_to_store(obj.data, path))
        kind = "parameter" if type(obj) is Parameter else "tensor"
        return {kind: f"a{len(arrays) - 1}", "requires_grad": obj.requires_grad}
    if isinstance(obj, np.generic):
        arrays.append(_array_to_store(np.asarray(obj), path))
        return {"scalar": f"a{len(arrays) - 1}"}
    if isinstance(obj, np.ndarray):
        arrays.append(_array_to_store(obj, path))
        return {"array": f"a{len(arrays) - 1}"}
    if obj is None or type(obj) in (bool, int, float, str):
        return {"value": obj}
    hint = ""
    if callable(getattr(obj, "state_dict", None)):
        name = "model" if callable(getattr(obj, "parameters", None)) else "obj"
        hint = (f"; save its state instead: mg.save({name}.state_dict(), path), and restore it with "
                f"{name}.load_state_dict(mg.load(path))")
    raise TypeError(f"save: cannot store a value of type {type(obj).__name__} at {_where(path)}{hint}")


def _entry_key(entry: list) -> Any:
    """A dict entry is [typed key, value]; the first format wrote [str(key), type name, value]."""
    if len(entry) == 2:
        return _decode_key(entry[0])
    key, type_name, _ = entry
    return int(key) if type_name == "int" else key


def _join(skeleton: dict, read: Callable[[str], np.ndarray]) -> Any:
    kind, body = next(iter(skeleton.items()))
    if kind == "dict":
        return {_entry_key(entry): _join(entry[-1], read) for entry in body}
    if kind in ("list", "tuple"):
        items = [_join(v, read) for v in body]
        return items if kind == "list" else tuple(items)
    if kind == "tensor":
        return Tensor(read(body), requires_grad=skeleton["requires_grad"])
    if kind == "parameter":
        from minigrad.nn import Parameter            # nn sits above io; imported only when needed

        return Parameter(read(body), requires_grad=skeleton["requires_grad"])
    if kind == "scalar":
        return read(body)[()]
    return read(body) if kind == "array" else body


def _checked_path(function: str, path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{function}: path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{function}: {path} is a directory; give a file name, e.g. {path / 'checkpoint.npz'}")
    return path


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (e.g. ``model.state_dict()``) to ``path``: temp file, fsync, rename.

    ``obj`` may nest dicts (keys: str, int, float, bool, None, tuples of those), lists, tuples,
    NumPy arrays and scalars, Tensors (they come back as Tensors with their requires_grad),
    None, bools, ints, floats and strings; anything else raises TypeError before a byte is
    written. A crash mid-save leaves the previous file (if any) untouched under ``path``.
    """
    path = _checked_path("save", path)
    arrays: list[np.ndarray] = []
    skeleton = _split(obj, arrays, "", set())
    header = json.dumps({"format": FORMAT, "skeleton": skeleton})
    payload = {f"a{i}": array for i, array in enumerate(arrays)}
    atomic_write(path, lambda f: np.savez(f, **{_STRUCTURE_KEY: np.array(header)}, **payload))


def _temp_pattern(path: Path) -> re.Pattern:
    return re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[^.]+\.tmp")


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:                             # someone else's process
        return True
    return True


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Delete the temp files that killed writers of ``path`` left behind; return them.

    A temp file is named ``.<name>.<pid>.<random>.tmp``; it is stale when process ``pid``
    is gone (a writer that is still running keeps its file).
    """
    path = Path(path)
    pattern, removed = _temp_pattern(path), []
    for entry in os.scandir(path.parent):
        match = pattern.fullmatch(entry.name)
        if match and not _is_running(int(match.group(1))):
            Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, fsync, then rename it.

    Readers see the old file or the new one, never half of one; the new file gets the usual
    permissions (0666 minus the umask), not the 0600 of a temporary file. Temp files of
    ``path`` left by writers that were killed are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
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
    _fsync_directory(path.parent)
    return path


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _foreign_kind(path: Path) -> str:
    """A hint for a zip file that is not a minigrad checkpoint but something well known."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if any(name.endswith("data.pkl") for name in archive.namelist()):
                return ("; it looks like a PyTorch file (torch.save): load it with torch and convert the "
                        "tensors with .numpy()")
    return ""


def load(path: str | os.PathLike, *, weights_only: bool | None = None, map_location: Any = None) -> Any:
    """Read a file written by ``save``; a truncated or foreign file raises ValueError.

    ``weights_only`` and ``map_location`` are accepted for PyTorch's signature: a minigrad
    checkpoint never holds pickled code, so it is always loaded as plain data, and there is
    one device (``map_location`` may be None or ``'cpu'``).
    """
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"load: weights_only must be True, False or None, got {weights_only!r}")
    if map_location is not None and str(map_location) != "cpu":
        raise ValueError(f"load: minigrad runs on the CPU only; map_location must be None or 'cpu', "
                         f"got {map_location!r}")
    path = _checked_path("load", path)
    if not path.exists():
        raise FileNotFoundError(f"load: no such file {path}")
    with open(path, "rb") as f:
        if f.read(6) == b"\x93NUMPY":
            raise ValueError(f"load: {path} is a NumPy .npy file (written by np.save), not a minigrad "
                             f"checkpoint; read it with numpy.load")
    try:
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(str(archive[_STRUCTURE_KEY]))
            if header.get("format") not in (FORMAT, _OLD_FORMAT):
                raise ValueError(f"unknown format {header.get('format')!r}")
            names = header.get("names", {})
            stored = {key: archive[key] for key in archive.files if key != _STRUCTURE_KEY}
            return _join(header["skeleton"], lambda ref: stored[names.get(ref, ref)])
    except (zipfile.BadZipFile, KeyError, IndexError, ValueError, TypeError, AttributeError, OSError, EOFError,
            json.JSONDecodeError) as error:
        raise ValueError(f"load: {path} is not a readable minigrad checkpoint (truncated, corrupt or "
                         f"written by something else){_foreign_kind(path)}: {error}") from None
