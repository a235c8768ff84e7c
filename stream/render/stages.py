"""A render's per-frame work, as stages of stream/core/pipeline.py: each frame stylized in its look
(stream/edit/looks.py), stabilized in frame order, then written, and the flicker readout fed.

On the host: numpy and OpenCV, the engine's own frame calls, one frame per core. On a device
(``path``, stream/device/path.py): uploaded as 4:2:0 and converted there, stylized,
stabilized by the DeviceStabilizer, its greys measured for the flicker readout and brought down as
4:2:0 for the encoder, each in a thread of its own so the CPU's decode and encode overlap the GPU.
At strength 0 the picture is the source's and neither the network nor the stabilizer runs. A new
look that is not a crossfade (a cut, an entry of its own) starts the stabilizer afresh. A painted
shot's frames come ready from ``carried`` (the painting carried along the motion,
stream/edit/carry.py, steady already): only the look's strength and keep-colours apply to them.
"""
from __future__ import annotations

from engines import Engine
from engines.network_cache import NetworkCache
from engines.style_scale import stylize_scaled
from stream.core.frame import Frame
from stream.core.pipeline import Stage
from stream.core.progress import Advance
from stream.edit.looks import FrameLook, LookTimeline
from stream.media.decoder import Decoder
from stream.media.writer import Writer
from stream.temporal.flicker import FlickerMeter
from stream.temporal.stabilize import Stabilizer


class FrameStages:
    def __init__(self, decoder: Decoder, engine: Engine, timeline: LookTimeline, stabilizer: Stabilizer,
                 writer: Writer, flicker: FlickerMeter, advance: Advance, style_scale: float = 1.0, path=None):
        self.decoder, self.engine, self.timeline, self.stabilizer = decoder, engine, timeline, stabilizer
        self.writer, self.flicker, self.advance, self.style_scale, self.path = writer, flicker, advance, style_scale, path
        self.networks = NetworkCache(engine)
        self.carried: dict = {}  # source frame index -> a painted shot's frame (stream/edit/carry.py)
        self._before: tuple = (None, None)  # the entry and style of the frame before

    def stages(self) -> list[Stage]:
        base = self.timeline.base
        steady = (base.stability > 0 and base.strength > 0) or bool(self.timeline.entries)
        stabilize = [self.stabilize] if steady else []
        if self.path is None:
            return [(self.stylize, self.engine.parallel_frames), *stabilize]
        # a frame at a time through the network: each stage in its own thread keeps several frames in
        # flight on the GPU; a batch of another size would be a compile and a CUDA graph of its own,
        # and x264, not the network, sets a render's pace (docs/benchmarks.md)
        return [self.upload, self.stylize_on_device, *stabilize, self.download]

    def where(self) -> str:
        """Where the frames were: "host", or the device's name ("cuda:0", "cpu" for the torch path there)."""
        return "host" if self.path is None else str(self.path.device)

    def _look(self, item: Frame) -> FrameLook:
        item.look = self.timeline.at(self.decoder.source_index(item))
        return item.look

    # -- on the host ----------------------------------------------------------------------------
    def stylize(self, item):
        if isinstance(item, Frame):
            item.original = item.image
            look = self._look(item)
            painted = self.carried.get(self.decoder.source_index(item))
            if painted is not None and painted.shape == item.image.shape:
                item.carried = True
                item.image = painted if look.controls.mix.is_plain else look.controls.mix.apply(painted, item.original)
            elif look.controls.strength > 0:
                item.image = stylize_scaled(self.engine, item.image, self.networks.get(look.style), look.controls.mix,
                                            self.style_scale)
        return item

    # -- on a device ----------------------------------------------------------------------------
    def upload(self, item):
        if isinstance(item, Frame):
            self.path.upload(item)
        return item

    def stylize_on_device(self, item):
        if isinstance(item, Frame) and (look := self._look(item)).controls.strength > 0:
            item.image = self.path.stylize([item.image], self.networks.get(look.style), look.controls.mix,
                                           self.style_scale)[0]
        return item

    def download(self, item):
        if isinstance(item, Frame) and not item.warmup:
            self.path.download(item, self.flicker)
        return item

    # -- both -------------------------------------------------------------------------------------
    def stabilize(self, item):  # in frame order: each frame builds on the one before
        if isinstance(item, Frame):
            look = item.look
            if look.entry != self._before[0] and look.style != self._before[1]:
                self.stabilizer.reset()
            self._before = (look.entry, look.style)
            steady = look.controls.strength > 0 and not item.carried  # carried: steady already
            self.stabilizer.set_stability(look.controls.stability if steady else 0.0)
            item.image = self.stabilizer(item.original, item.image, item.small_grey)
        return item

    def write(self, item) -> None:
        if isinstance(item, Frame) and item.warmup:
            return  # it only warmed the stabilizer up
        self.writer.write(item)
        if isinstance(item, Frame):
            if self.path is None:
                self.flicker.update(item.original, item.image)
            self.advance(1)
