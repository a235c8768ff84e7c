"""A shot's look from the page, checked as a render will read it, before it is saved: each field in
its range, a style that exists (a built-in name, a blend, or a picture or model of FOLDER by its
name), keyframes inside the shot and in time order, painted keyframes on frames of the shot and
pictures of the folder. What is wrong is said in the page's words: the shot, the keyframe, the
field; never a file of the server's."""
from __future__ import annotations

from pathlib import Path

from engines import resolve
from engines.errors import OptionError, StyleError
from stream.edit.looks import check_entry
from stream.edit.shots import Shot, ShotList
from stream.styling.controls import FIELDS

LOOK_FIELDS = (*FIELDS, "keyframes", "keyframe")  # a shot's look: the controls, moving by keyframes, or a painting
PICTURES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def style_spec(folder: Path, style: str) -> str:
    """A style as ``render`` takes it: a file of FOLDER by its full path, else as given."""
    if "/" in style or "\\" in style or style.startswith("."):
        raise StyleError(f"a style file is named by its name in the folder, got {style!r}")
    candidate = folder / style
    return str(candidate) if candidate.is_file() else style


def checked_look(folder: Path, look, shots: ShotList, shot: Shot | None) -> dict:
    """``look`` (a looks file entry's fields, without its shot) for ``shot`` (None: the project's
    default look, which takes no keyframes), checked whole; the look as it is kept."""
    if not isinstance(look, dict):
        raise OptionError("a look is an object of style, strength, keep_colors, stability and keyframes")
    unknown = sorted(set(look) - set(LOOK_FIELDS))
    if unknown:
        raise OptionError(f"unknown look field {unknown[0]!r}; use {', '.join(LOOK_FIELDS)}")
    out = {k: v for k, v in look.items() if v is not None and v != []}
    if "style" in out:
        out["style"] = str(out["style"]).strip()
        if not out["style"]:
            del out["style"]
        else:
            resolve(style_spec(folder, out["style"]))
    if "keyframe" in out:
        out["keyframe"] = _paintings(folder, out["keyframe"])
        if "style" in out:
            raise OptionError("a shot takes its look from a style or from painted keyframes, not both")
    if shot is None:
        if {"keyframes", "keyframe"} & set(out):
            raise OptionError("keyframes belong to a shot's own look, not to the look of shots without one")
        check_entry({"from": 0, **_for_render(folder, out)}, shots, folder, "the default look")
    else:
        check_entry({"shot": shot.shot, **_for_render(folder, out)}, shots, folder, f"shot {shot.shot}'s look")
    return out


def _for_render(folder: Path, look: dict) -> dict:
    return {**look, "style": style_spec(folder, look["style"])} if "style" in look else look


def _paintings(folder: Path, value) -> list[dict]:
    """Painted keyframes (stream/edit/painted.py): frames of the shot, pictures of FOLDER."""
    out = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict) or set(item) != {"frame", "image"}:
            raise OptionError('a painted keyframe is {"frame": 120, "image": "painted.png"}')
        image = str(item["image"])
        if "/" in image or "\\" in image or image.startswith(".") or Path(image).suffix.lower() not in PICTURES:
            raise OptionError(f"a painting is a picture of the folder, by its name, got {image!r}")
        if not (folder / image).is_file():
            raise OptionError(f"painting not found in the folder: {image}")
        out.append({"frame": item["frame"], "image": image})
    return out
