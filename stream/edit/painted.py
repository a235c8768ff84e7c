"""Painted keyframes: a shot whose look is a frame an artist painted.

An entry of a looks file takes ``"keyframe": {"frame": 120, "image": "sh2_0120.png"}`` (or a list
of them; ``frame`` counts from the source's first frame, or is a timecode; ``image`` is found beside
the looks file), and ``render --keyframe 120=painted.png`` gives the shot holding frame 120 one.
Each entry's paintings train one network (engines/training/keyframe_training.py) from the source frames
they paint and the unlabeled frames next to them, and the entry is rendered with it: through the
same stabilizer, encoders and looks machinery as a built-in style (strength, keep_colors and
stability still apply, and move through keyframes as ever).

A painting is read at the size the frames reach the network (``--max-side``): one of another size
but the same shape is scaled; one of another shape is an error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from engines.catalog import Style
from engines.errors import InputError, OptionError
from engines.training import Budget
from stream.core.progress import Progress, quiet
from stream.styling.keyframes import Key

from .looks import Entry, LookTimeline, Span
from .painting import Painting
from .shots import ShotList

NEIGHBOUR_REACH = 12  # frames each side of a painted frame whose pairs keep the network steady
NEIGHBOUR_STEP = 3    # one pair in this many frames
ASPECT_TOLERANCE = 0.02


def add_paintings(timeline: LookTimeline, paintings: list[Painting], shots: Callable[[], ShotList]) -> LookTimeline:
    """``--keyframe``: each painting joins the entry that holds its frame, or starts one for its shot."""
    entries = list(timeline.entries)
    for painting in paintings:
        holder = next((e for e in entries if e.span.first <= painting.frame <= e.span.last), None)
        if holder is None:
            shot = next((s for s in shots().shots if s.first_frame <= painting.frame <= s.last_frame), None)
            if shot is None:
                raise OptionError(f"{painting.where}: frame {painting.frame} is past the clip's last frame "
                                  f"({shots().frames - 1})")
            holder = Entry(max([0, *(e.number for e in entries)]) + 1,
                           Span(shot.first_frame, shot.last_frame, f"shot {shot.shot}"), {})
            entries.append(holder)
        holder.paintings.append(painting)
    return LookTimeline(timeline.base, timeline.base_style, entries)


def read_painting(painting: Painting, size: tuple[int, int]) -> np.ndarray:
    """The painting as uint8 HWC RGB at ``size`` (width, height) of the frames."""
    return read_picture(painting.image, size, painting.where)


def read_picture(path: Path, size: tuple[int, int] | None, where: str) -> np.ndarray:
    """A picture as uint8 HWC RGB (EXIF orientation applied), at ``size`` (width, height) when given:
    one of another size but the same shape is scaled, another shape is an error. Errors begin with
    ``where`` (the option or looks entry that named it)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img).convert("RGB")
            if size is not None and img.size != size:
                aspect, want = img.size[0] / img.size[1], size[0] / size[1]
                if abs(aspect / want - 1) > ASPECT_TOLERANCE:
                    raise OptionError(f"{where}: {path.name} is {img.size[0]}x{img.size[1]}; "
                                      f"paint the frame at {size[0]}x{size[1]} (or that shape)")
                img = img.resize(size, Image.LANCZOS)
            return np.asarray(img, np.uint8).copy()
    except FileNotFoundError:
        raise InputError(f"{where}: picture not found: {path}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{where}: cannot read {path.name} as a picture: {exc}") from None


def _neighbours(entry: Entry, frames: int | None) -> list[int]:
    """The frames next to an entry's paintings whose pairs (j, j+1) train it, inside its span."""
    last = min(entry.span.last, frames - 1 if frames else entry.span.last)
    wanted = set()
    for p in entry.paintings:
        for j in range(p.frame - NEIGHBOUR_REACH, p.frame + NEIGHBOUR_REACH, NEIGHBOUR_STEP):
            if entry.span.first <= j and j + 1 <= last:
                wanted.add(j)
    return sorted(wanted)


@dataclass(kw_only=True)
class TrainingOptions:
    """How long a painting trains its network, as render, live and serve take it: exactly
    ``keyframe_steps``, or within ``keyframe_seconds`` (engines/training's Budget)."""

    keyframe_steps: int | None = None      # exactly this many steps, on the whole painting
    keyframe_seconds: float | None = None  # a time budget (default: engines.training's, by the machine)

    def budget(self, seconds: float | None = None) -> Budget:
        """The budget (checked: an out-of-range value is the user's error); ``seconds``: this use's
        own default time budget, where it has one."""
        timed = self.keyframe_seconds if self.keyframe_seconds is not None else \
            (seconds if self.keyframe_steps is None else None)
        return Budget(self.keyframe_steps, timed)


def paint_timeline(timeline: LookTimeline, frames_of: Callable[[set[int]], dict[int, np.ndarray]],
                   frames: int | None, budget: Budget, progress: Progress = quiet, folder=None) -> list[dict]:
    """Train the network of every entry with paintings (or take it from the cache) and give the
    entry its look. ``frames_of(indexes)`` decodes those source frames (uint8 HWC RGB, at the size
    the network sees: a decoder's ``frames_at``); ``progress`` hears each training ("painting shot
    2", in percent of its budget, with its step and loss); ``folder``: where the networks are kept (a cluster render's folder that every
    node reads; the user's cache by default). One row per trained entry, for the summary."""
    painted = [e for e in timeline.entries if e.paintings]
    if not painted:
        return []
    for entry in painted:
        if "style" in entry.tracks:
            raise OptionError(f"{entry.paintings[0].where}: {entry.span.label} sets a style; a shot takes its look "
                              "from a style or from painted keyframes, not both")
        for p in entry.paintings:
            if not entry.span.first <= p.frame <= entry.span.last or (frames and p.frame >= frames):
                raise OptionError(f"{p.where}: frame {p.frame} is outside {entry.span.label}")
    wanted = {p.frame for e in painted for p in e.paintings}
    for entry in painted:
        wanted |= {j + d for j in _neighbours(entry, frames) for d in (0, 1)}
    decoded = frames_of(wanted)
    missing = sorted(f for f in {p.frame for e in painted for p in e.paintings} if f not in decoded)
    if missing:
        raise OptionError(f"frame {missing[0]} could not be read from the source (it has {len(decoded) and max(decoded) + 1} frames)")
    size = decoded[painted[0].paintings[0].frame].shape[1::-1]
    paintings = {id(p): read_painting(p, size) for e in painted for p in e.paintings}  # every painting checked first
    try:
        from engines.training.keyframe_training import (
            Heard,
            PaintedFrame,
            keyframe_model,
        )
    except ImportError:
        raise OptionError("painted keyframes train a network with torch, which is not installed "
                          "(pip install torch==2.13.0; see README)") from None
    rows = []
    for entry in painted:
        keyframes = [PaintedFrame(decoded[p.frame], paintings[id(p)]) for p in entry.paintings]
        pairs = [(decoded[j], decoded[j + 1]) for j in _neighbours(entry, frames) if j in decoded and j + 1 in decoded]
        advance = progress(100, f"painting {entry.span.label}")  # in percent of its budget
        done = [0]

        def heard(h: Heard) -> None:
            now = round(100 * h.done)
            advance(now - done[0], f"step {h.step}, loss {h.loss:.3f}")
            done[0] = now

        trained = keyframe_model(keyframes, pairs, budget, heard, folder)
        style = Style("keyframe", f"painted {entry.span.label}", path=trained.path)
        entry.tracks["style"] = [Key(entry.span.first, style)]
        rows.append({"entry": entry.number, "span": entry.span.label, "keyframes": [p.frame for p in entry.paintings],
                     "cached": trained.cached, "steps": trained.steps,
                     "loss": None if trained.loss is None or math.isnan(trained.loss) else round(trained.loss, 4),
                     "seconds": round(trained.seconds, 1)})
    return rows
