"""What this machine can read, write and show, for ``stylecast doctor``: FFmpeg's (inside PyAV)
picture formats and codecs, and the virtual cameras (PipeWire, v4l2loopback)."""
from __future__ import annotations

from pathlib import Path

import av

from .codecs import CODECS
from .pipewire_camera import pipewire_problem

# picture formats of an image sequence: (what a person calls it, FFmpeg's decoder)
PICTURES = (("PNG", "png"), ("TIFF", "tiff"), ("JPEG", "mjpeg"), ("DPX", "dpx"), ("OpenEXR", "exr"),
            ("BMP", "bmp"), ("WebP", "webp"), ("TGA", "targa"), ("JPEG 2000", "jpeg2000"))


def media_rows() -> list[dict]:
    """doctor's rows for image sequences in and out, and the video codecs a render writes."""
    have = av.codecs_available
    readable = [name for name, decoder in PICTURES if decoder in have]
    missing = [name for name, decoder in PICTURES if decoder not in have]
    codecs = [c for c in CODECS.values() if c.encoder in have]
    absent = [c.name for c in CODECS.values() if c.encoder not in have]
    return [
        {"name": "pictures", "kind": "media", "available": bool(readable),
         "reason": f"image sequences in: {', '.join(readable)}"
                   + (f" (not in this FFmpeg: {', '.join(missing)})" if missing else "")
                   + "; out: PNG, TIFF"},
        {"name": "codecs", "kind": "media", "available": bool(codecs),
         "reason": "; ".join(f"{c.name}: {c.label} ({c.encoder})" for c in codecs)
                   + (f"; not in this FFmpeg: {', '.join(absent)}" if absent else "")},
    ]


def camera_rows() -> list[dict]:
    """doctor's rows for ``--sink pipewire`` and ``--sink vcam``'s v4l2loopback devices."""
    problem = pipewire_problem()
    loopbacks = sorted(f"/dev/{p.parent.name}" for p in Path("/sys/devices/virtual/video4linux").glob("video*/name"))
    return [
        {"name": "pipewire", "kind": "camera", "available": problem is None,
         "reason": "a PipeWire camera node can be made (--sink pipewire, or vcam without v4l2loopback)"
                   if problem is None else problem},
        {"name": "v4l2loop", "kind": "camera", "available": bool(loopbacks),
         "reason": f"v4l2loopback devices: {', '.join(loopbacks)}" if loopbacks
                   else "no v4l2loopback device (sudo modprobe v4l2loopback exclusive_caps=1 card_label=stylecast)"},
    ]

