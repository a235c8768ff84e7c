"""Pictures onto the device and off it, each once, in the smallest form: a decoded frame's 4:2:0
planes go up (never RGB), are turned into RGB there (stream/device/colour.py), turned upright and
fitted into ``max_side``; what leaves is the encoder's 4:2:0 (or RGB, for a writer that takes only
that) and the small greys the flow and the flicker readout are measured on (320 px, a few KB).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from stream.core.frame import Frame, Yuv420
from stream.media.colour import Colour
from stream.media.decode import output_size
from stream.temporal.stabilize import flow_size

from .colour import DeviceColour, grey


def to_device(image: np.ndarray, device: torch.device, pinned: dict | None = None) -> torch.Tensor:
    """A host array on ``device``: through a pinned buffer kept per shape in ``pinned``, so that the
    copy up runs without waiting (on the CPU, the array itself)."""
    if device.type == "cpu":
        return torch.from_numpy(np.ascontiguousarray(image))
    key = (image.shape, image.dtype.str)
    buffer = pinned.get(key) if pinned is not None else None
    if buffer is None:
        buffer = torch.empty(image.shape, dtype=torch.from_numpy(image[:0]).dtype).pin_memory()
        if pinned is not None:
            pinned[key] = buffer
    buffer.numpy()[...] = image
    return buffer.to(device, non_blocking=True)


def fit(image: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """uint8 [H, W, 3] at ``width`` x ``height``: averaged down (OpenCV's area), or bilinear up."""
    if image.shape[:2] == (height, width):
        return image
    x = image.permute(2, 0, 1)[None].float()
    shrinking = width <= image.shape[1] and height <= image.shape[0]
    x = F.interpolate(x, size=(height, width), mode="area" if shrinking else "bilinear", align_corners=None if shrinking else False)
    return x[0].permute(1, 2, 0).round_().clamp_(0, 255).to(torch.uint8)


def small_grey(image: torch.Tensor, width: int, height: int) -> np.ndarray:
    """uint8 grey of a device picture at ``width`` x ``height``, on the host (area, then grey, as
    OpenCV's INTER_AREA and RGB2GRAY make it)."""
    return grey(fit(image, width, height)).cpu().numpy()


class Uploader:
    """Decoded frames to RGB on ``device``: ``colour`` is the source's, ``max_side`` the render's."""

    def __init__(self, colour: Colour, device, max_side: int | None):
        self.device, self.max_side = torch.device(device), max_side
        self.colour = DeviceColour(colour, self.device)
        self._pinned: dict = {}

    def __call__(self, frame: Frame) -> None:
        """``frame.image`` becomes the picture on the device (from ``frame.yuv`` where the decoder
        gave the 4:2:0 planes), upright and fitted; ``frame.small_grey`` its grey at the flow's size."""
        if frame.yuv is not None:
            yuv = to_device(frame.yuv.data, self.device, self._pinned)
            image = self.colour.to_rgb(yuv, frame.yuv.width, frame.yuv.height, frame.yuv.layout)
            frame.yuv = None
        else:
            image = to_device(frame.image, self.device, self._pinned)
        if frame.rotation:
            image = torch.rot90(image, frame.rotation, dims=(0, 1)).contiguous()
        h, w = image.shape[:2]
        width, height = output_size(w, h, self.max_side) if self.max_side else (w, h)
        frame.image = frame.original = fit(image, width, height)
        frame.small_grey = small_grey(frame.image, *flow_size(width, height))


class Downloader:
    """Device pictures back to the host for a writer: its 4:2:0 where it takes that (``colour``,
    the writer's), else RGB."""

    def __init__(self, colour: Colour | None, device):
        self.colour = None if colour is None else DeviceColour(colour, device)

    def __call__(self, frame: Frame) -> None:
        h, w = frame.image.shape[:2]
        if self.colour is not None and h % 2 == 0 and w % 2 == 0:
            frame.yuv = Yuv420(self.colour.to_yuv420(frame.image).cpu().numpy(), w, h)
            frame.image = None
        else:
            frame.image = frame.image.cpu().numpy()
        frame.original = None
