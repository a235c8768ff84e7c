"""Pictures encoded as PNG or JPEG bytes (thumbnails, contact sheets), with the encoder's answer checked."""
from __future__ import annotations

import cv2
import numpy as np

from engines.errors import OutputError

SUFFIXES = (".png", ".jpg", ".jpeg")


def encode_picture(image: np.ndarray, suffix: str) -> bytes:
    """uint8 RGB HWC -> the bytes of a ``suffix`` file (.png, .jpg or .jpeg)."""
    if suffix.lower() not in SUFFIXES:
        raise OutputError(f"pictures are written as .png or .jpg, got {suffix!r}")
    ok, data = cv2.imencode(suffix.lower(), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OutputError(f"could not encode a {image.shape[1]}x{image.shape[0]} picture as {suffix}")
    return data.tobytes()
