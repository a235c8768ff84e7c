"""A look per shot or time range, moving through keyframes: ``render --looks looks.json``.

The file is JSON: a list of entries (or ``{"shots": "shots.csv", "looks": [...]}`` to name the shot
list the shot numbers refer to; without one the clip's shots are found as ``stylecast shots`` does).
Each entry covers one shot or one time range and sets any of style, strength, keep_colors and
stability, at its start and at keyframes inside it::

    [{"shot": 1, "style": "starry-night"},
     {"shot": 2, "style": "mosaic", "strength": 0,
      "keyframes": [{"at": 1.5, "strength": 1, "ease": "ease"},
                    {"at": 3, "style": "3:0.5,mosaic:0.5"}]},
     {"from": "00:00:12:00", "to": 15.5, "keep_colors": true},
     {"shot": 4, "keyframe": {"frame": 120, "image": "sh4_0120.png"}}]

``at`` is seconds from the entry's start, or a timecode (the source's own label, as ``--from``
takes). What an entry does not set comes from the command line (``--style``, ``--strength``…), and
so does every frame outside the entries. Between keyframes values move as stream/styling/keyframes.py
says; at a cut each shot starts with its own look at once. Errors name the entry and the field.
``--style-per-shot`` is the short form: one style per shot, in order. ``keyframe`` (one or a list)
gives an entry the look of frames an artist painted (stream/edit/painted.py).
"""
from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from fractions import Fraction
from pathlib import Path
from typing import Callable, NamedTuple

from engines.catalog import Style, resolve
from engines.errors import InputError, OptionError, StyleError
from stream.media.time_range import parse_range
from stream.media.timecode import Timecode, looks_like_timecode
from stream.styling.controls import FIELDS, Controls
from stream.styling.keyframes import EASES, Key, value_at

from .painting import Painting, frame_index
from .shots import ShotList

ENTRY_KEYS = {"shot", "from", "to", "keyframes", "keyframe", "note", *FIELDS}
PAINTING_KEYS = {"frame", "image", "note"}
KEY_KEYS = {"at", "ease", "note", *FIELDS}


@dataclass(frozen=True)
class Span:
    """Frames ``first`` to ``last`` (inclusive) of the source, and how an error names them."""

    first: int
    last: int
    label: str


@dataclass
class Entry:
    number: int                     # its place in the file, from 1
    span: Span
    tracks: dict[str, list[Key]]    # field -> keys at frame indexes, in order
    paintings: list = dataclass_field(default_factory=list)  # painted keyframes (stream/edit/painted.py)


class FrameLook(NamedTuple):
    """The look of one frame: the looks file's entry that gave it (0: none, the command line's
    look), its values at that frame and its style."""

    entry: int
    controls: Controls
    style: Style


class LookTimeline:
    """The look of every frame of a render: ``at(index)``, a :class:`FrameLook`."""

    def __init__(self, base: Controls, base_style: Style, entries: list[Entry] = ()):
        self.base, self.base_style = base, base_style
        self.entries = sorted(entries, key=lambda e: e.span.first)
        self._firsts = [e.span.first for e in self.entries]
        for before, after in zip(self.entries, self.entries[1:]):
            if after.span.first <= before.span.last:
                raise OptionError(f"entry {after.number} ({after.span.label}) overlaps entry {before.number} "
                                  f"({before.span.label}); each frame takes one look")

    def at(self, index: int) -> FrameLook:
        """The look of source frame ``index``."""
        i = bisect.bisect_right(self._firsts, index) - 1
        if i < 0 or index > self.entries[i].span.last:
            return FrameLook(0, self.base, self.base_style)
        entry = self.entries[i]
        values = {field: value_at(keys, index) for field, keys in entry.tracks.items()}
        style = values.pop("style", self.base_style)
        return FrameLook(entry.number, self.base.updated(style=style.name, **values), style)


class _Reader:
    """Turns entries (dicts) into :class:`Entry`; every error names where it is."""

    def __init__(self, where: str, folder: Path, base: Controls, base_style: Style, rate: Fraction,
                 first_tc: Timecode | None, duration: float | None, frames: int | None,
                 shots: Callable[[], ShotList]):
        self.where, self.folder, self.base, self.base_style, self.rate = where, folder, base, base_style, rate
        self.first_tc, self.duration, self.frames, self._shots, self._shot_list = \
            first_tc, duration, frames, shots, None

    def shots(self) -> ShotList:
        if self._shot_list is None:
            self._shot_list = self._shots()
        return self._shot_list

    def fail(self, context: str, message: str) -> OptionError:
        return OptionError(f"{self.where}: {context}: {message}")

    def span(self, n: int, item: dict) -> Span:
        has_shot, has_range = "shot" in item, "from" in item or "to" in item
        if has_shot == has_range:
            raise self.fail(f"entry {n}", 'give either "shot" (a number from the shot list) or "from"/"to" (a time range)')
        if has_shot:
            number = item["shot"]
            if isinstance(number, bool) or not isinstance(number, int):
                raise self.fail(f"entry {n}", f'"shot" must be a whole number, got {number!r}')
            try:
                shot = self.shots().shot(number)
            except OptionError as exc:
                raise self.fail(f"entry {n}", str(exc)) from None
            return Span(shot.first_frame, shot.last_frame, f"shot {number}")
        try:
            span = parse_range(_text(item.get("from")), _text(item.get("to")), self.rate, self.first_tc, self.duration)
        except OptionError as exc:
            raise self.fail(f"entry {n}", str(exc).replace("--from", '"from"').replace("--to", '"to"')) from None
        first = math.ceil(span.start * self.rate - 1e-6)
        last = (math.ceil(span.end * self.rate - 1e-6) - 1 if span.end is not None
                else (self.frames - 1 if self.frames else 2 ** 62))
        return Span(first, last, f"{span.start:g}-{'end' if span.end is None else f'{span.end:g}'} s")

    def value(self, context: str, field: str, value):
        try:
            if field == "style":
                if not isinstance(value, str):
                    raise StyleError(f"a style is a name, blend or file, got {value!r}")
                return resolve(value)
            return getattr(self.base.updated(**{field: value}), field)
        except (OptionError, StyleError) as exc:
            raise self.fail(context, f'"{field}": {exc}') from None

    def at(self, context: str, span: Span, value) -> float:
        """A keyframe's ``at`` as a frame index inside ``span``."""
        if isinstance(value, str) and looks_like_timecode(value):
            try:
                index = float(parse_range(value, None, self.rate, self.first_tc, None).start * self.rate)
            except OptionError as exc:
                raise self.fail(context, f'"at": {str(exc).replace("--from ", "")}') from None
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
            index = span.first + float(value) * float(self.rate)
        else:
            raise self.fail(context, f'"at" must be seconds from the entry\'s start or a timecode, got {value!r}')
        if not span.first - 1e-6 <= index <= span.last + 1 + 1e-6:
            raise self.fail(context, f'"at" {value!r} is outside {span.label}')
        return index

    def entry(self, n: int, item) -> Entry:
        if not isinstance(item, dict):
            raise self.fail(f"entry {n}", f"an entry is an object with shot or from/to, got {item!r}")
        unknown = sorted(set(item) - ENTRY_KEYS)
        if unknown:
            raise self.fail(f"entry {n}", f"unknown field {unknown[0]!r}; use {', '.join(sorted(ENTRY_KEYS))}")
        span = self.span(n, item)
        context = f"entry {n} ({span.label})"
        tracks = {f: [Key(span.first, self.value(context, f, item[f]))] for f in FIELDS if f in item}
        keyframes = item.get("keyframes", [])
        if not isinstance(keyframes, list):
            raise self.fail(context, f'"keyframes" must be a list, got {keyframes!r}')
        for k, key in enumerate(keyframes, 1):
            where = f"{context}, keyframe {k}"
            if not isinstance(key, dict) or "at" not in key:
                raise self.fail(where, 'a keyframe is an object with "at" and any of ' + ", ".join(FIELDS))
            unknown = sorted(set(key) - KEY_KEYS)
            if unknown:
                raise self.fail(where, f"unknown field {unknown[0]!r}; use {', '.join(sorted(KEY_KEYS))}")
            ease = key.get("ease", "linear")
            if ease not in EASES:
                raise self.fail(where, f'"ease" must be one of {", ".join(EASES)}, got {ease!r}')
            at = self.at(where, span, key["at"])
            for field in FIELDS:
                if field in key:
                    track = tracks.setdefault(field, [Key(span.first, self._base_value(field))])
                    new = Key(at, self.value(where, field, key[field]), ease)
                    if at <= span.first:  # a keyframe at the entry's start is its starting value
                        track[0] = new
                    elif at <= track[-1].at:
                        raise self.fail(where, f'keyframes must be in time order ("{field}" goes back in time)')
                    else:
                        track.append(new)
        return Entry(n, span, tracks, self.paintings(context, span, item.get("keyframe")))

    def paintings(self, context: str, span: Span, value) -> list:
        """An entry's ``keyframe``: one painting or a list of them, each inside the entry."""
        if value is None:
            return []
        out = []
        for k, item in enumerate(value if isinstance(value, list) else [value], 1):
            where = f"{self.where}: {context}, painted keyframe {k}"
            if not isinstance(item, dict) or not {"frame", "image"} <= set(item):
                raise OptionError(f'{where}: write {{"frame": 120, "image": "painted.png"}}')
            unknown = sorted(set(item) - PAINTING_KEYS)
            if unknown:
                raise OptionError(f"{where}: unknown field {unknown[0]!r}; use {', '.join(sorted(PAINTING_KEYS))}")
            if not isinstance(item["image"], str) or not item["image"].strip():
                raise OptionError(f'{where}: "image" is the painted picture\'s file name, got {item["image"]!r}')
            frame = frame_index(item["frame"], self.rate, self.first_tc, where)
            if not span.first <= frame <= span.last:
                raise OptionError(f"{where}: frame {frame} is outside {span.label}")
            out.append(Painting(frame, self.folder / Path(item["image"]).expanduser(), where))
        return out

    def _base_value(self, field: str):
        return self.base_style if field == "style" else getattr(self.base, field)


def _text(value) -> str | None:
    return None if value is None else str(value)


def read_looks(path: Path, base: Controls, base_style: Style, rate: Fraction, first_tc: Timecode | None,
               duration: float | None, frames: int | None, find_shots: Callable[[], ShotList],
               read_shots: Callable[[Path], ShotList]) -> LookTimeline:
    """The looks file at ``path``. ``find_shots()`` finds the clip's shots when an entry needs
    them and the file names no list; ``read_shots(path)`` reads a list the file names."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"looks file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read looks file {path}: {exc}") from None
    except ValueError as exc:
        raise InputError(f"{path.name} is not JSON: {exc}") from None
    shots = find_shots
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"shots", "looks"})
        if unknown or "looks" not in data:
            raise OptionError(f'{path.name}: write a list of entries, or {{"shots": "shots.csv", "looks": [...]}}')
        if data.get("shots") is not None:
            listed = (path.parent / str(data["shots"])).resolve()
            shots = lambda: read_shots(listed)  # noqa: E731
        data = data["looks"]
    if not isinstance(data, list):
        raise OptionError(f"{path.name}: the looks must be a list of entries")
    return _timeline(_Reader(path.name, path.parent, base, base_style, rate, first_tc, duration, frames, shots), data)


@dataclass(frozen=True)
class LookSheet:
    """Looks held in memory, as a looks file would hold them: its entries (dicts, as in the file),
    the shot list they count shots in, and the folder their paintings are found in. The studio's
    preview renders from one (``RenderOptions.look_sheet``) and its renders write one out."""

    entries: tuple[dict, ...]
    shots: ShotList
    folder: Path
    name: str = "the looks"

    def timeline(self, base: Controls, base_style: Style, rate: Fraction, first_tc: Timecode | None,
                 duration: float | None, frames: int | None) -> LookTimeline:
        reader = _Reader(self.name, self.folder, base, base_style, rate, first_tc, duration, frames, lambda: self.shots)
        return _timeline(reader, list(self.entries))

    def file_text(self, shots_name: str) -> str:
        """The looks file of these entries, naming the shot list written beside it as ``shots_name``."""
        return json.dumps({"shots": shots_name, "looks": list(self.entries)}, indent=1) + "\n"


def _timeline(reader: _Reader, data: list) -> LookTimeline:
    entries = [reader.entry(n, item) for n, item in enumerate(data, 1)]
    try:
        return LookTimeline(reader.base, reader.base_style, entries)
    except OptionError as exc:
        raise OptionError(f"{reader.where}: {exc}") from None


def check_entry(entry: dict, shots: ShotList, folder: Path, where: str) -> None:
    """One looks file entry checked as a render will read it (its span, fields, keyframes and
    painted keyframes against ``shots``): OptionError saying what is wrong, the entry named ``where``."""
    reader = _Reader(where, folder, Controls(), resolve(Controls().style), shots.rate, shots.first, None,
                     shots.frames, lambda: shots)
    try:
        reader.entry(1, entry)
    except OptionError as exc:  # the reader names an entry of a file: here it is the one look
        raise OptionError(re.sub(r"entry 1 \([^)]*\)(, |: )|entry 1(, |: )", "", str(exc))) from None


def split_per_shot(spec: str) -> list[str]:
    """``starry-night,mosaic,3:0.5,mosaic:0.5`` -> one style per shot: the weighted parts next to
    each other are one blend. ``;`` separates shots when two blends follow each other."""
    if ";" in spec:
        return [part.strip() for part in spec.split(";")]
    styles: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if ":" in part and styles and ":" in styles[-1]:
            styles[-1] += "," + part
        else:
            styles.append(part)
    return styles


def carried_looks(shots: ShotList, base: Controls, base_style: Style) -> LookTimeline:
    """The looks a shot list carries (a timeline's clips): each shot that names one takes it, whole
    (style, strength, keep colours, stability, keyframes); the others keep the command line's look."""
    reader = _Reader("the shot list", Path("."), base, base_style, shots.rate, shots.first, None, shots.frames,
                     lambda: shots)
    entries = []
    for n, look in sorted(shots.looks.items()):
        if not 1 <= n <= len(shots.shots):
            continue
        try:
            entries.append(reader.entry(n, {**{k: v for k, v in look.items() if k != "keyframe"}, "shot": n}))
        except OptionError as exc:
            raise OptionError(f"shot {n}'s look in the shot list: {str(exc).split(': ', 2)[-1]}") from None
    return LookTimeline(base, base_style, entries)


def per_shot_looks(spec: str, base: Controls, base_style: Style, shots: ShotList) -> tuple[LookTimeline, list[str]]:
    """``--style-per-shot``: shot N takes the Nth style; shots past the list keep the last one.
    Returns the timeline and notes for the user."""
    styles = split_per_shot(spec)
    entries, notes = [], []
    for n, shot in enumerate(shots.shots, 1):
        text = styles[min(n, len(styles)) - 1]
        try:
            style = resolve(text)
        except StyleError as exc:
            raise OptionError(f"--style-per-shot, shot {n}: {exc}") from None
        entries.append(Entry(n, Span(shot.first_frame, shot.last_frame, f"shot {n}"), {"style": [Key(shot.first_frame, style)]}))
    if len(styles) != len(shots.shots):
        more = "the last style holds for the rest" if len(styles) < len(shots.shots) else "the extra styles are unused"
        notes.append(f"--style-per-shot gives {len(styles)} styles for {len(shots.shots)} shots: {more}")
    return LookTimeline(base, base_style, entries), notes
