"""The monitor window's own process (``--sink window``, stream/links/window_sink.py): frames in on
stdin, shown through SDL (pygame-ce, whose wheel carries SDL 2), keys read, figures out on stdout.

    python -m stream.links.monitor_window [--display N] [--title T]

stdin, per frame: one line of JSON (``w``, ``h``, ``before``: whether the source's picture
follows, ``sent``: when the sink wrote it, CLOCK_MONOTONIC, ``status``: the job's figures), then
the stylized picture (RGB, w*h*3 bytes) and the source's if ``before``. Only the newest frame is
shown: one that comes while the last is still being drawn replaces it (counted as dropped), so a
slow screen costs frames, never delay.

stdout: ``{"ready": ...}`` once the window is up (or ``{"error": ...}``, one line, when there is no
screen or no such display), and at the end ``{"shown", "fps", "dropped", "delay_ms"...}``.

Keys (stream/links/monitor_overlays.py): Left/Right move the wipe (Shift: finer), B shows or hides
it, G cycles the frame lines (2.39, 1.85, 16:9), S the safe areas, I the status corner, F full
screen, Esc leaves full screen. The window's close button ends the window (and so the job's sink).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

import cv2
import numpy as np

from .monitor_overlays import MonitorState, compose

HELD_S = 1.0  # how long the key that switched full screen is taken as still held, its release unseen
KEYS = {"left": "left", "right": "right", "b": "b", "g": "g", "s": "s", "i": "i"}


class _Frames(threading.Thread):
    """Reads stdin: the newest frame is ``take``n; older ones unread are counted as dropped."""

    def __init__(self, stream):
        super().__init__(name="frames", daemon=True)
        self.stream, self.lock, self.fresh = stream, threading.Lock(), threading.Event()
        self.latest, self.dropped, self.ended = None, 0, False

    def run(self) -> None:
        try:
            while header := self.stream.readline():
                head = json.loads(header)
                size = head["w"] * head["h"] * 3
                after = _exactly(self.stream, size).reshape(head["h"], head["w"], 3)
                before = _exactly(self.stream, size).reshape(head["h"], head["w"], 3) if head["before"] else None
                with self.lock:
                    if self.latest is not None:
                        self.dropped += 1
                    self.latest = (head, after, before)
                self.fresh.set()
        except (ValueError, EOFError, OSError):
            pass
        self.ended = True
        self.fresh.set()

    def take(self, wait: float):
        self.fresh.wait(wait)
        with self.lock:
            item, self.latest = self.latest, None
            self.fresh.clear()
        return item


def _exactly(stream, size: int) -> np.ndarray:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError
    return np.frombuffer(data, np.uint8)


def _say(**fields) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--display", type=int, help="full screen on this display (0 the first)")
    parser.add_argument("--title", default="stylecast monitor")
    args = parser.parse_args()
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame
    except ImportError:
        _say(error="the window sink needs pygame-ce: pip install 'stylecast[window]'")
        return 2
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        _say(error="no screen to show a window on (DISPLAY is not set): run it on a desktop, or under Xvfb")
        return 2
    try:
        pygame.display.init()
    except pygame.error as exc:
        _say(error=f"no screen to show a window on: {exc}")
        return 2
    displays = pygame.display.get_num_displays()
    if args.display is not None and not 0 <= args.display < displays:
        _say(error=f"there is no display {args.display}: this machine has {displays} (0 to {displays - 1})")
        return 2
    monitor = Monitor(pygame, args.display, args.title)
    _say(ready=True, displays=displays)
    frames = _Frames(sys.stdin.buffer)
    frames.start()
    figures = monitor.run(frames)
    pygame.display.quit()
    _say(**figures)
    return 0


class Monitor:
    def __init__(self, pygame, display: int | None, title: str):
        self.pygame, self.display, self.title = pygame, display or 0, title
        self.full = display is not None
        self._shown_full = self.full
        self.state = MonitorState()
        self.screen = None
        self.size: tuple[int, int] | None = None  # the picture's
        self.shown: list[tuple[float, float]] = []  # (when shown, delay s)
        self.last = None
        self._switched_by: tuple[str, float] | None = None  # the key that last switched modes, and when

    def _window(self, size: tuple[int, int]) -> None:
        pg = self.pygame
        if self.screen is not None and self._shown_full != self.full:
            # a new window for the other mode: without a window manager (a bare X server on a set's
            # monitor), SDL cannot turn a window full screen and back
            pg.display.quit()
            pg.display.init()
        self._shown_full = self.full
        if self.full:
            self.screen = pg.display.set_mode((0, 0), pg.FULLSCREEN, display=self.display)
        else:
            self.screen = pg.display.set_mode(size, pg.RESIZABLE, display=self.display)
        pg.display.set_caption(self.title)

    def run(self, frames: _Frames) -> dict:
        started = time.monotonic()
        while True:
            changed = self._events()
            if changed is None:
                break
            item = frames.take(0.005)
            if item is None and frames.ended:
                break
            if item is not None:
                self.last = item
            if (item is not None or changed) and self.last is not None:
                self._show(self.last, new=item is not None)
        span = self.shown[-1][0] - self.shown[0][0] if len(self.shown) > 1 else 0.0
        return {"shown": len(self.shown), "fps": round((len(self.shown) - 1) / span, 2) if span else 0.0,
                "dropped": frames.dropped, "seconds": round(time.monotonic() - started, 1),
                **_delay_figures(self.shown)}

    def _events(self) -> bool | None:
        """Keys and the window's close; True when something the picture shows changed, None to end."""
        pg, changed = self.pygame, False
        for event in pg.event.get():
            if event.type == pg.QUIT:
                return None
            if event.type == pg.VIDEORESIZE:
                changed = True
            if event.type == pg.KEYUP and self._switched_by and pg.key.name(event.key) == self._switched_by[0]:
                self._switched_by = None
            if event.type != pg.KEYDOWN:
                continue
            name = pg.key.name(event.key)
            if self._still_held(name):
                continue
            if name == "f" or (name == "escape" and self.full):
                self.full = not self.full and name == "f"
                if self.size:
                    self._window(self.size)
                self._switched_by = (name, time.monotonic())  # from when the new window is up
            elif name in KEYS:
                self.state.key(KEYS[name], fine=bool(event.mod & pg.KMOD_SHIFT))
            changed = True
        return changed

    def _still_held(self, name: str) -> bool:
        """The key that switched modes, still down: the new window finds it pressed (SDL reconciles
        the keyboard when a window gains focus) and would switch back, and on, while it is held.
        Ignored until it is let go, or for HELD_S where its release went to the window that left."""
        return bool(self._switched_by) and self._switched_by[0] == name and \
            time.monotonic() - self._switched_by[1] < HELD_S

    def _show(self, item, new: bool) -> None:
        head, after, before = item
        size = (head["w"], head["h"])
        if self.screen is None or size != self.size:
            self.size = size
            self._window(size)
        status = head.get("status") or {}
        text = f"{_rate(self.shown):.1f} fps  {status.get('dropped', 0)} dropped  flicker {status.get('flicker', '-')}"
        picture = compose(after, before, self.state, text)
        sw, sh = self.screen.get_size()
        scale = min(sw / size[0], sh / size[1])
        fit = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
        if fit != size:
            picture = cv2.resize(picture, fit, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        surface = self.pygame.image.frombuffer(np.ascontiguousarray(picture).tobytes(), fit, "RGB")
        self.screen.fill((0, 0, 0))
        self.screen.blit(surface, ((sw - fit[0]) // 2, (sh - fit[1]) // 2))
        self.pygame.display.flip()
        if new:
            now = time.monotonic()
            self.shown.append((now, now - head["sent"]))


def _rate(shown: list[tuple[float, float]], window_s: float = 1.0) -> float:
    if len(shown) < 2:
        return 0.0
    end = shown[-1][0]
    recent = [t for t, _ in shown if t > end - window_s]
    return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0]) if len(recent) > 1 else 0.0


def _delay_figures(shown: list[tuple[float, float]]) -> dict:
    """Delay from the sink's write to the screen: p50 and p95 over all, and p95 over the first and
    last 10 s (a delay that grows shows there)."""
    if not shown:
        return {}
    delays = np.array([d for _, d in shown]) * 1000
    t0, t1 = shown[0][0], shown[-1][0]
    first = [d * 1000 for t, d in shown if t - t0 <= 10]
    last = [d * 1000 for t, d in shown if t1 - t <= 10]
    pct = lambda values, q: round(float(np.percentile(values, q)), 1)  # noqa: E731
    return {"delay_p50_ms": pct(delays, 50), "delay_p95_ms": pct(delays, 95),
            "delay_first_10s_p95_ms": pct(first, 95), "delay_last_10s_p95_ms": pct(last, 95)}


if __name__ == "__main__":
    sys.exit(main())
