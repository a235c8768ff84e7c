"""Shot lists to and from editing software: OpenTimelineIO (``.otio``), CMX 3600 EDLs (``.edl``)
and Final Cut Pro 7 XML (``.xml``), through OpenTimelineIO and its cmx_3600 and fcp_xml adapters;
and PySceneDetect's CSV, read.

A shot list becomes one video track of clips, one per shot, each the shot's frames of the clip
(its source range, in the clip's own timecode) at the clip's rate. The record side starts at
01:00:00:00, as an edit's does. A shot's look (style, strength, keep colours, stability, keyframes:
what a looks file entry holds) rides along whole where the format can carry it: in OTIO in the
clip's metadata (``metadata["stylecast"]["look"]``); in FCP XML in the comment of a ``look:STYLE``
marker at the shot's first frame; in an EDL as a ``* STYLECAST LOOK:`` comment line under the
event, beside the ``* LOC:`` marker (which editing programs show; in capitals, the style only).
A look that is only a style is read back from the marker alone (an editor's own EDL).

The traps, each handled here and tested:
- rates are kept as the rational they are (23.976 is 24000/1001, 29.97 is 30000/1001), and every
  time is turned back into a whole frame by rounding, so no cut drifts by a frame;
- the EDL writer writes no ``FCM:`` line and labels 29.97 drop-frame whatever the clip counts in:
  the line is added and every timecode is written again in the clip's own counting;
- its record side starts at 00:00:00:00: it is moved to 01:00:00:00;
- an EDL read may name drop-frame in its ``FCM:`` line while its labels use ``:`` (the reader
  would count them non-drop), and may have comment lines before its ``TITLE:`` (which the reader
  takes for events): both are mended before it is parsed;
- the reader needs the rate (an EDL does not say it): the clip's is used.
"""
from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction
from pathlib import Path

from engines.errors import InputError, OptionError
from stream.media.timecode import Timecode, counts_drop_frame

TIMELINE_SUFFIXES = (".otio", ".edl", ".xml")
RECORD_START = "01:00:00:00"  # where an edit's record side starts
_ADAPTERS = {".otio": "otio_json", ".edl": "cmx_3600", ".xml": "fcp_xml"}
_TIMECODE = re.compile(r"\b(\d\d):(\d\d):(\d\d)[:;](\d\d)\b")
_LOOK_MARKER = "look:"
_EDL_LOOK = "STYLECAST LOOK:"  # an EDL comment line holding a shot's whole look as JSON


def _otio():
    try:
        import opentimelineio
    except ImportError:
        raise OptionError("EDL, FCP XML and OTIO shot lists need OpenTimelineIO: "
                          "pip install opentimelineio otio-cmx3600-adapter otio-fcp-adapter") from None
    return opentimelineio


def timeline_text(cuts: list[int], frames: int, rate: Fraction, first: Timecode | None, suffix: str,
                  media: Path | None = None, looks: dict[int, dict] | None = None, name: str = "stylecast") -> str:
    """The text of a timeline file (``suffix``: .otio, .edl or .xml) with a clip per shot: shot N
    runs from ``cuts[N-1]`` to the next cut (the last to ``frames``); ``looks`` by shot number
    (each a looks file entry's fields: a style alone may be given as its text)."""
    otio = _otio()
    rt, span = otio.opentime.RationalTime, otio.opentime.TimeRange
    fps, start = float(rate), (first.frames if first else 0)
    media = Path(media).resolve() if media else None
    reference = otio.schema.ExternalReference(target_url=media.as_uri() if media else "",
                                              available_range=span(rt(start, fps), rt(frames, fps)))
    timeline = otio.schema.Timeline(name=name)
    timeline.global_start_time = rt(_record_start(rate, first), fps)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for number, (a, b) in enumerate(zip(cuts, [*cuts[1:], frames]), 1):
        clip = otio.schema.Clip(name=f"shot {number}", media_reference=reference.clone(),
                                source_range=span(rt(start + a, fps), rt(b - a, fps)))
        clip.metadata["stylecast"] = {"shot": number, "first_frame": a, "last_frame": b - 1}
        look = as_look((looks or {}).get(number))
        if look:
            clip.metadata["stylecast"]["look"] = look
            marker = otio.schema.Marker(name=_LOOK_MARKER + str(look.get("style", "painted")),
                                        marked_range=span(rt(start + a, fps), rt(0, fps)))
            marker.metadata["fcp_xml"] = {"comment": "stylecast " + json.dumps(look)}
            clip.markers.append(marker)
        track.append(clip)
    if suffix == ".edl":
        text = otio.adapters.write_to_string(timeline, adapter_name="cmx_3600", rate=fps)
        return _edl_written(text, rate, first, [as_look((looks or {}).get(n)) for n in range(1, len(cuts) + 1)])
    return otio.adapters.write_to_string(timeline, adapter_name=_ADAPTERS[suffix])


def _edl_written(text: str, rate: Fraction, first: Timecode | None, looks: list[dict | None]) -> str:
    """The adapter's EDL, mended: an FCM line, every label in the clip's own counting, the record
    side from 01:00:00:00; and under each event its whole look as a comment line (``looks``, in
    event order; ASCII, as an EDL is)."""
    drop = _drop(rate, first)
    record = _record_start(rate, first)
    lines, events = [], iter(looks)
    for line in text.splitlines():
        fields = _TIMECODE.findall(line)
        look = None
        if len(fields) == 4 and line[:3].isdigit():  # an event: source in, out, record in, out
            values = [_frames(f, rate) for f in fields]
            values[2:] = [v + record for v in values[2:]]
            stamps = iter(str(Timecode(v, rate, drop)) for v in values)
            line = _TIMECODE.sub(lambda m: next(stamps), line)
            look = next(events, None)
        elif line.startswith("* LOC:"):
            line = _TIMECODE.sub(lambda m: str(Timecode(_frames(m.groups(), rate), rate, drop)), line, count=1)
        lines.append(line)
        if look:
            lines.append(f"* {_EDL_LOOK} {json.dumps(look)}")
        if line.startswith("TITLE:"):
            lines.append(f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}")
    return "\n".join(lines) + "\n"


def _drop(rate: Fraction, first: Timecode | None) -> bool:
    """Whether the clip's labels count drop-frame: as its own timecode does, else as its rate would."""
    return first.drop if first is not None else counts_drop_frame(rate)


def _record_start(rate: Fraction, first: Timecode | None) -> int:
    """RECORD_START in frames, in the clip's own counting (01:00:00;00 is 107892 frames at 29.97 DF)."""
    sep = ";" if _drop(rate, first) else ":"
    return Timecode.parse(RECORD_START[:8] + sep + RECORD_START[9:], rate).frames


def _frames(fields, rate: Fraction) -> int:
    """Frames from 00:00:00:00 of a label written by OpenTimelineIO (drop-frame at 29.97 and 59.94)."""
    hh, mm, ss, ff = fields
    sep = ";" if counts_drop_frame(rate) else ":"
    return Timecode.parse(f"{hh}:{mm}:{ss}{sep}{ff}", rate).frames


def read_timeline(path: Path, rate: Fraction, first: Timecode | None) -> tuple[list[int], int | None, dict[int, dict]]:
    """(each shot's first frame, frames in all where the file says, looks by shot number) of a
    timeline file, counted in the clip's frames (its own timecode taken off)."""
    otio = _otio()
    suffix = path.suffix.lower()
    text = read_list_text(path)
    try:
        if suffix == ".edl":
            timeline = otio.adapters.read_from_string(_edl_readable(text), adapter_name="cmx_3600", rate=float(rate))
        else:
            timeline = otio.adapters.read_from_string(text, adapter_name=_ADAPTERS[suffix])
    except Exception as exc:  # the adapters raise many kinds; each is one line for the user
        raise InputError(f"{path.name} is not a readable {suffix[1:].upper()} file: {str(exc).splitlines()[0][:200]}") from None
    clips = [c for t in timeline.video_tracks() for c in t.find_clips()]
    if not clips:
        raise InputError(f"{path.name} has no clips on a video track")
    offset = first.frames if first else 0
    spans, looks = [], {}
    for clip in clips:
        r = clip.source_range or clip.available_range()
        a = round(r.start_time.rescaled_to(float(rate)).value) - offset
        spans.append((a, a + round(r.duration.rescaled_to(float(rate)).value), _look_of(clip)))
    spans.sort(key=lambda s: s[0])
    starts, end = [], None
    for a, b, look in spans:
        if a < 0:
            raise OptionError(f"{path.name}: a clip starts at frame {a}, before the clip's first frame "
                              f"(is it the EDL of another clip?)")
        if not starts or a > starts[-1]:
            starts.append(a)
            if look:
                looks[len(starts) + (starts[0] != 0)] = look
        end = max(end or 0, b)
    if starts[0] != 0:  # the frames before the first event are a shot of their own
        starts.insert(0, 0)
    return starts, end, looks


def read_list_text(path: Path) -> str:
    """A shot list's text; a missing or unreadable file is one clear line."""
    try:
        return path.read_text()
    except FileNotFoundError:
        raise InputError(f"shot list not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read shot list {path}: {exc}") from None


def _look_of(clip) -> dict | None:
    """A clip's whole look where its file carried it (OTIO's metadata, FCP XML's marker comment, an
    EDL's comment line), else its style from a ``look:NAME`` marker."""
    meta = clip.metadata.get("stylecast")
    if isinstance(meta, dict) and meta.get("look"):
        return as_look(meta["look"])
    for comment in clip.metadata.get("cmx_3600", {}).get("comments", []):
        if comment.startswith(_EDL_LOOK):
            return _json_look(comment[len(_EDL_LOOK):])
    for marker in clip.markers:
        comment = marker.metadata.get("fcp_xml", {}).get("comment", "") or ""
        if comment.startswith("stylecast "):
            return _json_look(comment[len("stylecast "):])
        text = (marker.name or marker.metadata.get("cmx_3600", {}).get("comment", "") or "").strip()
        if text.lower().startswith(_LOOK_MARKER):
            return {"style": text[len(_LOOK_MARKER):].strip().lower()}  # an EDL's LOC comment comes back in capitals
    return None


def as_look(look) -> dict | None:
    """A look as a looks file entry's fields: a style given as its text becomes {"style": text}."""
    if not look:
        return None
    return dict(look) if isinstance(look, dict) else {"style": str(look)}


def _json_look(text: str) -> dict | None:
    try:
        look = json.loads(text)
    except ValueError:
        return None
    return look if isinstance(look, dict) else None


def _edl_readable(text: str) -> str:
    """An EDL the reader takes as it is meant: nothing before TITLE, and labels that the FCM line
    says are drop-frame written with ``;``."""
    lines = text.splitlines()
    title = next((i for i, line in enumerate(lines) if line.strip().startswith("TITLE:")), None)
    if title:
        lines = lines[title:]
    out, drop = [], False
    for line in lines:
        if line.strip().startswith("FCM:"):
            drop = "NON" not in line.upper() and "DROP" in line.upper()
        elif drop:
            line = _TIMECODE.sub(lambda m: f"{m[1]}:{m[2]}:{m[3]};{m[4]}", line)
        out.append(line)
    return "\n".join(out) + "\n"


def scenedetect_starts(text: str) -> tuple[list[int], int] | None:
    """PySceneDetect's ``list-scenes`` CSV (an optional first line of timecodes, then a table with
    ``Start Frame`` and ``End Frame``, counted from 1): (each shot's first frame, frames in all),
    or None when the text is not one."""
    lines = text.splitlines()
    if lines and lines[0].startswith("Timecode List"):
        lines = lines[1:]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    if not rows or "Start Frame" not in rows[0] or "End Frame" not in rows[0]:
        return None
    try:
        starts = [int(r["Start Frame"]) - 1 for r in rows]
        end = int(rows[-1]["End Frame"])
    except (TypeError, ValueError):
        raise InputError("a PySceneDetect list with a frame that is not a whole number") from None
    return starts, end
