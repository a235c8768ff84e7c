"""The shots of a clip as an editable list (``stylecast shots``; where the cuts are found:
stream/edit/cuts.py).

A shot list is a CSV or JSON file with one row per shot: its number (from 1), first and last frame
(counted from the clip's first frame, 0), start and end in seconds, and its timecode in and out
(out is the frame after its last, as an edit decision list counts). A crew may edit it (merge two
shots, split one) and hand it back: ``ShotList.read`` checks it against the clip. For editing
software it is also an OpenTimelineIO file, a CMX 3600 EDL or FCP 7 XML (stream/edit/timelines.py),
with each shot's look where it has one; PySceneDetect's CSV is read too.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from engines.errors import InputError, OptionError
from stream.media.output_file import AtomicOutput
from stream.media.timecode import Timecode

from .timelines import (
    TIMELINE_SUFFIXES,
    read_list_text,
    read_timeline,
    scenedetect_starts,
    timeline_text,
)

LIST_SUFFIXES = (".csv", ".json", *TIMELINE_SUFFIXES)
COLUMNS = ("shot", "first_frame", "last_frame", "frames", "start", "end", "timecode_in", "timecode_out")


@dataclass(frozen=True)
class Shot:
    shot: int
    first_frame: int
    last_frame: int
    frames: int
    start: float
    end: float
    timecode_in: str
    timecode_out: str


@dataclass
class ShotList:
    """``looks``: a look by shot number (a looks file entry's fields), where the list carries one (a
    timeline's clips)."""

    shots: list[Shot]
    rate: Fraction
    looks: dict[int, dict] = field(default_factory=dict)
    first: Timecode | None = None  # the clip's start timecode, where it has one

    @property
    def frames(self) -> int:
        return self.shots[-1].last_frame + 1 if self.shots else 0

    @classmethod
    def from_cuts(cls, cuts: list[int], frames: int, rate: Fraction, first: Timecode | None) -> ShotList:
        """Shots from the first frame of each (0 first) and the clip's frame count."""
        first = first or Timecode(0, rate)
        edges = [*cuts, frames]
        shots = [Shot(n + 1, a, b - 1, b - a, round(float(a / rate), 6), round(float(b / rate), 6),
                      str(first + a), str(first + b)) for n, (a, b) in enumerate(zip(edges, edges[1:]))]
        return cls(shots, rate, first=first)

    def shot(self, number: int) -> Shot:
        if not 1 <= number <= len(self.shots):
            raise OptionError(f"shot {number} does not exist; the clip has shots 1 to {len(self.shots)}")
        return self.shots[number - 1]

    def starts(self) -> list[int]:
        """The first frame of every shot."""
        return [s.first_frame for s in self.shots]

    def as_rows(self) -> list[dict]:
        return [asdict(s) for s in self.shots]

    def text(self, fmt: str) -> str:
        if fmt == ".json":
            return json.dumps({"rate": str(self.rate), "frames": self.frames, "shots": self.as_rows()}, indent=1) + "\n"
        out = io.StringIO()
        writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.as_rows())
        return out.getvalue()

    def write(self, path: Path, overwrite: bool = False, media: Path | None = None,
              looks: dict[int, dict | str] | None = None) -> None:
        """As CSV, JSON, OTIO, EDL or FCP XML by the extension (a timeline's clips refer to ``media``
        and carry ``looks`` by shot number); the file appears complete or not at all."""
        fmt = list_format(path)
        if fmt in TIMELINE_SUFFIXES:
            text = timeline_text(self.starts(), self.frames, self.rate, self.first, fmt, media,
                                 looks if looks is not None else self.looks, Path(media).stem if media else "stylecast")
        else:
            text = self.text(fmt)
        with AtomicOutput(path, overwrite) as partial:
            partial.write_text(text)

    @classmethod
    def read(cls, path: Path, rate: Fraction, first: Timecode | None, frames: int | None = None) -> ShotList:
        """A shot list a crew may have edited: only each shot's first frame is read (shots run on
        to the next one's), checked to rise from 0, and within ``frames`` when that is known. A
        timeline's clips are placed by their source ranges in the clip's own timecode (``first``)."""
        if list_format(path) in TIMELINE_SUFFIXES:
            starts, end, looks = read_timeline(path, rate, first)
            return cls._checked(path, starts, frames if frames is not None else end, rate, first, looks)
        rows = _read_rows(path)
        if isinstance(rows, tuple):  # PySceneDetect's list
            return cls._checked(path, rows[0], frames if frames is not None else rows[1], rate, first)
        starts = []
        for n, row in enumerate(rows, 1):
            value = row.get("first_frame") if isinstance(row, dict) else None
            try:
                start = int(value)
            except (TypeError, ValueError):
                raise OptionError(f"{path.name}: shot {n} has no whole-number first_frame (got {value!r})") from None
            if starts and start <= starts[-1]:
                raise OptionError(f"{path.name}: shot {n} starts at frame {start}, not after shot {n - 1} ({starts[-1]})")
            starts.append(start)
        last_frame = rows[-1].get("last_frame") if isinstance(rows[-1], dict) else None
        total = frames if frames is not None else int(last_frame) + 1 if str(last_frame).lstrip("-").isdigit() else None
        return cls._checked(path, starts, total, rate, first)

    @classmethod
    def _checked(cls, path: Path, starts: list[int], total: int | None, rate: Fraction, first: Timecode | None,
                 looks: dict[int, dict] | None = None) -> ShotList:
        if not starts or starts[0] != 0:
            raise OptionError(f"{path.name}: the first shot must start at frame 0")
        if total is None:
            raise OptionError(f"{path.name}: the last shot needs its last_frame")
        if starts[-1] >= total:
            raise OptionError(f"{path.name}: shot {len(starts)} starts at frame {starts[-1]}, past the clip's "
                              f"last frame ({total - 1})")
        shots = cls.from_cuts(starts, total, rate, first)
        shots.looks = dict(looks or {})
        return shots


def list_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in LIST_SUFFIXES:
        raise OptionError(f"a shot list is a .csv, .json, .otio, .edl or .xml file, not {path.name}")
    return suffix


def _read_rows(path: Path) -> list | tuple[list[int], int]:
    """The rows of a CSV or JSON list; for PySceneDetect's CSV, (first frames, frames in all)."""
    fmt = list_format(path)
    text = read_list_text(path)
    if fmt == ".csv" and (scenes := scenedetect_starts(text)) is not None:
        return scenes
    try:
        rows = json.loads(text).get("shots") if fmt == ".json" else list(csv.DictReader(io.StringIO(text)))
    except (ValueError, AttributeError, csv.Error) as exc:
        raise InputError(f"{path.name} is not a shot list: {exc}") from None
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{path.name} lists no shots")
    return rows
