"""What keeps a live sink fed at the output rate: each stylized frame as it comes, or, after
HOLD_AFTER_S without one (the source stalled), the last picture dimmed and marked NO SIGNAL
(stream/live/no_signal.py) at ``--fps``, so players and virtual cameras never freeze. Each frame
sent is traced (``--trace``) and counted."""
from __future__ import annotations

import threading
import time

from stream.core.frame import Frame
from stream.core.pipeline import LatestSlot
from stream.styling.stats import LiveStats

from .no_signal import no_signal
from .sinks import Sink
from .trace import FrameTrace

HOLD_AFTER_S = 1.0   # no new frame for this long: the sink gets the last picture, dimmed and marked, at --fps


class SinkFeed:
    """The output thread's work (``run``): frames from ``outputs`` to ``sink`` until ``stop``."""

    def __init__(self, sink: Sink, outputs: LatestSlot, fps: float, stats: LiveStats, stop: threading.Event,
                 trace: FrameTrace | None = None):
        self.sink, self.outputs, self.fps, self.stats, self.stop, self.trace = sink, outputs, fps, stats, stop, trace

    def run(self) -> None:
        last, held = None, None
        while not self.stop.is_set():
            wait = None if last is None else (HOLD_AFTER_S if held is None else 1.0 / self.fps)
            frame = self.outputs.take(self.stop, within=wait)
            if frame is not None:
                last, held = frame, None
                self.stats.stalled = False
                self._emit(frame)
                self.stats.emitted_frame(frame.captured_at, frame.engine_ms)
            elif last is not None and not self.stop.is_set():
                held = no_signal(held or last, self.fps, first=held is None)
                self.stats.stalled = True
                self.stats.held += 1
                self._emit(held, held=True)

    def _emit(self, frame: Frame, held: bool = False) -> None:
        handed = time.monotonic()
        self.sink.write(frame)
        if self.trace:
            self.trace.emitted(frame, held=held, sink_at=handed)
