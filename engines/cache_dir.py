"""The user's cache directory for converted models (and, later, built GPU engines)."""
from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import Callable


def cache_dir(kind: str) -> Path:
    """``$STYLECAST_CACHE`` or ``$XDG_CACHE_HOME/stylecast`` (default ~/.cache/stylecast), then ``kind``."""
    root = os.environ.get("STYLECAST_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stylecast"
    path = Path(root) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cached_arrays(target: Path, make: Callable[[], dict]) -> dict:
    """Arrays by name, kept at ``target`` (an .npz in the cache): read back without pickle, so nothing
    in it can run; made by ``make()`` and written whole (a temporary file, then renamed) when it is
    missing or cannot be read (cut short, damaged). Arrays of kinds numpy keeps only by pickling
    (ml_dtypes' types) are returned and not kept."""
    import numpy as np

    try:
        with np.load(target, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        target.unlink(missing_ok=True)
    arrays = make()
    if all(a.dtype.kind in "biuf" for a in arrays.values()):
        tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(target)
    return arrays
