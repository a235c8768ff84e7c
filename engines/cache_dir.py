"""The user's cache directory for converted models (and, later, built GPU engines)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


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
