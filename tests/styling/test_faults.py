"""Runtime faults: an engine that fails on some frames never freezes the stream; failures are
counted, the picture passes through, and many in a row are reported as a degraded state."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from stream.live.job import LiveJob, LiveOptions

pytestmark = pytest.mark.alone  # it measures time: the output keeps flowing: no gap over 1 s


class Flaky:
    """Wraps a real engine; fails on the frames ``plan(n)`` says (n counts calls from 0)."""

    def __init__(self, engine, plan):
        self.engine, self.plan, self.calls = engine, plan, 0
        self.failed_pictures: list[np.ndarray] = []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def stylize_one(self, frame, *args):
        n, self.calls = self.calls, self.calls + 1
        if self.plan(n):
            self.failed_pictures.append(frame)
            raise RuntimeError(f"injected failure on call {n}")
        return self.engine.stylize_one(frame, *args)


class Sink:
    """Keeps what the live job emits (a real sink's interface: write, close)."""

    def __init__(self):
        self.frames = []

    def write(self, item):
        if hasattr(item, "image"):
            self.frames.append((time.monotonic(), item.image, item.original))

    def close(self):
        pass


def run_job(plan, seconds: float, watch=None):
    job = LiveJob.open(LiveOptions(source="testsrc", sink="null", max_side=160, fps=25, duration=seconds, stability=0))
    job.stylist.engine = job.stylist.path.engine = Flaky(job.stylist.engine, plan)  # the frame path calls it
    job.sink = Sink()
    seen = []
    if watch:
        def poll():
            while not job.stop.is_set():
                seen.append(job.snapshot())
                time.sleep(0.1)
        threading.Thread(target=poll, daemon=True).start()
    summary = job.run()
    return job, summary, seen


def test_one_failure_in_a_hundred_passes_the_picture_through():
    job, summary, _ = run_job(lambda n: n % 100 == 50, 6.0)
    frames = job.sink.frames
    assert summary["failed"] >= 1 and summary["failed"] == len(job.stylist.engine.failed_pictures)
    assert not summary["degraded"]
    passed_through = [img for _, img, orig in frames if np.array_equal(img, orig)]
    assert len(passed_through) == summary["failed"]      # each failed frame went out unstylized
    assert len(frames) - len(passed_through) >= 50        # the rest stylized


def test_fifty_failures_in_a_row_degrade_then_recover_and_never_freeze():
    job, summary, seen = run_job(lambda n: 20 <= n < 70, 8.0, watch=True)
    assert summary["failed"] == 50
    assert any(s["degraded"] for s in seen) and not summary["degraded"]  # reported, then recovered
    assert "injected failure" in next(s["last_error"] for s in seen if s["degraded"])
    times = [t for t, _, _ in job.sink.frames]
    assert max(np.diff(times)) < 1.0  # the output kept flowing through the failures
    assert summary["frames_out"] > 70
