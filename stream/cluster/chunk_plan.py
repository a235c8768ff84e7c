"""A film cut into chunks for a render farm (``render --cluster``): where each chunk starts and
ends, and the folder where the chunks wait to be joined.

Chunks end at the shot list's cuts where there are cuts near the chunk length (a chunk that starts
at a cut needs no warm-up: nothing before it belongs to its shot), and at fixed spans of
``chunk_seconds`` inside longer shots (those are warmed up on the frames before them, as a
``--from`` render is). The plan is written as JSON into a hidden folder beside the output, with a
key made of the input and every option that changes a frame: a re-run with the same input and
options finds the chunks already rendered and checked there and renders only the rest.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from engines.errors import OutputError, StylecastError
from stream.media.decode import VideoFile

CHUNK_SECONDS = 30.0
PLAN_FILE = "plan.json"


@dataclass(frozen=True)
class Chunk:
    number: int        # from 1
    first_frame: int   # the source's frame index, from 0
    last_frame: int    # inclusive
    start: float       # seconds from the source's first frame: the first frame's time
    end: float | None  # the next chunk's start (None: to the end of the input)
    at_cut: bool       # starts a shot (or the film): no warm-up

    @property
    def frames(self) -> int:
        return self.last_frame - self.first_frame + 1

    def file_name(self, suffix: str) -> str:
        return f"chunk-{self.number:05d}{suffix}"


def plan_chunks(times: list[float], chunk_seconds: float = CHUNK_SECONDS, cuts: list[int] = ()) -> list[Chunk]:
    """Chunks of about ``chunk_seconds`` over frames at ``times`` (seconds from the first, in
    order): each ends at the cut nearest its target length (within half a length either way), or
    at the target length when no cut is near; a last piece under a quarter length joins the one before."""
    frames = len(times)
    cut_set = sorted({c for c in cuts if 0 < c < frames})
    starts = [0]
    while True:
        at = starts[-1]
        target = times[at] + chunk_seconds
        if times[-1] < target:
            break
        near = [c for c in cut_set if abs(times[c] - target) <= chunk_seconds / 2 and c > at]
        step = min(near, key=lambda c: abs(times[c] - target)) if near else bisect.bisect_left(times, target)
        if not near and times[-1] - times[step] < chunk_seconds / 4:
            break
        starts.append(step)
    edges = starts + [frames]
    cut_or_start = {0, *cut_set}
    return [Chunk(n + 1, a, b - 1, round(times[a], 6), round(times[b], 6) if b < frames else None, a in cut_or_start)
            for n, (a, b) in enumerate(zip(edges, edges[1:]))]


def _identity(value) -> str:
    """A file as its path, size and modification time (an edited looks file is another plan); else the value."""
    if isinstance(value, Path) and value.is_file():
        stat = value.stat()
        return f"{value.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return str(value)


def plan_key(source: Path, fields: dict) -> str:
    """What the chunks depend on: the input (path, size, modification time) and the options."""
    identity = {"source": _identity(source), **{k: _identity(v) for k, v in sorted(fields.items())}}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


class ChunkFolder:
    """``.<output name>.stylecast-chunks/`` beside the output: the plan and the finished chunks
    (``suffix``: .mov, or .mkv for a codec MOV does not hold)."""

    def __init__(self, output: Path, suffix: str = ".mov"):
        self.path = output.parent / f".{output.name}.stylecast-chunks"
        self.suffix = suffix
        self._checked: dict[str, tuple] = {}  # chunk file -> (size, mtime) when it was found whole

    def open(self, key: str, chunks: list[Chunk]) -> list[Chunk]:
        """Make the folder ready for ``chunks`` under ``key``; returns the chunks already done (a
        folder from other options or another input is cleared first)."""
        plan = self.path / PLAN_FILE
        try:
            saved = json.loads(plan.read_text()) if plan.is_file() else None
        except (OSError, ValueError):
            saved = None
        if saved is None or saved.get("key") != key or saved.get("chunks") != [asdict(c) for c in chunks]:
            self.remove()
        try:
            self.path.mkdir(exist_ok=True)
            tmp = plan.with_suffix(".tmp")
            tmp.write_text(json.dumps({"key": key, "chunks": [asdict(c) for c in chunks]}, indent=1))
            os.replace(tmp, plan)
        except OSError as exc:
            raise OutputError(f"cannot write the chunks beside the output in {self.path.parent}: {exc.strerror}") from None
        return [c for c in chunks if self.done(c)]

    def file(self, chunk: Chunk) -> Path:
        return self.path / chunk.file_name(self.suffix)

    def done(self, chunk: Chunk) -> bool:
        """Rendered completely: its file holds exactly the chunk's frames (counted once; kept while
        the file stays as it was, by its size and time)."""
        path = self.file(chunk)
        try:
            st = path.stat()
        except OSError:
            return False
        stamp = (st.st_size, st.st_mtime_ns)
        if self._checked.get(path.name) == stamp:
            return True
        whole = video_frame_count(path) == chunk.frames
        if whole:
            self._checked[path.name] = stamp
        return whole

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self._checked.clear()


def video_frame_count(path: Path) -> int | None:
    """How many video packets a file holds (one per frame in what stylecast writes); None when
    there is no such file or it cannot be read."""
    if not path.is_file():
        return None
    try:
        with VideoFile(path) as chunk:
            return sum(1 for _ in chunk.packets([chunk.video]))
    except StylecastError:
        return None
