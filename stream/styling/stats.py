"""Live statistics: frames in and out, drops, latency from capture to emit, engine time, flicker."""
from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from stream.temporal.flicker import FlickerMeter


class LiveStats:
    """Counters and recent samples (the last 1,000), safe to read from another thread."""

    def __init__(self):
        self.started = time.monotonic()
        self.ended: float | None = None  # set when the job stops: rates cover the run, not the shutdown
        self.captured = 0
        self.emitted = 0
        self.dropped = 0
        self.failed = 0               # frames the engine failed on (passed through unstylized)
        self.failed_in_a_row = 0
        self.degraded = False         # many failures in a row: the output is the unstylized picture
        self.last_error = ""
        self.reconnects = 0
        self.behind = 0               # frames a network source skipped, read from behind the live edge
        self.held = 0                 # "no signal" frames sent while the source was stalled
        self.stalled = False
        self.flicker = FlickerMeter()  # fed by the stylist with each output frame (stream/temporal/flicker.py)
        self._latency_ms: deque = deque(maxlen=1000)
        self._engine_ms: deque = deque(maxlen=1000)
        self._lock = threading.Lock()

    def frame_ok(self) -> None:
        self.failed_in_a_row = 0
        self.degraded = False

    def frame_failed(self, exc: BaseException, degraded_after: int) -> None:
        self.failed += 1
        self.failed_in_a_row += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:200]
        self.degraded = self.failed_in_a_row >= degraded_after

    def emitted_frame(self, captured_at: float, engine_ms: float) -> None:
        with self._lock:
            self.emitted += 1
            self._latency_ms.append((time.monotonic() - captured_at) * 1000)
            self._engine_ms.append(engine_ms)

    def finish(self) -> None:
        """The job has stopped taking frames: later snapshots rate over the time it ran."""
        self.ended = self.ended or time.monotonic()

    def snapshot(self) -> dict:
        with self._lock:
            seconds = max(1e-9, (self.ended or time.monotonic()) - self.started)
            latency = np.array(self._latency_ms) if self._latency_ms else np.zeros(1)
            engine = np.array(self._engine_ms) if self._engine_ms else np.zeros(1)
            return {"seconds": round(seconds, 2), "frames_in": self.captured, "frames_out": self.emitted,
                    "fps_in": round(self.captured / seconds, 2), "fps_out": round(self.emitted / seconds, 2),
                    "dropped": self.dropped, "failed": self.failed, "degraded": self.degraded,
                    "last_error": self.last_error, "reconnects": self.reconnects, "behind": self.behind,
                    "stalled": self.stalled, "held_frames": self.held,
                    "latency_p50_ms": round(float(np.percentile(latency, 50)), 1),
                    "latency_p95_ms": round(float(np.percentile(latency, 95)), 1),
                    "engine_ms": round(float(np.median(engine)), 1), **self.flicker.readout()}

    def line(self) -> str:
        s = self.snapshot()
        state = f"DEGRADED ({s['last_error']})  " if s["degraded"] else ""
        state = "NO SIGNAL  " + state if s["stalled"] else state
        flicker = "" if s["flicker"] is None else f"  flicker {s['flicker']:.1f} (source {s['source_flicker']:.1f})"
        return (f"{state}in {s['fps_in']:5.1f} fps  out {s['fps_out']:5.1f} fps  dropped {s['dropped']}  "
                f"latency p50 {s['latency_p50_ms']:.0f} ms p95 {s['latency_p95_ms']:.0f} ms  engine {s['engine_ms']:.0f} ms"
                + flicker)
