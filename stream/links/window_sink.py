"""``--sink window`` (a window, sized to the picture) or ``window:N`` (full screen on display N):
the stylized feed on a screen, for a director's monitor on the DIT cart.

The window is a process of its own (stream/links/monitor_window.py, SDL through pygame-ce), fed
frames over a pipe as the PipeWire camera is (stream/links/pipewire_camera.py): a crash or a stuck
screen there cannot take the job down, and the job's sink call never waits for the screen (a
one-frame slot and a writer thread: a slow screen costs dropped frames, counted, never delay).
Each frame goes with the source's picture, for the monitor's before/after wipe, and the job's
figures, for its status corner. Chosen over GStreamer's ``glimagesink``/``ximagesink`` fed the same
way: a ``gst-launch-1.0`` child cannot read keys, which the monitor's wipe and overlays need, and
pygame-ce's wheel brings SDL with it where GStreamer's X sinks are a system package
(docs/benchmarks/live.md, "The monitor window").

No screen (no DISPLAY), no such display, or no pygame-ce: one line at the start (exit 2). Closing
the window ends the job's sink: the job stops with one line saying so.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from engines.errors import OutputError
from stream.core.frame import Frame
from stream.core.pipeline import LatestSlot

WM_CLASS = "stylecast-monitor"  # the window's X class, for window managers' rules (and xdotool)
_STOP_S = 3.0
READY_S = 20.0


def window_display(spec: str) -> int | None:
    """``window`` -> None (a window); ``window:N`` -> N (full screen on display N)."""
    if spec == "window":
        return None
    rest = spec.split(":", 1)[1]
    if not rest.isdigit():
        raise OutputError(f"a window sink is window, or window:N for full screen on display N (0 the first), got {spec!r}")
    return int(rest)


class WindowSink:
    def __init__(self, spec: str, fps: float):
        display = window_display(spec)
        self.fps, self.frames = fps, 0
        self.status: dict = {}  # the job's figures for the status corner (LiveJob sets them each second)
        self.figures: dict = {}  # the window's own, once closed: frames shown, their rate, the delay
        args = [sys.executable, "-m", "stream.links.monitor_window"] + ([] if display is None else ["--display", str(display)])
        self._errors = tempfile.TemporaryFile()  # the child's stderr, read when it fails: never a full pipe
        self._child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors,
                                       start_new_session=True, env={**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1",
                                                                   "SDL_VIDEO_X11_WMCLASS": WM_CLASS})
        first = self._first_line()
        if "error" in first:
            self._child.wait(timeout=_STOP_S)
            raise OutputError(first["error"])
        self._slot = LatestSlot()
        self._stop = threading.Event()
        self._closed_by_viewer = False
        self._writer = threading.Thread(target=self._write_frames, name="monitor-window", daemon=True)
        self._writer.start()

    def _first_line(self) -> dict:
        """The window's first word: ready, or its one-line error (READY_S at most)."""
        ready, _, _ = select.select([self._child.stdout], [], [], READY_S)
        try:
            return json.loads(self._child.stdout.readline() if ready else b"")
        except ValueError:
            self._child.kill()
            self._child.wait()
            self._errors.seek(0)
            err = self._errors.read().decode(errors="replace").strip().splitlines()
            raise OutputError(f"the monitor window did not open: {err[-1][:200] if err else 'no reason given'}") from None

    @property
    def dropped(self) -> int:
        return self._slot.dropped

    def yuv420_colour(self) -> None:
        return None  # RGB frames

    def write(self, item) -> None:
        if not isinstance(item, Frame):
            return
        if self._closed_by_viewer:
            raise OutputError("the monitor window was closed")
        before = item.original if isinstance(item.original, np.ndarray) and item.original.shape == item.image.shape else None
        self._slot.put((item.image, before))
        self.frames += 1

    def _write_frames(self) -> None:
        pipe = self._child.stdin
        while not self._stop.is_set():
            taken = self._slot.take(self._stop)
            if taken is None:
                continue
            after, before = taken
            h, w = after.shape[:2]
            head = {"w": w, "h": h, "before": before is not None, "sent": time.monotonic(), "status": self.status}
            try:
                pipe.write(json.dumps(head).encode() + b"\n")
                pipe.write(np.ascontiguousarray(after).data)
                if before is not None:
                    pipe.write(np.ascontiguousarray(before).data)
                pipe.flush()
            except (BrokenPipeError, OSError, ValueError):
                self._closed_by_viewer = not self._stop.is_set()
                return

    def close(self) -> None:
        self._stop.set()
        self._writer.join(_STOP_S)
        try:
            self._child.stdin.close()  # the window's end of the stream: it says its figures and goes
        except OSError:
            pass
        try:
            self._child.wait(timeout=_STOP_S)
            lines = self._child.stdout.read().decode(errors="replace").strip().splitlines()
            self.figures = json.loads(lines[-1]) if lines else {}
        except (subprocess.TimeoutExpired, ValueError):
            self._child.kill()
            self._child.wait()
        self._child.stdout.close()
        self._errors.close()
