"""A studio project: one clip of FOLDER, its cuts (found, then merged or split by hand), a look per
shot and the look of shots without one (the project's default), and its history; and the two files
a render reads, written beside the clip, so that a page session can be replayed from the shell:
``stylecast render FOLDER/clip.mp4 --looks FOLDER/clip.looks.json``.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import numpy as np

from engines import DEFAULT_STYLE
from engines.errors import OptionError, StylecastError
from stream.core.progress import Advance
from stream.edit.cuts import find_shots
from stream.edit.shots import ShotList
from stream.media.decoder import open_decoder
from stream.media.image_sequence import find_sequence
from stream.media.timecode import Timecode

from .history import History
from .look_check import checked_look, style_spec
from .store import Store

VIDEOS = {".mp4", ".mov", ".mkv", ".mxf", ".webm", ".avi", ".m4v"}
DEFAULT_LOOK = {"style": DEFAULT_STYLE}  # what a shot with no look of its own renders in, until changed


def clip_timing(path: Path, fps: float | None = None) -> tuple[Fraction, Timecode | None, int | None]:
    """A clip's rate, start timecode and frame count (a folder of pictures: at ``fps``, default 24)."""
    with open_decoder(path, fps=fps) as decoder:
        return decoder.rate, decoder.timecode, decoder.expected_frames


def find_cuts(store: Store, project: int, path: Path, shot_list: Path | None = None, fps: float | None = None) -> None:
    """Find the clip's shots (as ``stylecast shots`` does), the progress kept in the store as it
    goes; or read them from ``shot_list`` (an editor's EDL, FCP XML or OTIO, a CSV), with the looks
    its clips carry. The project's history starts there."""
    done = [0]

    def progress(total: int | None, label: str) -> Advance:  # the project's row (a Progress)
        def advance(n: int = 1, info: str | None = None) -> None:
            done[0] += n
            if total and done[0] % 10 == 0:
                store.update_project(project, progress=round(done[0] / total, 3))
        return advance

    try:
        shots = ShotList.read(shot_list, *clip_timing(path, fps)) if shot_list is not None else find_shots(path, fps, progress)
        store.set_looks(project, dict(shots.looks))
        store.update_project(project, rate=str(shots.rate), frames=shots.frames, cuts=shots.starts(),
                             timecode=str(shots.first) if shots.first else None, state="ready", progress=1.0)
        History(store).start(project, Project(path.parent, store.project(project)).state())
    except StylecastError as exc:
        store.update_project(project, state="failed", error=str(exc))


class Project:
    """A project's row (stream/studio/store.py) with what the page and the renders need of it."""

    def __init__(self, folder: Path, row: dict):
        self.folder, self.row = folder, row
        self.id, self.media, self.cuts, self.looks = row["id"], row["media"], row["cuts"], row["looks"]
        self.default_look = row.get("default_look") or dict(DEFAULT_LOOK)

    @property
    def path(self) -> Path:
        return self.folder / self.media

    @property
    def rate(self) -> Fraction:
        return Fraction(self.row["rate"] or 25)

    def shots(self) -> ShotList:
        first = Timecode.parse(self.row["timecode"], self.rate) if self.row["timecode"] else None
        return ShotList.from_cuts(self.cuts, self.row["frames"], self.rate, first)

    def merged(self, shot: int) -> list[int]:
        """The cuts with shot ``shot`` and the one after it as one."""
        if not 1 <= shot < len(self.cuts):
            raise OptionError(f"shot {shot} has no next shot to merge with (shots 1 to {len(self.cuts)})")
        return self.cuts[:shot] + self.cuts[shot + 1:]

    def split(self, frame: int) -> list[int]:
        """The cuts with a new shot starting at ``frame``."""
        if not 0 < frame < self.row["frames"]:
            raise OptionError(f"split at a frame from 1 to {self.row['frames'] - 1}, got {frame}")
        if frame in self.cuts:
            raise OptionError(f"a shot already starts at frame {frame}")
        return sorted([*self.cuts, frame])

    def looks_for(self, cuts: list[int]) -> dict[int, dict]:
        """Each shot of ``cuts`` with the look of the shot that held its first frame before."""
        out = {}
        for n, first in enumerate(cuts, 1):
            old = max(i for i, c in enumerate(self.cuts, 1) if c <= first)
            if old in self.looks:
                out[n] = self.looks[old]
        return out

    def checked_look(self, look, shot: int | None) -> dict:
        """A look from the page for shot ``shot`` (None: the default look), checked whole as a
        render will read it (stream/studio/look_check.py)."""
        shots = self.shots()
        return checked_look(self.folder, look, shots, None if shot is None else shots.shot(shot))

    def renders(self, shot: int) -> dict:
        """The look shot ``shot`` renders in: its own over the default (a painted one: its own alone)."""
        own = self.looks.get(shot)
        if own and "keyframe" in own:
            return own
        return {**self.default_look, **(own or {})}

    def state(self) -> dict:
        """What undo and redo bring back (stream/studio/history.py)."""
        return {"cuts": self.cuts, "looks": {str(n): look for n, look in self.looks.items()},
                "default_look": self.default_look}

    def write_render_files(self, where: Path | None = None, stem: str | None = None) -> tuple[Path, Path]:
        """``<clip>.shots.csv`` and ``<clip>.looks.json`` beside the clip (or ``where/stem.*``): the
        files ``render`` reads. A file whose text is already that is left as it is: a render's
        chunks are kept under the files' modification times (stream/cluster/chunk_plan.py)."""
        where, stem = where or self.folder, stem or Path(self.media).stem
        shots_path, looks_path = where / f"{stem}.shots.csv", where / f"{stem}.looks.json"
        _write_if_changed(shots_path, self.shots().text(".csv"))
        entries = []
        for shot, look in sorted(self.looks.items()):
            if shot > len(self.cuts):
                continue
            entry = {"shot": shot, **look}
            if "style" in entry:
                entry["style"] = style_spec(self.folder, entry["style"])
            if "keyframe" in entry and where != self.folder:  # found beside the looks file: here, by full path
                entry["keyframe"] = [{**k, "image": str(self.folder / k["image"])} for k in entry["keyframe"]]
            entries.append(entry)
        _write_if_changed(looks_path, json.dumps({"shots": shots_path.name, "looks": entries}, indent=1) + "\n")
        return looks_path, shots_path

    def export(self, path: Path) -> None:
        """The cut as a shot list or a timeline for an editor (by ``path``'s extension: .otio, .edl,
        .xml, .csv), each clip carrying its shot's whole look where the format can (timelines.py;
        painted keyframes stay with the project: their pictures are files of this folder)."""
        looks = {n: {k: v for k, v in look.items() if k != "keyframe"} for n, look in self.looks.items()
                 if n <= len(self.cuts)}
        self.shots().write(path, overwrite=True, media=self.path, looks={n: v for n, v in looks.items() if v})

    def as_dict(self, history: tuple[str | None, str | None] = (None, None)) -> dict:
        """The project as the page shows it: each shot with its own look (``look``, or None) and
        the look it renders in (``renders``: its own, else the default); what undo and redo would do."""
        row = {k: self.row[k] for k in ("id", "media", "state", "progress", "error", "frames", "timecode")}
        row["rate"] = str(self.rate) if self.row["rate"] else None
        row["sequence"] = self.path.is_dir()
        row["default_look"] = self.default_look
        row["shots"] = ([dict(asdict(s), look=self.looks.get(s.shot), renders=self.renders(s.shot))
                         for s in self.shots().shots] if self.row["state"] == "ready" else [])
        row["undo"], row["redo"] = history
        return row


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, unless the file holds it already."""
    try:
        if path.read_text() == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text)
    tmp.replace(path)


def media_in(folder: Path) -> list[str]:
    """The clips of FOLDER that a project can open (by extension; opening checks them), and its
    folders of numbered pictures (image sequences, at the rate the page gives)."""
    clips = [p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEOS]
    sequences = []
    for sub in (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            find_sequence(sub)
            sequences.append(sub.name)
        except StylecastError:
            continue
    return sorted(n for n in clips + sequences if not n.startswith("."))


def frames_at(path: Path, indexes: set[int], side: int) -> dict[int, np.ndarray]:
    """The clip's frames at ``indexes`` (from 0), upright, at most ``side`` pixels on the longer
    side (RGB); ``path`` may be a folder of numbered pictures."""
    with open_decoder(path, max_side=side) as decoder:
        return decoder.frames_at(indexes)
