"""The live job: a camera or stream in, a stylized stream out, with bounded delay.

Threads joined by one-item slots (stream.pipeline.LatestSlot): capture -> inference (one thread
per core, a frame each, one core per frame) -> stabilization -> output, so the network works on two
frames while the stabilizer finishes the one before. When a stage is slower than the one feeding
it, the frame waiting is replaced by the newer one and counted as dropped, so delay never builds
up. A frame that finishes before an older one waits for it (up to a frame interval); one that
finishes after a newer one was passed on is stale and dropped too, so the stabilizer and the sink
always see time moving forward. Sound passes from the capture
thread straight to the sink. Style, strength and stability can change while running (``control``,
the Python API and the HTTP control endpoint).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from engines import DEFAULT_STYLE, Look, open_engine, resolve
from engines.errors import OptionError

from .frame import Frame
from .notes import note
from .no_signal import no_signal
from .pipeline import LatestSlot
from .sinks import open_sink
from .sources import open_source
from .stabilize import DEFAULT_STABILITY, Stabilizer
from .stats import LiveStats
from .trace import FrameTrace

JOIN_S = 2.0
DEGRADED_AFTER = 10  # failed frames in a row before the pipeline reports itself degraded
REORDER_WAIT_FRAMES = 1.0  # how long a finished frame waits for an older one still in the network
HOLD_AFTER_S = 1.0   # no new frame for this long: the sink gets the last picture, dimmed and marked, at --fps


@dataclass
class LiveOptions:
    source: str = "testsrc"
    sink: str = "null"
    style: str = DEFAULT_STYLE
    strength: float = 1.0
    keep_colors: bool = False
    max_side: int | None = None
    fps: float = 25.0                 # the test scene's and camera's rate; a cap for other sources
    duration: float | None = None     # seconds; None runs until stopped
    stability: float = DEFAULT_STABILITY
    engine: str = "auto"
    precision: str = "auto"  # the CPU engine's: bf16 where the CPU has it, else fp32
    loop: bool = False
    control: str | None = None        # HOST:PORT of the HTTP control endpoint
    trace: str | None = None          # a CSV file: one line per frame sent (stream/trace.py)

    def check(self) -> None:
        if not 1 <= self.fps <= 240:
            raise OptionError(f"--fps must be between 1 and 240, got {self.fps:g}")
        if self.duration is not None and self.duration <= 0:
            raise OptionError(f"--duration must be above 0 seconds, got {self.duration:g}")
        if self.max_side is not None and not 32 <= self.max_side <= 8192:
            raise OptionError(f"--max-side must be between 32 and 8192 pixels, got {self.max_side}")
        Look(self.strength, self.keep_colors)
        Stabilizer(self.stability)


class LiveJob:
    def __init__(self, opts: LiveOptions, stop: threading.Event | None = None):
        opts.check()
        self.opts, self.stop = opts, stop or threading.Event()
        # one core per frame and a frame per core (parallel_frames), as in render and serve
        self.engine = open_engine(opts.engine, resolve(opts.style), Look(opts.strength, opts.keep_colors),
                                  throughput=True, max_side=opts.max_side, notes=note, precision=opts.precision)
        self.stabilizer = Stabilizer(opts.stability)
        self.source = open_source(opts.source, opts.max_side, opts.fps, opts.loop, self.stop)
        self.sink = open_sink(opts.sink, opts.fps, getattr(self.source, "container", None),
                              getattr(self.source, "copy_streams", ()))
        self.stats = LiveStats()
        self.trace = FrameTrace(opts.trace) if opts.trace else None
        self._frames, self._stylized, self._outputs = LatestSlot(), LatestSlot(), LatestSlot()
        # workers finish out of order: capture times of the frames inside the network, the newest passed on
        self._order, self._in_network = threading.Condition(), set()
        self._newest_stylized, self._stale = float("-inf"), 0
        self._errors: list[BaseException] = []
        self._source_done = threading.Event()
        from .control import ControlServer

        self.server = ControlServer(opts.control, self) if opts.control else None

    # -- control while running -------------------------------------------------------------
    def control(self, style: str | None = None, strength: float | None = None, keep_colors: bool | None = None,
                stability: float | None = None) -> dict:
        """Change the style, the look or the stability between frames; returns the new state."""
        look = Look(self.engine.look.strength if strength is None else float(strength),
                    self.engine.look.keep_colors if keep_colors is None else bool(keep_colors))
        if stability is not None:
            Stabilizer(float(stability))  # validate before changing anything
        if style is not None:
            self.engine.set_style(style)
        self.engine.set_look(look)
        if stability is not None:
            self.stabilizer.set_stability(float(stability))
        return self.state()

    def state(self) -> dict:
        return {"style": self.engine.style.name, "strength": self.engine.look.strength,
                "keep_colors": self.engine.look.keep_colors, "stability": self.stabilizer.stability}

    def snapshot(self) -> dict:
        self.stats.dropped = self._dropped()
        self.stats.reconnects = getattr(self.source, "reconnects", 0)
        return {**self.stats.snapshot(), **self.state(), "engine": self.engine.name, "precision": self.engine.precision}

    # -- the threads: capture, inference (one per core), stabilization, output -------------
    def _guard(self, body):
        def run():
            try:
                body()
            except BaseException as exc:  # carried to run() and raised there
                self._errors.append(exc)
                self.stop.set()
        return run

    def _capture(self) -> None:
        min_gap, last = 1.0 / self.opts.fps, None
        try:
            for item in self.source:
                if self.stop.is_set():
                    break
                if not isinstance(item, Frame):
                    self.sink.write(item)
                    continue
                t = item.time if item.time is not None else time.monotonic()
                if last is not None and 0 <= t - last < min_gap * 0.5:  # --fps caps sources that run faster
                    continue  # (by source time: network frames arrive in bursts)
                last = t
                item.captured_at = time.monotonic()
                self.stats.captured += 1
                self._frames.put(item)
        finally:
            self._source_done.set()

    def _infer(self) -> None:
        while (frame := self._frames.take(self.stop)) is not None:
            with self._order:
                self._in_network.add(frame.captured_at)
            started = time.perf_counter()
            try:
                stylized = self.engine.stylize_one(frame.image)
                self.stats.frame_ok()
            except Exception as exc:  # counted and reported; the picture passes through, never a freeze
                self.stats.frame_failed(exc, DEGRADED_AFTER)
                stylized = frame.image
            frame.original, frame.image = frame.image, stylized
            frame.engine_ms = (time.perf_counter() - started) * 1000
            self._pass_on_in_order(frame)

    def _pass_on_in_order(self, frame: Frame) -> None:
        """Pass a stylized frame on after any older one still in the network, waiting for it up to
        one frame interval; a frame that finishes after a newer one was passed on is stale (dropped)."""
        with self._order:
            give_up = time.monotonic() + REORDER_WAIT_FRAMES / self.opts.fps
            while min(self._in_network) < frame.captured_at and not self.stop.is_set():
                if (left := give_up - time.monotonic()) <= 0 or not self._order.wait(left):
                    break
            self._in_network.discard(frame.captured_at)
            self._order.notify_all()
            if frame.captured_at <= self._newest_stylized:
                self._stale += 1
                return
            self._newest_stylized = frame.captured_at
            self._stylized.put(frame)

    def _stabilize(self) -> None:
        """In frame order, beside the network: each frame builds on the one before."""
        while (frame := self._stylized.take(self.stop)) is not None:
            started = time.perf_counter()
            frame.image = self.stabilizer(frame.original, frame.image)
            frame.engine_ms += (time.perf_counter() - started) * 1000
            self._outputs.put(frame)

    def _output(self) -> None:
        """Emit each stylized frame; while the source is stalled, keep the sink fed with a held
        "no signal" picture at the output rate, so players and virtual cameras never freeze."""
        last, held = None, None
        while not self.stop.is_set():
            wait = None if last is None else (HOLD_AFTER_S if held is None else 1.0 / self.opts.fps)
            frame = self._outputs.take(self.stop, within=wait)
            if frame is not None:
                last, held = frame, None
                self.stats.stalled = False
                self.sink.write(frame)
                self.stats.emitted_frame(frame.captured_at, frame.engine_ms)
                if self.trace:
                    self.trace.emitted(frame)
            elif last is not None and not self.stop.is_set():
                held = no_signal(held or last, self.opts.fps, first=held is None)
                self.stats.stalled = True
                self.stats.held += 1
                self.sink.write(held)
                if self.trace:
                    self.trace.emitted(held, held=True)

    def _all_out(self) -> bool:
        """Every captured frame has been emitted or dropped (none is inside a stage)."""
        return self.stats.captured == self.stats.emitted + self._dropped()

    def _dropped(self) -> int:
        return self._frames.dropped + self._stale + self._stylized.dropped + self._outputs.dropped

    def run(self, status=None) -> dict:
        """Run until ``stop`` is set, ``duration`` passes or a file source ends; returns the summary.
        ``status(line)`` is called about once a second (the terminal status line)."""
        infer = [(f"infer-{i}", self._infer) for i in range(self.engine.parallel_frames)]
        threads = [threading.Thread(target=self._guard(fn), name=name, daemon=True)
                   for name, fn in (("capture", self._capture), *infer, ("stabilize", self._stabilize),
                                    ("output", self._output))]
        for t in threads:
            t.start()
        deadline = time.monotonic() + self.opts.duration if self.opts.duration else None
        try:
            while not self.stop.wait(0.25):
                if deadline and time.monotonic() >= deadline:
                    break
                if self._source_done.is_set() and self._all_out():
                    break
                if status:
                    status(self.stats.line())
        finally:
            self.stop.set()
            self.stats.finish()
            for t in threads:
                t.join(JOIN_S)
            stuck = [t.name for t in threads if t.is_alive()]
            if self.server:
                self.server.close()
            self.sink.close()
            if self.trace:
                self.trace.close()
            if stuck:
                note(f"thread(s) {', '.join(stuck)} did not stop within {JOIN_S:g} s")
        if self._errors:
            raise self._errors[0]
        return self.snapshot()
