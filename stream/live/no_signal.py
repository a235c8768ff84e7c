"""The picture a live sink gets while its source is stalled: the last frame, dimmed, marked NO SIGNAL."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from stream.core.frame import Frame


def no_signal(previous: Frame, fps: float, first: bool) -> Frame:
    """The next held frame after ``previous`` (a real frame when ``first``, else a held one), one
    output interval later in the source's time base, so timestamps keep moving forward."""
    image = previous.image
    if first:
        image = (image.astype(np.uint16) * 2 // 5).astype(np.uint8)
        h, w = image.shape[:2]
        scale = max(0.4, w / 640)
        (tw, th), _ = cv2.getTextSize("NO SIGNAL", cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        cv2.putText(image, "NO SIGNAL", ((w - tw) // 2, (h + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), max(1, round(2 * scale)), cv2.LINE_AA)
    step = max(1, round(1 / (fps * float(previous.time_base)))) if previous.time_base else 1
    pts = None if previous.pts is None else previous.pts + step
    return replace(previous, image=image, pts=pts, original=None, engine_ms=0.0)
