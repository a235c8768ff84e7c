"""The frame path on a device: what a render or live job does to a frame between its decoder and
its writer, in torch, where the network runs, so that the picture crosses the bus twice, as 4:2:0
on the way up and on the way down (stream/device/frames.py), and everything between (colour, the
network, the mix, the working size, the stabilizer's full-size work, the flicker readout's
greys) stays on the device.

``DevicePath`` holds the parts; a job calls ``upload``, ``stylize`` (by the batch), its stabilizer
(a DeviceStabilizer, stream/device/stabilizer.py) and ``download`` from its own threads. A
network of an engine that takes device tensors (``Engine.device``: torch CUDA, TensorRT) runs
where the frames are; any other (the CPU engine) gets them through the host, so the path runs, and
is tested, with every engine on any device.
"""
from __future__ import annotations

import numpy as np
import torch

from engines.engine import Engine
from engines.mix import Mix
from stream.core.frame import Frame
from stream.media.colour import Colour
from stream.temporal.flicker import FlickerMeter, flicker_size

from .frames import Downloader, Uploader, small_grey
from .mix import apply_mix, grow, shrink


def device_of(engine: Engine, asked: str) -> torch.device | None:
    """Where a job's frames live: ``asked`` is "host" (numpy and OpenCV on the CPU), "device" (the
    engine's torch device, else the CPU: the same torch code) or "auto" (the device path where the
    engine runs on a GPU)."""
    if asked == "host":
        return None
    device = getattr(engine, "device", None)
    if device is not None and torch.device(device).type == "cuda":
        return torch.device(device)
    return torch.device("cpu") if asked == "device" else None


class DevicePath:
    """The device parts of one job: frames in from ``source_colour``'s 4:2:0 (or RGB), out to
    ``sink_colour``'s 4:2:0 (None: RGB), at most ``max_side`` pixels."""

    def __init__(self, engine: Engine, device, source_colour: Colour, sink_colour: Colour | None,
                 max_side: int | None = None):
        self.engine, self.device = engine, torch.device(device)
        self.on_device = engine.device is not None and torch.device(engine.device) == self.device
        self.up = Uploader(source_colour, self.device, max_side)
        self.down = Downloader(sink_colour, self.device)

    def upload(self, frame: Frame) -> None:
        with torch.inference_mode():
            self.up(frame)

    def to_device(self, image: np.ndarray) -> torch.Tensor:
        """A host RGB picture on the device (a stand-in picture, a still)."""
        return torch.from_numpy(np.ascontiguousarray(image)).to(self.device)

    def stabilizer(self, stability: float, thorough: bool = True):
        """A stabilizer for this path's frames (its full-size work on the device)."""
        from .stabilizer import DeviceStabilizer

        return DeviceStabilizer(stability, thorough, self.device)

    def stylize(self, images: list[torch.Tensor], network, mix: Mix, scale: float = 1.0) -> list[torch.Tensor]:
        """Frames of one size through one network at ``scale`` of their size, as one batch, the mix
        applied at full size."""
        with torch.inference_mode():
            smalls = [shrink(image, scale) for image in images] if scale != 1.0 else images
            out = self._network(torch.stack(smalls), network)
            if scale == 1.0:
                return [apply_mix(mix, o, i) for o, i in zip(out, images)]
            return [grow(o, i, s, mix) for o, i, s in zip(out, images, smalls)]

    def _network(self, batch: torch.Tensor, network) -> torch.Tensor:
        if self.on_device:
            return network.on_device(batch)
        host = self.engine.stylize(np.ascontiguousarray(batch.cpu().numpy()), network, Mix())
        return torch.from_numpy(host).to(self.device)

    def measure(self, flicker: FlickerMeter, original: torch.Tensor, image: torch.Tensor,
                source_grey: np.ndarray | None = None) -> None:
        """Feed the flicker readout from greys made here (a few KB down), ``source_grey`` the
        original's where the caller has it at the readout's size."""
        with torch.inference_mode():
            size = flicker_size(image.shape[1], image.shape[0])
            source = source_grey if source_grey is not None and source_grey.shape[::-1] == size \
                else small_grey(original, *size)
            flicker.update_greys(source, small_grey(image, *size))

    def download(self, frame: Frame, flicker: FlickerMeter | None = None) -> None:
        """The frame's picture to the host for its writer, the flicker readout fed on the way."""
        if flicker is not None and frame.original is not None:
            self.measure(flicker, frame.original, frame.image, frame.small_grey)
        with torch.inference_mode():
            self.down(frame)
