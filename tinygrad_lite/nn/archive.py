"""Archives: named arrays in an .npz file (numpy's np.load reads it), written whole or not at all, and read back
for a model after every header has been checked against it. Module.save and load, and the GPT's checkpoints.
"""

from __future__ import annotations

import errno
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import atomic_file


def write_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Arrays by name into exactly `path` as an .npz archive (np.load reads it), written whole or not at all:
    into a temporary file beside it, then renamed. Module.save and the GPT's checkpoints write through here."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"save: {path} is a folder; give a file name, such as {path / 'model.npz'}")
    if not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"save: the folder {path.parent} does not exist (make it first, or "
                                              "give another path)", str(path.parent))
    with atomic_file(path) as fh, zipfile.ZipFile(fh, "w") as z:
        for name, array in arrays.items():
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)
    return path


class _Refused(ValueError):
    """What load() found wrong with a file, already said in words."""


def _damage(path: Path, e: Exception) -> str:
    if isinstance(e, _Refused):
        return str(e)
    with open(path, "rb") as fh:
        head = fh.read(6)
    if not head:
        return "the file is empty"
    if head == b"\x93NUMPY":
        return "this is a single .npy array; load() reads the .npz archive of named arrays that save() writes"
    if head.startswith(b"PK"):
        if isinstance(e, NotImplementedError):
            return f"an entry is compressed with a method that load() does not read ({e}); save() writes plain entries"
        if isinstance(e, RuntimeError):
            return f"an entry is encrypted or unreadable ({e}); save() writes plain entries"
        return f"the archive is damaged or truncated (not a complete zip file: {e})"
    return "not a file written by save() (an .npz archive of named arrays)"


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _checked_arrays(path: Path, params: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of an .npz archive for these parameters, each checked from its header before it is read."""
    with zipfile.ZipFile(path) as z:
        members = {}
        for info in z.infolist():
            name = info.filename.removesuffix(".npy")
            if name not in params:
                raise _Refused(f"it holds {name!r}, which the model does not have (it has {', '.join(params)})")
            p = params[name]
            with z.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version not in _HEADER_READERS:
                    raise _Refused(f"{name!r} is stored in .npy format {version}, which load() does not read")
                try:
                    shape, _, dtype = _HEADER_READERS[version](f)
                except (ValueError, SyntaxError, TypeError, tokenize.TokenError, MemoryError) as e:
                    raise _Refused(f"the header of {name!r} is damaged or cut short "
                                   f"({type(e).__name__}: {e})") from None
                header = f.tell()
            if dtype.kind != "f":
                raise _Refused(f"parameter {name!r} has dtype {dtype.str if dtype.kind in 'SU' else dtype} in the "
                               "file; parameters are real floats")
            if shape != p.shape:
                raise _Refused(f"parameter {name!r} has shape {shape} in the file, the model's has shape {p.shape}")
            if info.file_size > header + p.size * dtype.itemsize:
                raise _Refused(f"parameter {name!r} holds more bytes than its header declares")
            members[name] = info
        missing = params.keys() - members.keys()
        if missing:
            raise _Refused(f"it has no {', '.join(repr(m) for m in sorted(missing))}")
        state = {}
        for name, info in members.items():
            with z.open(info) as f:
                state[name] = np.lib.format.read_array(f, allow_pickle=False)
    return state



def read_arrays(path: str | Path, params: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of the archive at `path` for these parameters (name -> Value): each name, shape and dtype read
    from its header and checked against them before any array is read; anything else one ValueError naming the
    file and what is wrong."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"load: {path} is a folder; give the file that save() wrote")
    if path.exists() and not path.is_file():  # a device (/dev/zero) or a pipe: reading it may never end
        raise ValueError(f"load: {path} is not a regular file; give the file that save() wrote")
    try:
        return _checked_arrays(path, params)
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, OSError, NotImplementedError, RuntimeError) as e:
        if isinstance(e, (FileNotFoundError, PermissionError)):
            raise  # no such file, no permission: Python's own message says it
        raise ValueError(f"load: {path}: {_damage(path, e)}") from None
