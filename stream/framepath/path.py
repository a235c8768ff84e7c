"""The frame path: what a render, a live job or a server's viewer does to a frame between its decoder
and its writer, as one protocol with two backends, chosen once per job by ``open_frame_path``:

- :class:`~stream.framepath.host.HostPath`: numpy pictures, OpenCV and the engine's frame calls;
- :class:`~stream.framepath.device.DevicePath`: torch tensors on the engine's device (or the CPU,
  where the same code runs and is tested).

A job calls, in this order, from whatever threads its stages have: ``greys`` (in frame order: the
small greys its motion and flicker readout are measured on, made on the host from what the decoder
gave), ``upload`` (the frame onto the path: its picture, upright and fitted), ``stylize`` (by
the batch), ``stabilize`` (in frame order, with a ``stabilizer`` the path made), ``download`` (the
frame for its writer, the flicker readout fed); ``picture`` puts a host picture on the path (a
carried painting, a stand-in) and ``mix`` mixes one. Nothing outside this package asks which path
it is on.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from engines.engine import Engine
from engines.errors import OptionError
from engines.mix import Mix
from stream.core.frame import Frame
from stream.media.colour import Colour
from stream.temporal.flicker import FlickerMeter
from stream.temporal.motion import Motion
from stream.temporal.stabilize import Stabilizer

from .host import HostPath


class FramePath(Protocol):
    where: str             # "host", or the device the frames live on ("cuda:0"; "cpu" for torch there)
    parallel_frames: int   # frames worth stylizing at once, each from a thread of its own

    def greys(self, frame: Frame) -> None: ...
    def upload(self, frame: Frame) -> None: ...
    def picture(self, image: np.ndarray): ...
    def stylize(self, images: list, network, mix: Mix, scale: float = 1.0) -> list: ...
    def mix(self, mix: Mix, stylized, original): ...
    def stabilizer(self, stability: float, thorough: bool = True) -> Stabilizer: ...
    def stabilize(self, stabilizer: Stabilizer, original, stylized, mix: Mix,
                  grey: np.ndarray | None = None, motion: Motion | None = None): ...
    def measure(self, flicker: FlickerMeter, original, image) -> None: ...
    def download(self, frame: Frame, flicker: FlickerMeter | None = None) -> None: ...


def takes_device_path(asked: str, gpu_engine: bool) -> bool:
    """The rule: a job's frames take the device path where it was asked for (--frame-path device),
    or where it was left to stylecast (auto) and the engine runs on a GPU."""
    return asked == "device" or (asked == "auto" and gpu_engine)


def device_for(engine: Engine, asked: str):
    """The torch device a job's frames live on by that rule, or None for the host: the engine's torch
    device where it is a GPU, else the CPU (the same torch code)."""
    device = getattr(engine, "device", None)
    gpu = device is not None and str(device).startswith("cuda")
    if not takes_device_path(asked, gpu):
        return None
    try:
        import torch
    except ImportError:
        raise OptionError("--frame-path device runs on torch, which is not installed") from None
    return torch.device(device) if gpu else torch.device("cpu")


def open_frame_path(engine: Engine, device=None, source_colour: Colour | None = None,
                    sink_colour: Colour | None = None, max_side: int | None = None, light: bool = False) -> FramePath:
    """A job's frame path on ``device`` (``device_for``'s choice: None for the host; a job asks its
    decoder for 4:2:0 pictures where it is not None). ``source_colour`` and ``sink_colour`` are the
    decoder's and the writer's (the device path converts 4:2:0 itself; None: RGB), ``max_side`` the
    job's; ``light``: a live job's host path (stream/framepath/host.py)."""
    if device is None:
        return HostPath(engine, light)
    from .device import DevicePath

    return DevicePath(engine, device, source_colour or Colour(), sink_colour, max_side)
