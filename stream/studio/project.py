"""A studio project: one clip of FOLDER, its cut (found, then merged or split by hand; each shot
with a stable id, stream/studio/cut.py), a look per shot and the look of shots without one (the
project's default), and its history; and the two files a render reads, written in the project's
own folder, FOLDER/.stylecast/projects/ID/ (nothing is written beside the clip), so that a page
session can be replayed from the shell:
``stylecast render FOLDER/clip.mp4 --looks FOLDER/.stylecast/projects/ID/looks.json``.

A change is worked out here as the project's next state (``merged``, ``split``, ``with_looks``,
``with_default``), and committed by the store on the version it was made on.
"""
from __future__ import annotations

from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import numpy as np

from engines import DEFAULT_STYLE
from engines.errors import StylecastError
from stream.core.progress import Tracker
from stream.edit.cuts import find_shots
from stream.edit.looks import LookSheet
from stream.edit.shots import ShotList
from stream.media.decoder import open_decoder
from stream.media.image_sequence import find_sequence
from stream.media.timecode import Timecode

from .cut import Cut
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
    def advanced(n: int) -> None:  # the project's row shows how far it got
        if tracker.total and tracker.done % 10 == 0:
            store.update_project(project, progress=round(tracker.done / tracker.total, 3))

    tracker = Tracker(on_advance=advanced)

    try:
        shots = ShotList.read(shot_list, *clip_timing(path, fps)) if shot_list is not None else find_shots(path, fps, tracker)
        store.set_looks(project, dict(shots.looks))  # shot ids are 1, 2, 3 ... as found
        store.update_project(project, rate=str(shots.rate), frames=shots.frames, cuts=shots.starts(),
                             shot_ids=list(range(1, len(shots.shots) + 1)), next_shot=len(shots.shots) + 1,
                             timecode=str(shots.first) if shots.first else None, state="ready", progress=1.0)
        History(store).start(project, Project(path.parent, store.project(project)).state())
    except StylecastError as exc:
        store.update_project(project, state="failed", error=str(exc))


class Project:
    """A project's row (stream/studio/store.py) with what the page and the renders need of it.
    ``looks`` are by shot id."""

    def __init__(self, folder: Path, row: dict):
        self.folder, self.row = folder, row
        self.id, self.media, self.looks = row["id"], row["media"], row["looks"]
        self.cut = Cut.of(row["cuts"], row.get("shot_ids"), row.get("next_shot"))
        self.cuts = list(self.cut.firsts)
        self.version = row.get("version") or 1
        self.default_look = row.get("default_look") or dict(DEFAULT_LOOK)

    @property
    def path(self) -> Path:
        return self.folder / self.media

    @property
    def home(self) -> Path:
        """The project's own folder, FOLDER/.stylecast/projects/ID: what its renders read."""
        return self.folder / ".stylecast" / "projects" / str(self.id)

    @property
    def rate(self) -> Fraction:
        return Fraction(self.row["rate"] or 25)

    def shots(self) -> ShotList:
        first = Timecode.parse(self.row["timecode"], self.rate) if self.row["timecode"] else None
        return ShotList.from_cuts(self.cuts, self.row["frames"], self.rate, first)

    def shot(self, shot_id: int):
        """The shot with this id, as the shot list numbers it (404 when it is no longer in the cut)."""
        return self.shots().shot(self.cut.number(shot_id))

    # -- changes: the next state, for the store to commit --------------------------------------
    def state(self) -> dict:
        """What the store keeps and undo and redo bring back (stream/studio/history.py)."""
        return {**self.cut.as_state(), "looks": {str(n): look for n, look in self.looks.items()},
                "default_look": self.default_look}

    def _state(self, cut: Cut, looks: dict[int, dict], default_look: dict | None = None) -> dict:
        return {**cut.as_state(), "looks": {str(n): look for n, look in looks.items() if n in cut.ids},
                "default_look": self.default_look if default_look is None else default_look}

    def merged(self, shot_id: int) -> tuple[dict, str]:
        """The state with shot ``shot_id`` and the one after it as one (the first's look), and its words."""
        cut = self.cut.merged(shot_id)
        n = self.cut.number(shot_id)
        return self._state(cut, self.looks), f"merge shots {n} and {n + 1}"

    def split(self, frame: int) -> tuple[dict, str]:
        """The state with a new shot from ``frame``, both parts in the look of the shot split."""
        cut, split_id, new_id = self.cut.split(frame, self.row["frames"])
        looks = dict(self.looks)
        if split_id in looks:
            shots = ShotList.from_cuts(list(cut.firsts), self.row["frames"], self.rate, None).shots
            for part in (split_id, new_id):
                shot = shots[cut.ids.index(part)]
                look = _inside(looks[split_id], shot.first_frame, shot.last_frame)
                if look:
                    looks[part] = look
                else:
                    looks.pop(part, None)
        return self._state(cut, looks), f"split at frame {frame}"

    def with_looks(self, looks: dict[int, dict]) -> tuple[dict, str]:
        """The state with these shots' looks (by id; an empty look: none of its own)."""
        numbers = sorted(self.cut.number(n) for n in looks)
        merged = {n: v for n, v in self.looks.items() if n not in looks}
        merged.update({n: v for n, v in looks.items() if v})
        what = f"the look of shot {numbers[0]}" if len(numbers) == 1 else \
            f"the look of shots {', '.join(map(str, numbers))}"
        return self._state(self.cut, merged), what

    def with_default(self, look: dict) -> tuple[dict, str]:
        return self._state(self.cut, self.looks, look), "the default look"

    def checked_look(self, look, shot_id: int | None) -> dict:
        """A look from the page for the shot ``shot_id`` (None: the default look), checked whole as a
        render will read it (stream/studio/look_check.py)."""
        shots = self.shots()
        return checked_look(self.folder, look, shots, None if shot_id is None else self.shot(shot_id))

    def renders(self, shot_id: int) -> dict:
        """The look the shot renders in: its own over the default (a painted one: its own alone)."""
        own = self.looks.get(shot_id)
        if own and "keyframe" in own:
            return own
        return {**self.default_look, **(own or {})}

    def look_sheet(self, looks: dict | None = None) -> LookSheet:
        """The cut's looks in memory, as ``render`` takes them (``RenderOptions.look_sheet``): shots
        by their place in the cut, pictures by their full path. ``looks`` (shot id -> look) stands in
        for the project's own (a preview renders one shot's)."""
        entries = []
        for number, shot_id in enumerate(self.cut.ids, 1):
            look = (self.looks if looks is None else looks).get(shot_id)
            if not look:
                continue
            entry = {"shot": number, **look}
            if "style" in entry:
                entry["style"] = style_spec(self.folder, entry["style"])
            if "keyframe" in entry:  # found beside the looks file otherwise: here, by full path
                entry["keyframe"] = [{**k, "image": str(self.folder / k["image"])} for k in entry["keyframe"]]
            entries.append(entry)
        return LookSheet(tuple(entries), self.shots(), self.folder, f"project {self.row['id']}'s looks")

    def write_render_files(self, where: Path | None = None, stem: str = "") -> tuple[Path, Path]:
        """``shots.csv`` and ``looks.json`` (``STEM.shots.csv`` ...) in the project's own folder, or
        ``where``: the cut's looks as files, for a render that must read the same looks after a
        restart (a queued job keeps its own copy) and for a user to give ``stylecast render``. A file
        whose text is already that is left as it is: a render's chunks are kept under the files'
        modification times (stream/cluster/chunk_plan.py)."""
        where = where or self.home
        where.mkdir(parents=True, exist_ok=True)
        prefix = f"{stem}." if stem else ""
        shots_path, looks_path = where / f"{prefix}shots.csv", where / f"{prefix}looks.json"
        sheet = self.look_sheet()
        _write_if_changed(shots_path, sheet.shots.text(".csv"))
        _write_if_changed(looks_path, sheet.file_text(shots_path.name))
        return looks_path, shots_path

    def export(self, path: Path) -> None:
        """The cut as a shot list or a timeline for an editor (by ``path``'s extension: .otio, .edl,
        .xml, .csv), each clip carrying its shot's whole look where the format can (timelines.py;
        painted keyframes stay with the project: their pictures are files of this folder)."""
        looks = {}
        for number, shot_id in enumerate(self.cut.ids, 1):
            look = {k: v for k, v in (self.looks.get(shot_id) or {}).items() if k != "keyframe"}
            if look:
                looks[number] = look
        self.shots().write(path, overwrite=True, media=self.path, looks=looks)

    def as_dict(self, history: tuple[str | None, str | None] = (None, None)) -> dict:
        """The project as the page shows it: each shot with its id, its own look (``look``, or None)
        and the look it renders in (``renders``: its own, else the default); what undo and redo
        would do; its version (the page's ETag) and the last change and who made it."""
        row = {k: self.row[k] for k in ("id", "media", "state", "progress", "error", "frames", "timecode")}
        row["name"] = self.row.get("name") or self.media
        row["rate"] = str(self.rate) if self.row["rate"] else None
        row["sequence"] = self.path.is_dir()
        row["default_look"] = self.default_look
        row["version"] = self.version
        row["change"] = {"what": self.row.get("change"), "by": self.row.get("changed_by")}
        row["shots"] = ([dict(asdict(s), id=i, look=self.looks.get(i), renders=self.renders(i))
                         for s, i in zip(self.shots().shots, self.cut.ids)] if self.row["state"] == "ready" else [])
        row["undo"], row["redo"] = history
        return row


def _inside(look: dict, first: int, last: int) -> dict:
    """A look given to part of its shot: painted keyframes outside the part left out (none left: no
    painting of its own)."""
    if "keyframe" not in look:
        return look
    kept = [k for k in look["keyframe"] if first <= k["frame"] <= last]
    return {**look, "keyframe": kept} if kept else {k: v for k, v in look.items() if k != "keyframe"}


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
