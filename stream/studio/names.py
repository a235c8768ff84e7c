"""Names in FOLDER as crews write them: ``take (2).mp4``, ``Szene 1 Über.mp4``, ``日本語.mp4`` are
names; a path, a hidden file, a control character or a name the file system cannot hold is not.

A name from the page is kept exactly as it came (the folder's own names are listed as the disk
holds them) and checked to be a name in FOLDER and nothing else; it reaches the disk only as
``FOLDER / name`` and SQLite only as a bound parameter. An output name is never one that is taken: by a file or folder of FOLDER (a
clip, an earlier render, anything), or by a job that will write it; ``free_output`` offers the
next free one (``-v2``, ``-v3`` ...).

Names that differ only by case or by Unicode form (``bikes.mp4``, ``bikes.MP4``; a composed ``Ü``
and ``U`` with a combining diaeresis, as macOS writes it) are one name, on every file system: a
folder on macOS or Windows holds only one of them, so one is never written beside the other
(``taken_as``).
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

from engines.errors import OptionError

MAX_BYTES = 255  # what Linux, macOS and Windows file systems hold in one name (UTF-8 bytes)


def checked_name(name, what: str = "file") -> str:
    """A name in FOLDER from the page: never a path, never hidden, at most MAX_BYTES bytes."""
    if not isinstance(name, str) or not name.strip():
        raise OptionError(f"give the {what}'s name")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise OptionError(f"a {what} is named by its name in the folder, not a path: {name!r}")
    if name.startswith("."):
        raise OptionError(f"a {what}'s name cannot start with a dot (a hidden file): {name!r}")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in name) or name != name.strip():
        raise OptionError(f"a {what}'s name cannot hold control characters or start or end with a space: {name!r}")
    if len(name.encode()) > MAX_BYTES:
        raise OptionError(f"a {what}'s name can be at most {MAX_BYTES} bytes long (this one is "
                          f"{len(name.encode())}): shorten it")
    return name


def folded(name: str) -> str:
    """What tells names apart on every file system: the Unicode composed form, case folded."""
    return unicodedata.normalize("NFC", name).casefold()


def taken_as(folder: Path, name: str, taken: set[str] = frozenset()) -> str | None:
    """The name in ``folder`` (or in ``taken``) that is ``name`` on some file system, or None."""
    key = folded(name)
    try:
        present = [p.name for p in folder.iterdir()]
    except OSError:
        present = []
    return next((n for n in [*present, *taken] if folded(n) == key), None)


def fitted(stem: str, suffix: str) -> str:
    """``stem + suffix`` shortened (the stem, whole characters) to fit MAX_BYTES."""
    while len((stem + suffix).encode()) > MAX_BYTES:
        stem = stem[:-1]
    return stem.rstrip() + suffix


def free_output(folder: Path, wanted: str, taken: set[str]) -> str:
    """``wanted`` if nothing in ``folder`` and no name in ``taken`` has it, else the first free
    ``stem-v2.ext``, ``stem-v3.ext`` ..."""
    path = Path(wanted)
    stem, suffix = path.stem, path.suffix
    candidate, n = fitted(stem, suffix), 1
    while taken_as(folder, candidate, taken) is not None:
        n += 1
        candidate = fitted(stem, f"-v{n}{suffix}")
    return candidate
