"""A studio project: one clip of FOLDER, its cuts (found, then merged or split by hand) and a look
per shot; and the two files a render reads, written beside the clip, so that a page session can
be replayed from the shell: ``stylecast render FOLDER/clip.mp4 --looks FOLDER/clip.looks.json``.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import numpy as np

from engines import resolve
from engines.errors import OptionError, StylecastError, StyleError
from stream.core.progress import Advance
from stream.edit.cuts import find_shots
from stream.edit.shots import ShotList
from stream.media.decoder import open_decoder
from stream.media.image_sequence import find_sequence
from stream.media.timecode import Timecode
from stream.styling.controls import Controls

LOOK_FIELDS = ("style", "strength", "keep_colors", "stability", "keyframes", "keyframe")
PICTURES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
VIDEOS = {".mp4", ".mov", ".mkv", ".mxf", ".webm", ".avi", ".m4v"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,120}")


def checked_name(name: str, what: str = "file") -> str:
    """A name in FOLDER from the page: never a path, never hidden."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or ".." in name:
        raise OptionError(f"a {what} is named by its name in the folder (letters, digits, . _ - and spaces), got {name!r}")
    return name


def clip_timing(path: Path) -> tuple[Fraction, Timecode | None, int | None]:
    """A clip's rate, start timecode and frame count (a folder of pictures: 24 frames/s)."""
    with open_decoder(path) as decoder:
        return decoder.rate, decoder.timecode, decoder.expected_frames


def find_cuts(store, project: int, path: Path, shot_list: Path | None = None) -> None:
    """Find the clip's shots (as ``stylecast shots`` does), the progress kept in the store as it
    goes; or read them from ``shot_list`` (an editor's EDL, FCP XML or OTIO, a CSV), with the looks
    its clips carry."""
    if shot_list is not None:
        try:
            shots = ShotList.read(shot_list, *clip_timing(path))
            store.set_looks(project, {n: {"style": spec} for n, spec in shots.looks.items()})
            store.update_project(project, rate=str(shots.rate), frames=shots.frames, cuts=shots.starts(),
                                 timecode=str(shots.first) if shots.first else None, state="ready", progress=1.0)
        except StylecastError as exc:
            store.update_project(project, state="failed", error=str(exc))
        return
    done = [0]

    def progress(total: int | None, label: str) -> Advance:  # the project's row (a Progress)
        def advance(n: int = 1, info: str | None = None) -> None:
            done[0] += n
            if total and done[0] % 10 == 0:
                store.update_project(project, progress=round(done[0] / total, 3))
        return advance

    try:
        shots = find_shots(path, None, progress)
        store.update_project(project, rate=str(shots.rate), frames=shots.frames, cuts=shots.starts(),
                             timecode=str(shots.first) if shots.first else None, state="ready", progress=1.0)
    except StylecastError as exc:
        store.update_project(project, state="failed", error=str(exc))


class Project:
    """A project's row (stream/studio/store.py) with what the page and the renders need of it."""

    def __init__(self, folder: Path, row: dict):
        self.folder, self.row = folder, row
        self.id, self.media, self.cuts, self.looks = row["id"], row["media"], row["cuts"], row["looks"]

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

    def checked_look(self, look: dict) -> dict:
        """A look from the page, each field checked as a looks file's would be (a picture or model
        is a file of FOLDER, by name)."""
        unknown = sorted(set(look) - set(LOOK_FIELDS))
        if unknown:
            raise OptionError(f"unknown look field {unknown[0]!r}; use {', '.join(LOOK_FIELDS)}")
        out = {k: v for k, v in look.items() if v is not None}
        if "style" in out:
            out["style"] = str(out["style"]).strip()
            resolve(self.style_spec(out["style"]))
        values = {k: out[k] for k in ("strength", "keep_colors", "stability") if k in out}
        Controls().updated(**values)
        if "keyframes" in out and not isinstance(out["keyframes"], list):
            raise OptionError('"keyframes" is a list, as in a looks file')
        if "keyframe" in out:
            out["keyframe"] = self._paintings(out["keyframe"])
            if "style" in out:
                raise OptionError("a shot takes its look from a style or from painted keyframes, not both")
        return out

    def _paintings(self, value) -> list[dict]:
        """Painted keyframes (stream/edit/painted.py): frames of the clip, pictures of FOLDER."""
        out = []
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict) or set(item) != {"frame", "image"}:
                raise OptionError('a painted keyframe is {"frame": 120, "image": "painted.png"}')
            frame, image = item["frame"], str(item["image"])
            if isinstance(frame, bool) or not isinstance(frame, int) or not 0 <= frame < (self.row["frames"] or 0):
                raise OptionError(f"a painted frame is a frame of the clip, 0 to {(self.row['frames'] or 1) - 1}, got {frame!r}")
            if "/" in image or "\\" in image or image.startswith(".") or Path(image).suffix.lower() not in PICTURES:
                raise OptionError(f"a painting is a picture of the folder, by its name, got {image!r}")
            if not (self.folder / image).is_file():
                raise OptionError(f"painting not found in the folder: {image}")
            out.append({"frame": frame, "image": image})
        return out

    def style_spec(self, style: str) -> str:
        """A style as ``render`` takes it: a file of FOLDER by its full path, else as given."""
        if "/" in style or "\\" in style or style.startswith("."):
            raise StyleError(f"a style file is named by its name in the folder, got {style!r}")
        candidate = self.folder / style
        return str(candidate) if candidate.is_file() else style

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
                entry["style"] = self.style_spec(entry["style"])
            if "keyframe" in entry and where != self.folder:  # found beside the looks file: here, by full path
                entry["keyframe"] = [{**k, "image": str(self.folder / k["image"])} for k in entry["keyframe"]]
            entries.append(entry)
        _write_if_changed(looks_path, json.dumps({"shots": shots_path.name, "looks": entries}, indent=1) + "\n")
        return looks_path, shots_path

    def export(self, path: Path) -> None:
        """The cut as a shot list or a timeline for an editor (by ``path``'s extension: .otio, .edl,
        .xml, .csv), each clip carrying its shot's style."""
        styles = {n: look["style"] for n, look in self.looks.items() if "style" in look and n <= len(self.cuts)}
        self.shots().write(path, overwrite=True, media=self.path, looks=styles)

    def as_dict(self) -> dict:
        row = {k: self.row[k] for k in ("id", "media", "state", "progress", "error", "frames")}
        row["rate"] = str(self.rate) if self.row["rate"] else None
        row["shots"] = ([dict(asdict(s), look=self.looks.get(s.shot)) for s in self.shots().shots]
                        if self.row["state"] == "ready" else [])
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
    folders of numbered pictures (image sequences, at 24 frames/s)."""
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
