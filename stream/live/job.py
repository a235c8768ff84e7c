"""The live job: a camera or stream in, a stylized stream out, with bounded delay.

Threads joined by one-item slots (stream.core.pipeline.LatestSlot): capture -> inference (one thread
per core, a frame each, one core per frame) -> stabilization -> output, so the network works on two
frames while the stabilizer finishes the one before. When a stage is slower than the one feeding
it, the frame waiting is replaced by the newer one and counted as dropped, so delay never builds
up. Frames leave the network in order or not at all (stream/live/in_order.py), so the stabilizer and
the sink always see time moving forward. Sound passes from the capture thread straight to the
sink. The look (style, strength, keep_colors, stability) changes while running through the job's
:class:`~stream.styling.stylist.Stylist`: ``control`` in Python, or the HTTP control endpoint.
With ``paint`` (``--paint FRAME.png=PAINTED.png``) a painting's network trains beside the feed
(stream/edit/painting_trainer.py) and the look switches to it when it is ready.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from engines import open_engine
from engines.errors import OptionError
from stream.core.frame import Frame
from stream.core.notes import note
from stream.core.pipeline import LatestSlot, start_threads
from stream.edit.painted import TrainingOptions
from stream.edit.painting_trainer import LIVE_TRAINING_S, PaintingTrainer
from stream.framepath.path import device_for, open_frame_path
from stream.styling.options import StyleOptions
from stream.styling.stats import LiveStats
from stream.styling.stylist import Stylist

from .control_server import ControlServer
from .in_order import InOrder
from .sink_feed import SinkFeed
from .sinks import Sink, open_sink
from .sources import Source, open_source
from .trace import FrameTrace

JOIN_S = 2.0
REORDER_WAIT_FRAMES = 1.0  # how long a finished frame waits for an older one still in the network


@dataclass(kw_only=True)
class LiveOptions(StyleOptions, TrainingOptions):
    source: str = "testsrc"
    sink: str = "null"
    fps: float = 25.0                 # the test scene's and camera's rate; a cap for other sources
    duration: float | None = None     # seconds; None runs until stopped
    loop: bool = False
    control: str | None = None        # HOST:PORT of the HTTP control endpoint
    trace: str | None = None          # a CSV file: one line per frame sent (stream/live/trace.py)
    adapt: bool = True                # the network's size follows what the machine keeps up with (stream/styling/adapt.py)
    paint: str | None = None          # FRAME.png=PAINTED.png: follow this painting once trained

    def check(self) -> None:
        super().check()
        if not 1 <= self.fps <= 240:
            raise OptionError(f"--fps must be between 1 and 240, got {self.fps:g}")
        if self.duration is not None and self.duration <= 0:
            raise OptionError(f"--duration must be above 0 seconds, got {self.duration:g}")
        self.budget()


class LiveJob:
    """Open one with :meth:`open`; ``run`` until stopped. ``stylist``, ``source`` and ``sink`` are
    the job's parts (a test may put its own sink or engine in before ``run``)."""

    def __init__(self, opts: LiveOptions, stylist: Stylist, source: Source, sink: Sink,
                 stop: threading.Event, trace: FrameTrace | None = None):
        self.opts, self.stylist, self.source, self.sink, self.stop, self.trace = opts, stylist, source, sink, stop, trace
        self.stats, self.server = stylist.stats, None  # server: the control endpoint (ControlServer), if asked for
        self.trainer: PaintingTrainer | None = None  # --paint: the painting's network, training
        self._frames, self._stylized, self._outputs = LatestSlot(), LatestSlot(), LatestSlot()
        self._in_order = InOrder(self._stylized.put, REORDER_WAIT_FRAMES / opts.fps, stop)
        self._source_done = threading.Event()

    @classmethod
    def open(cls, opts: LiveOptions, stop: threading.Event | None = None) -> LiveJob:
        """Check the options, then open the engine and the look's network, the source (little queues
        before it is read; what does is skipped), the sink, the trace and the control endpoint, in
        that order; the first that fails is the error (one line for the user)."""
        opts.check()
        stop = stop or threading.Event()
        controls = opts.controls()
        job: LiveJob | None = None  # --paint: the feed follows the painting once trained
        trainer = PaintingTrainer(opts.paint, opts.max_side, opts.budget(LIVE_TRAINING_S),
                                  lambda style: job.stylist.follow(style)) if opts.paint else None
        # one core per frame and a frame per core (parallel_frames), as in render and serve
        engine = open_engine(opts.engine, controls.style, controls.mix, throughput=True, max_side=opts.max_side,
                             notes=note, precision=opts.precision)
        device = device_for(engine, opts.frame_path)
        source = open_source(opts.source, opts.max_side, opts.fps, opts.loop, stop, yuv=device is not None)
        sink = None
        try:
            sink = open_sink(opts.sink, opts.fps, source)
            path = open_frame_path(engine, device, source.colour, sink.yuv420_colour(), opts.max_side, light=True)
            stylist = Stylist(engine, controls, LiveStats(), style_scale=opts.style_scale, adapt=opts.adapt,
                              fps=opts.fps, path=path)
            job = cls(opts, stylist, source, sink, stop, FrameTrace(opts.trace) if opts.trace else None)
            job.trainer = trainer
            if opts.control:
                job.server = ControlServer(opts.control, job)
        except BaseException:  # what was opened is closed again (an SRT relay, a sink's child)
            _close_parts(sink, source)
            raise
        return job

    # -- control while running -------------------------------------------------------------
    def control(self, **fields) -> dict:
        """Change any of style, strength, keep_colors and stability between frames; returns the new state."""
        return self.stylist.control(**fields)

    def snapshot(self) -> dict:
        self.stats.dropped = self._dropped()
        self.stats.reconnects, self.stats.behind = self.source.reconnects, self.source.behind
        return {**self.stats.snapshot(), **self.stylist.state(), "engine": self.stylist.engine.name,
                "precision": self.stylist.precision, "frame_path": self.stylist.path.where,
                **_sink_figures(self.sink), **({"painting": self.trainer.figures()} if self.trainer else {})}

    # -- the threads: capture, inference (one per core), stabilization, output -------------
    def _capture(self) -> None:
        min_gap, last, previous = 1.0 / self.opts.fps, None, None
        try:
            for item in self.source:
                if self.stop.is_set():
                    break
                if not isinstance(item, Frame):
                    self.sink.write(item)
                    continue
                self.stylist.calibrate(frame_size(item))  # once: where run() did not know the size
                t = item.time if item.time is not None else time.monotonic()
                if last is not None and 0 <= t - last < min_gap * 0.5:  # --fps caps sources that run faster
                    continue  # (by source time: network frames arrive in bursts)
                last = t
                item.captured_at = time.monotonic()
                self.stylist.path.greys(item)  # in order: each frame knows the grey of the one before
                item.prev_grey, previous = previous, item.small_grey
                self.stats.captured += 1
                self._frames.put(item)
        finally:
            self._source_done.set()

    def _infer(self) -> None:
        """A frame onto the path, through the network, and its motion measured (here, beside the
        network, so the in-order stabilizer only blends)."""
        path, meter = self.stylist.path, self.stylist.stabilizer.meter
        while (frame := self._frames.take(self.stop)) is not None:
            self._in_order.entered(frame.captured_at)
            started = time.perf_counter()
            path.upload(frame)
            frame.image = self.stylist.stylize(frame.image)
            if frame.prev_grey is not None and frame.prev_grey.shape == frame.small_grey.shape:
                frame.motion = meter.measure(frame.prev_grey, frame.small_grey)
            frame.engine_ms = (time.perf_counter() - started) * 1000
            self._in_order.left(frame.captured_at, frame)

    def _stabilize(self) -> None:
        """In frame order, beside the network: each frame builds on the one before; then off the path
        for the sink, as it takes it, the flicker readout fed on the way."""
        while (frame := self._stylized.take(self.stop)) is not None:
            started = time.perf_counter()
            frame.image = self.stylist.stabilize(frame.original, frame.image, frame.small_grey, frame.motion)
            self.stylist.path.download(frame, self.stats.flicker)
            frame.engine_ms += (time.perf_counter() - started) * 1000
            self._outputs.put(frame)

    def _all_out(self) -> bool:
        """Every captured frame has been emitted or dropped (none is inside a stage)."""
        return self.stats.captured == self.stats.emitted + self._dropped()

    def _dropped(self) -> int:
        return self._frames.dropped + self._in_order.stale + self._stylized.dropped + self._outputs.dropped

    def run(self, status=None) -> dict:
        """Run until ``stop`` is set, ``duration`` passes or a file source ends; returns the summary.
        ``status(line)`` is called about once a second (the terminal status line)."""
        errors: list[BaseException] = []
        self.stylist.calibrate(self.source.size)  # warmed up, at a size it holds (or at the first frame)
        self.stats.started = time.monotonic()  # rates count from the first frame the job could take
        infer = [(f"infer-{i}", self._infer) for i in range(self.stylist.engine.parallel_frames)]
        feed = SinkFeed(self.sink, self._outputs, self.opts.fps, self.stats, self.stop, self.trace)
        threads = start_threads([("capture", self._capture), *infer, ("stabilize", self._stabilize),
                                 ("output", feed.run)], errors, self.stop)
        deadline = time.monotonic() + self.opts.duration if self.opts.duration else None
        if self.trainer:
            self.trainer.start()
        try:
            while not self.stop.wait(0.25):
                if deadline and time.monotonic() >= deadline:
                    break
                if self._source_done.is_set() and self._all_out():
                    break
                self.stylist.adapt()
                if isinstance(getattr(self.sink, "status", None), dict):  # a monitor's status corner
                    self.sink.status = {"dropped": self._dropped(), "flicker": self.stats.flicker.readout()["flicker"]}
                if status:
                    training = self.trainer and self.trainer.state == "training"
                    status(self.stats.line() + (f"  {self.trainer.line()}" if training else ""))
        finally:
            self._close(threads)
        if errors:
            raise errors[0]
        return self.snapshot()

    def _close(self, threads: list[threading.Thread]) -> None:
        self.stop.set()
        self.stats.finish()
        if self.trainer:
            self.trainer.close()
        for t in threads:
            t.join(JOIN_S)
        stuck = [t.name for t in threads if t.is_alive()]
        if self.server:
            self.server.close()
        _close_parts(self.sink, self.source)
        if self.trace:
            self.trace.close()
        if stuck:
            note(f"thread(s) {', '.join(stuck)} did not stop within {JOIN_S:g} s")


def frame_size(frame: Frame) -> tuple[int, int]:
    """(width, height) of a frame's picture, as it came (RGB, or 4:2:0 for the device path)."""
    return (frame.yuv.width, frame.yuv.height) if frame.yuv is not None else frame.image.shape[1::-1]


def _sink_figures(sink: Sink) -> dict:
    """``sink_dropped``: frames a camera's client or a screen could not keep up with, for a sink
    that counts them; ``window``: what a monitor window showed (stream/links/window_sink.py)."""
    dropped, shown = getattr(sink, "dropped", None), getattr(sink, "figures", None)
    return {**({} if dropped is None else {"sink_dropped": dropped}), **({"window": shown} if shown else {})}


def _close_parts(*parts) -> None:
    """Close, in order, each part that has a ``close`` (a sink; a source with a relay child, srt://)."""
    for part in parts:
        close = getattr(part, "close", None)
        if close is not None:
            close()

