"""A render's per-frame work, as stages of stream/core/pipeline.py, on the render's frame path
(stream/framepath/: the host, or a device): each frame put on the path (with the small grey its
motion is measured on, in frame order), its motion measured ahead in a parallel stage (the flow
needs only the source's greys), stylized in its look (stream/edit/looks.py), stabilized in frame
order (only the blend is left there), taken off the path for the writer with the flicker readout
fed, then written. On a device each stage is a thread of its own with a CUDA stream of its own, so
the CPU's decode, motion and encode overlap the GPU.

At strength 0 the picture is the source's and neither the network nor the stabilizer runs. A new
look that is not a crossfade (a cut, an entry of its own) starts the stabilizer afresh. A painted
shot's frames come ready from ``carried`` (the painting carried along the motion,
stream/edit/carry.py, steady already): only the look's strength and keep-colours apply to them.
"""
from __future__ import annotations

from engines import Engine
from engines.network_cache import NetworkCache
from stream.core.frame import Frame
from stream.core.pipeline import Stage
from stream.core.progress import Advance
from stream.edit.looks import FrameLook, LookTimeline
from stream.framepath.path import FramePath
from stream.media.decoder import Decoder
from stream.media.writer import Writer
from stream.temporal.flicker import FlickerMeter
from stream.temporal.stabilize import Stabilizer

MOTION_THREADS = 2  # frames whose motion is measured at once, ahead of the stabilizer


class FrameStages:
    def __init__(self, decoder: Decoder, engine: Engine, path: FramePath, timeline: LookTimeline,
                 writer: Writer, flicker: FlickerMeter, advance: Advance, style_scale: float = 1.0):
        self.decoder, self.path, self.timeline = decoder, path, timeline
        self.stabilizer: Stabilizer = path.stabilizer(timeline.base.stability)
        self.writer, self.flicker, self.advance, self.style_scale = writer, flicker, advance, style_scale
        self.networks = NetworkCache(engine)
        self.carried: dict = {}  # source frame index -> a painted shot's frame (stream/edit/carry.py)
        self._before: tuple = (None, None)  # the entry and style of the frame before
        self._last_grey = None

    def stages(self) -> list[Stage]:
        base = self.timeline.base
        steady = (base.stability > 0 and base.strength > 0) or bool(self.timeline.entries)
        stabilize = [(self.measure, MOTION_THREADS), self.stabilize] if steady else []
        return [self.upload, *stabilize[:1], (self.stylize, self.path.parallel_frames), *stabilize[1:], self.download]

    def where(self) -> str:
        """Where the frames were: "host", or the device's name ("cuda:0", "cpu" for the torch path there)."""
        return self.path.where

    def _look(self, item: Frame) -> FrameLook:
        item.look = self.timeline.at(self.decoder.source_index(item))
        return item.look

    def upload(self, item):  # in frame order: each frame knows the grey of the one before
        if isinstance(item, Frame):
            self.path.greys(item)
            item.prev_grey, self._last_grey = self._last_grey, item.small_grey
            self.path.upload(item)
        return item

    def measure(self, item):  # in parallel, ahead of the stabilizer: the motion from the frame before
        if isinstance(item, Frame) and item.prev_grey is not None and item.prev_grey.shape == item.small_grey.shape:
            item.motion = self.stabilizer.meter.measure(item.prev_grey, item.small_grey)
        return item

    def stylize(self, item):
        if isinstance(item, Frame):
            look = self._look(item)
            painted = self.carried.get(self.decoder.source_index(item))
            if painted is not None and painted.shape[:2] == item.original.shape[:2]:
                item.carried = True
                item.image = self.path.mix(look.controls.mix, self.path.picture(painted), item.original)
            elif look.controls.strength > 0:
                item.image = self.path.stylize([item.image], self.networks.get(look.style), look.controls.mix,
                                               self.style_scale)[0]
        return item

    def stabilize(self, item):  # in frame order: each frame builds on the one before
        if isinstance(item, Frame):
            look = item.look
            if look.entry != self._before[0] and look.style != self._before[1]:
                self.stabilizer.reset()
            self._before = (look.entry, look.style)
            steady = look.controls.strength > 0 and not item.carried  # carried: steady already
            self.stabilizer.set_stability(look.controls.stability if steady else 0.0)
            item.image = self.path.stabilize(self.stabilizer, item.original, item.image, look.controls.mix,
                                             item.small_grey, item.motion)
        return item

    def download(self, item):
        if isinstance(item, Frame) and not item.warmup:
            self.path.download(item, self.flicker)
        return item

    def write(self, item) -> None:
        if isinstance(item, Frame) and item.warmup:
            return  # it only warmed the stabilizer up
        self.writer.write(item)
        if isinstance(item, Frame):
            self.advance(1)
