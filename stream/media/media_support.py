"""What this machine's FFmpeg (inside PyAV) can read and write, for ``stylecast doctor``: picture
formats and codecs. The virtual cameras are stream/links/live_support.py's."""
from __future__ import annotations

import av

from .codecs import CODECS

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
