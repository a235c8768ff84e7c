"""The picture a live sink gets while its source is stalled: the last frame, dimmed, marked NO SIGNAL."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from stream.core.frame import Frame, Yuv420


def no_signal(previous: Frame, fps: float, first: bool) -> Frame:
    """The next held frame after ``previous`` (a real frame when ``first``, else a held one), one
    output interval later in the source's time base, so timestamps keep moving forward. A frame the
    device path brought down as 4:2:0 is dimmed and marked in its planes."""
    image, yuv = previous.image, previous.yuv
    if first and yuv is not None:
        yuv = _dimmed_yuv(yuv)
    elif first:
        image = (image.astype(np.uint16) * 2 // 5).astype(np.uint8)
        _mark(image, (255, 255, 255))
    step = max(1, round(1 / (fps * float(previous.time_base)))) if previous.time_base else 1
    pts = None if previous.pts is None else previous.pts + step
    return replace(previous, image=image, yuv=yuv, pts=pts, original=None, engine_ms=0.0)


def _mark(picture: np.ndarray, colour) -> None:
    h, w = picture.shape[:2]
    scale = max(0.4, w / 640)
    (tw, th), _ = cv2.getTextSize("NO SIGNAL", cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    cv2.putText(picture, "NO SIGNAL", ((w - tw) // 2, (h + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, colour,
                max(1, round(2 * scale)), cv2.LINE_AA)


def _dimmed_yuv(yuv: Yuv420) -> Yuv420:
    """A 4:2:0 picture dimmed to 40% (the luma toward black, the chroma toward grey) and marked."""
    data = yuv.data.astype(np.int16)
    size = yuv.width * yuv.height
    flat = data.reshape(-1)
    flat[:size] = flat[:size] * 2 // 5
    flat[size:] = 128 + (flat[size:] - 128) * 2 // 5
    out = data.astype(np.uint8)
    luma = out.reshape(-1)[:size].reshape(yuv.height, yuv.width)
    _mark(luma, 235)
    return Yuv420(out, yuv.width, yuv.height, yuv.layout)
