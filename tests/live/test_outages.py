"""Live sources that stall (issue #8): a UDP publisher that goes away and comes back, and an HTTP
server that keeps its connection open and sends nothing. The sink must keep running (held "no
signal" frames), the stall must be noticed within the read timeout + 1 s, and output must resume
within 2 s of the source's return. ``STYLECAST_OUTAGE_S`` sets how long the UDP publisher is gone
(4 s by default; ``python -m tools.reliability outage --seconds 30`` and ``300`` for the long runs)."""
from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from conftest import free_port, live, stop_live, udp_bound, wait_for
from support.loopback import Receiver, publish

from stream.live.sources import READ_TIMEOUT_S
from stream.media.testsrc import write_test_clip

pytestmark = pytest.mark.alone  # it measures time: the held pictures' rate and the time to resume

OUTAGE_S = float(os.environ.get("STYLECAST_OUTAGE_S", "4"))
NOTICE_S = READ_TIMEOUT_S + 1.0  # the bound for noticing a stall
RESUME_S = 2.0                   # ... and for output to resume once the source is back
STALL_S = 4.0                    # how long the HTTP server stays silent: past the notice, with held frames to count


def timeline(receiver: Receiver, lost_at: float, back_at: float) -> dict:
    """When the sink first showed the stall, and when stylized source frames came again. Held
    frames are the last picture dimmed: they are told apart from real ones by brightness."""
    frames = receiver.settle()
    normal = np.mean([np.mean(img) for _, img, t in frames if t < lost_at][-10:])
    held = [t for _, img, t in frames if t > lost_at and np.mean(img) < 0.75 * normal]
    real_after = [t for _, img, t in frames if t > back_at and np.mean(img) >= 0.75 * normal]
    pts = [p for p, _, _ in frames]
    steps = np.diff(pts)
    for i in np.flatnonzero(steps <= 0)[:3]:  # where time failed to move forward, if anywhere
        print(f"\npts not forward at frame {i}: {pts[max(0, i - 3):i + 4]} arriving "
              f"{[round(t - lost_at, 2) for _, _, t in frames[max(0, i - 3):i + 4]]} s after the loss")
    return {"first_held_s": held[0] - lost_at if held else None,
            "held_during": sum(1 for t in held if t < back_at),
            "resumed_s": real_after[0] - back_at if real_after else None,
            "frames_after": len(real_after),
            "pts_forward": pts == sorted(pts) and len(set(pts)) == len(pts)}


def _real_frames_after(receiver: Receiver, back_at: float, normal: float) -> int:
    return sum(1 for _, img, t in list(receiver.frames) if t > back_at and np.mean(img) >= 0.75 * normal)


def _brightness(receiver: Receiver) -> float:
    """The mean level of the last real frames (the ones before a stall is noticed)."""
    wait_for(lambda: len(receiver.frames) >= 10, 10, "the first frames through")
    return float(np.mean([np.mean(img) for _, img, _ in list(receiver.frames)[-10:]]))


def test_udp_source_gone_and_back():
    src, dst = free_port(), free_port()
    receiver = Receiver(dst, read_timeout=10)  # held frames flow through the outage: no long gap
    receiver.start()
    proc = live("--source", f"udp://127.0.0.1:{src}", "--sink", f"udp://127.0.0.1:{dst}",
                "--duration", "60", "--json", "--max-side", "192")
    wait_for(lambda: udp_bound(src), 30, "stylecast listening on the source port")  # a slow start on a busy machine
    publish(src, 1.5)
    normal = _brightness(receiver)
    lost_at = time.monotonic()
    time.sleep(OUTAGE_S)
    back_at = time.monotonic()
    publish(src, 2.5)  # a restarted publisher: its clock starts again from zero
    wait_for(lambda: _real_frames_after(receiver, back_at, normal) >= 40, 10, "40 frames after the return")
    out, err = stop_live(proc)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    seen = timeline(receiver, lost_at, back_at)
    print(f"\nUDP outage {OUTAGE_S:g} s: {seen}, reconnects {summary['reconnects']}")
    assert summary["reconnects"] >= 1
    assert seen["first_held_s"] is not None and seen["first_held_s"] < NOTICE_S
    # the sink kept running through the outage, at the output rate (25 fps: at least half of it)
    assert seen["held_during"] >= 0.5 * 25 * (OUTAGE_S - NOTICE_S) and summary["held_frames"] >= seen["held_during"]
    assert seen["resumed_s"] is not None and seen["resumed_s"] < RESUME_S
    assert seen["frames_after"] >= 40
    assert seen["pts_forward"]  # time never went backwards, though the publisher's clock restarted


class StallingServer(ThreadingHTTPServer):
    """Serves an MPEG-TS clip over HTTP at its real rate, then, while ``stalled`` is set, keeps the
    connection open and sends nothing; connections made during the stall are accepted and get
    nothing at all (not even headers) until it ends."""

    daemon_threads = True

    def __init__(self, clip: Path, seconds: float):
        self.clip, self.seconds = clip.read_bytes(), seconds
        self.stalled, self.done = threading.Event(), threading.Event()
        super().__init__(("127.0.0.1", 0), _StallingHandler)


class _StallingHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server: StallingServer = self.server
        while server.stalled.is_set() and not server.done.is_set():
            time.sleep(0.05)  # connected, silent
        if server.done.is_set():
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp2t")
        self.end_headers()
        data, chunk = server.clip, 188 * 20
        started = time.monotonic()
        try:
            for offset in range(0, len(data), chunk):
                due = started + server.seconds * offset / len(data)
                time.sleep(max(0.0, due - time.monotonic()))
                self.wfile.write(data[offset:offset + chunk])
                self.wfile.flush()
            server.stalled.set()  # the clip is out: hold the connection open, send nothing
            while server.stalled.is_set() and not server.done.is_set():
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass  # stylecast gave up on this connection and called again


def test_http_source_that_connects_but_sends_nothing(tmp_path):
    clip = tmp_path / "clip.ts"
    write_test_clip(clip, seconds=2.0, width=192, height=112, fmt="mpegts")
    server = StallingServer(clip, 2.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dst = free_port()
    receiver = Receiver(dst, read_timeout=12)
    receiver.start()
    proc = live("--source", f"http://127.0.0.1:{server.server_address[1]}/live.ts", "--sink",
                f"udp://127.0.0.1:{dst}", "--duration", "60", "--json")
    try:
        while not server.stalled.is_set():
            time.sleep(0.02)
        normal = _brightness(receiver)
        lost_at = time.monotonic()
        time.sleep(STALL_S)  # connections open, nothing sent
        back_at = time.monotonic()
        server.stalled.clear()  # the next call is served again
        wait_for(lambda: _real_frames_after(receiver, back_at, normal) >= 20, 15, "20 frames after the stall")
        out, err = stop_live(proc)
    finally:
        server.done.set()
        server.shutdown()
    assert proc.returncode == 0, err
    summary = json.loads(out)
    seen = timeline(receiver, lost_at, back_at)
    print(f"\nHTTP stall {STALL_S:g} s: {seen}, reconnects {summary['reconnects']}")
    assert summary["reconnects"] >= 2  # the silent connection was dropped, and so were the silent calls after it
    assert seen["first_held_s"] is not None and seen["first_held_s"] < NOTICE_S
    assert seen["held_during"] >= 0.5 * 25 * (STALL_S - NOTICE_S)
    assert seen["resumed_s"] is not None and seen["resumed_s"] < RESUME_S
    assert seen["frames_after"] >= 20 and seen["pts_forward"]


def test_a_retimed_frame_never_repeats_the_last_tick():
    """A restart offset can put a frame a fraction of a tick after the last one. It must still get
    the next tick: the MPEG-TS muxer refuses a repeated timestamp (EINVAL), which ended a CI run.
    The last time used to be kept as a float, which can round below its own exact tick."""
    from fractions import Fraction

    import numpy as np

    from stream.core.frame import Frame
    from stream.links.retimer import Retimer

    tb = Fraction(1, 90000)
    ticks = [p for p in range(10**8, 10**8 + 200) if float(p * tb) < p * tb][:20]  # floats that round down
    assert ticks
    for p in ticks:
        retimer = Retimer()
        first = retimer.frame_pts(Frame(np.zeros((2, 2, 3), np.uint8), p, tb, 0), 25)
        retimer.offset_s = float(tb) * 0.3  # as if a sound packet had moved the offset by a hair
        second = retimer.frame_pts(Frame(np.zeros((2, 2, 3), np.uint8), p, tb, 1), 25)
        assert second > first == p
