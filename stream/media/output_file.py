"""An output file that appears only when complete: written beside the target under a hidden
temporary name, renamed into place on success, removed on failure. The user's existing file (with
--overwrite) stays untouched until the new one is complete."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from engines.errors import OutputError

_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.stylecast-(?P<kind>partial|old)$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(folder: Path) -> int:
    """Delete partial files and frame folders left by stylecast runs that were killed; returns how
    many. A replaced frame folder (``-old``) whose run died before the new one took its place is
    put back instead."""
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for entry in entries:
        match = _PARTIAL.match(entry.name)
        if not match or int(match["pid"]) == os.getpid() or _alive(int(match["pid"])):
            continue
        target = folder / match["name"]
        if match["kind"] == "old" and not target.exists():
            os.replace(entry, target)  # the user's frames, back where they were
        elif entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


def claim_partial(target: Path, make_folder: bool = False) -> Path:
    """The hidden partial beside ``target`` (a file, or a folder for an image sequence), created now:
    the folder must exist, stale partials of killed runs are cleared first, and a failure to
    write there is one clear error."""
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"output folder does not exist: {folder}")
    remove_stale_partials(folder)
    partial = folder / f".{target.name}.{os.getpid()}.stylecast-partial"
    try:
        partial.mkdir() if make_folder else partial.open("xb").close()
    except FileExistsError:
        raise OutputError(f"another stylecast run in this process is writing {target}") from None
    except OSError as exc:
        raise OutputError(f"cannot write to {folder}: {exc.strerror}") from None
    return partial


class AtomicOutput:
    """``with AtomicOutput(target, overwrite) as tmp:`` write ``tmp``; it becomes ``target`` on success."""

    def __init__(self, target: Path, overwrite: bool = False):
        self.target = target
        if target.is_dir():
            raise OutputError(f"output is a folder: {target}")
        if target.exists() and not overwrite:
            raise OutputError(f"output exists: {target} (add --overwrite to replace it)")
        self.partial = claim_partial(target)

    def __enter__(self) -> Path:
        return self.partial

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            os.replace(self.partial, self.target)
        else:
            self.partial.unlink(missing_ok=True)

    def discard(self) -> None:
        self.partial.unlink(missing_ok=True)
