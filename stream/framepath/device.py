"""The frame path on a device: a job's frames live on the engine's torch device from upload to
download, so the picture crosses the bus twice, as 4:2:0 up and 4:2:0 down
(stream/framepath/transfer.py), and everything between runs where the network does: colour
(stream/media/colour.py's DeviceColour), the network by the batch, the mix and working size
(engines/mix.py, engines/style_scale.py), the stabilizer's full-size work
(stream/temporal/stabilize.py's DeviceStabilizer). The motion and the flicker readout are measured
on the host from greys the host made itself (the decoded luma, the encoder's luma): no host sync a
frame but the one download (tests/framepath/test_host_syncs.py counts them).

Each stage runs on a CUDA stream of its own, handing frames on with events
(stream/framepath/streams.py). A network of an engine that takes device tensors (``Engine.device``:
torch CUDA, TensorRT) runs where the frames are; any other (the CPU engine) gets them through the
host, so the path runs, and is tested, with every engine on any device.
"""
from __future__ import annotations

import numpy as np

from engines.engine import Engine
from engines.mix import Mix
from engines.optional import torch
from engines.pictures import small_grey
from engines.style_scale import grow, shrink
from stream.core.frame import Frame
from stream.media.colour import Colour
from stream.temporal.flicker import FlickerMeter, flicker_size
from stream.temporal.motion import Motion, luma_grey, picture_grey
from stream.temporal.stabilize import DeviceStabilizer

from .streams import StageStreams
from .transfer import Downloader, Uploader


class DevicePath:
    """The device parts of one job: frames in from ``source_colour``'s 4:2:0 (or RGB), out to
    ``sink_colour``'s 4:2:0 (None: RGB), at most ``max_side`` pixels."""

    parallel_frames = 1  # a frame at a time into the network: stages overlap instead (their own streams)

    def __init__(self, engine: Engine, device, source_colour: Colour, sink_colour: Colour | None,
                 max_side: int | None = None):
        self.engine, self.device = engine, torch.device(device)
        self.where = str(self.device)
        self.on_device = engine.device is not None and torch.device(engine.device) == self.device
        self.streams = StageStreams(self.device)
        self.up = Uploader(source_colour, self.device, max_side, self.streams)
        self.down = Downloader(sink_colour, self.device, self.streams)
        self._sink_full = sink_colour is not None and sink_colour.range == 2

    def greys(self, frame: Frame) -> None:
        if frame.small_grey is None:
            self.up.greys(frame)

    def upload(self, frame: Frame) -> None:
        with self.streams.stage("upload", frame), torch.inference_mode():
            self.up(frame)

    def picture(self, image: np.ndarray):
        """A host RGB picture on the device (a stand-in, a still, a carried painting)."""
        with torch.inference_mode():
            return self.up.to_device(np.ascontiguousarray(image))

    def stylize(self, images: list, network, mix: Mix, scale: float = 1.0) -> list:
        """Pictures of one size through one network at ``scale`` of their size, as one batch, the mix
        applied at full size."""
        with self.streams.on("network"), torch.inference_mode():
            smalls = [shrink(image, scale) for image in images] if scale != 1.0 else images
            out = self._network(torch.stack(smalls), network)
            if scale == 1.0:
                return [mix.apply(o, i) for o, i in zip(out, images)]
            return [grow(o, i, s, mix) for o, i, s in zip(out, images, smalls)]

    def _network(self, batch, network):
        if self.on_device:  # None: the engine's own style's network
            return (network or self.engine.own_network).on_device(batch)
        host = self.engine.stylize(np.ascontiguousarray(batch.cpu().numpy()), network, Mix())
        return torch.from_numpy(host).to(self.device)

    def mix(self, mix: Mix, stylized, original):
        with torch.inference_mode():
            return mix.apply(stylized, original)

    def stabilizer(self, stability: float, thorough: bool = True) -> DeviceStabilizer:
        """A stabilizer for this path's frames (its full-size work on the device; the flow and the
        trust go up through the path's pinned buffers)."""
        return DeviceStabilizer(stability, thorough, self.device, upload=self.up.to_device)

    def stabilize(self, stabilizer: DeviceStabilizer, original, stylized, mix: Mix,
                  grey: np.ndarray | None = None, motion: Motion | None = None):
        with self.streams.on("stabilize"), torch.inference_mode():
            return stabilizer(original, stylized, grey, motion)

    def measure(self, flicker: FlickerMeter, original, image) -> None:
        """The flicker readout of two device pictures (their greys brought down: a caller without
        a frame's own greys, such as a stand-in picture; frames go through ``download``)."""
        with torch.inference_mode():
            size = flicker_size(image.shape[1], image.shape[0])
            flicker.update_greys(*(small_grey(x, *size).cpu().numpy() for x in (original, image)))

    def download(self, frame: Frame, flicker: FlickerMeter | None = None) -> None:
        """The frame's picture to the host for its writer; the flicker readout fed on the way, from
        the source's grey made at upload and the output's, made on the host from what came down."""
        measure = flicker is not None and frame.original is not None and frame.flicker_grey is not None
        with self.streams.stage("download", frame), torch.inference_mode():
            self.down(frame)
        if measure:
            size = frame.flicker_grey.shape[::-1]
            out = luma_grey(frame.yuv, self._sink_full, 0, size) if frame.yuv is not None \
                else picture_grey(frame.image, size)
            flicker.update_greys(frame.flicker_grey, out)
