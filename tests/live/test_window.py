"""The monitor window (``--sink window``, issue #48) on a real X server (Xvfb), read back by
screenshots: the window shows the job's frames (SSIM >= 0.95 at the window's size), the wipe,
frame lines, safe areas and status corner are where they should be and follow the keys (sent by
xdotool, as a keyboard would), F fills the screen (once, however long it is held) and Esc leaves
it; a live job's window shows the job's rate with no growth in delay. Skipped, with the reason,
where there is no Xvfb or no pygame-ce."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import time
from fractions import Fraction

import numpy as np
import pytest
from conftest import live, stop_live, wait_for

from engines.errors import OutputError
from engines.quality import ssim_map
from stream.core.frame import Frame
from stream.links.monitor_overlays import SAFE_AREAS, frame_box
from stream.media.testsrc import TestScene

MISSING = ("Xvfb is not installed (apt install xvfb)" if shutil.which("Xvfb") is None else
           "xdotool is not installed (apt install xdotool)" if shutil.which("xdotool") is None else
           "pygame-ce is not installed (pip install 'stylecast[window]')" if importlib.util.find_spec("pygame") is None
           else None)
pytestmark = [pytest.mark.skipif(MISSING is not None, reason=str(MISSING)), pytest.mark.alone]
SCREEN = (1280, 720)
PACED = 20  # frames fed at the end of the keys' test, 15 a second: each must be shown
W, H = 640, 360


@pytest.fixture(scope="module")
def display():
    """An X server of its own: its display number chosen by Xvfb (-displayfd), DISPLAY set for the module.
    -noreset: by default an X server resets when its last client leaves, and a client that connects
    meanwhile fails ("X connection failed"); the window leaves and comes back on F and Esc, and each
    screenshot is a client of its own."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                             "-nolisten", "tcp", "-noreset"], pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        name = f":{f.readline().strip()}"
    before = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = name
    yield name
    xvfb.terminate()
    xvfb.wait(5)
    if before is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = before


def _screen(display: str) -> np.ndarray:
    from PIL import ImageGrab
    return np.asarray(ImageGrab.grab(xdisplay=display).convert("RGB"))


def _window_area(shot: np.ndarray, size=(W, H)) -> np.ndarray:
    """Where an unmanaged window of ``size`` sits (the screen's centre: no window manager here)."""
    x0, y0 = (SCREEN[0] - size[0]) // 2, (SCREEN[1] - size[1]) // 2
    return shot[y0:y0 + size[1], x0:x0 + size[0]]


def _key(display: str, *keys: str, how: str = "key") -> None:
    """Keys typed into the window, as a keyboard types them: the window is given the focus, then
    each key goes to whatever has it (XTEST). Not ``search ... key``: that sends the key to the
    window it found, and a key that replaces the window (F, Esc) then has its release sent to a
    window that is gone, so the X server holds the key down. ``how``: key, keydown or keyup."""
    env = {**os.environ, "DISPLAY": display}
    subprocess.run(["xdotool", "search", "--sync", "--class", "stylecast-monitor", "windowfocus", "--sync"],
                   env=env, check=True, timeout=10, capture_output=True)
    subprocess.run(["xdotool", how, *keys], env=env, check=True, timeout=10, capture_output=True)


def _showing(display: str, predicate, what: str, sink, frame) -> np.ndarray:
    """Keep the frame coming (as a job does) until the screen shows what ``predicate`` wants."""
    last = []

    def look():
        sink.write(frame)
        last[:] = [_screen(display)]
        return (last[0],) if predicate(last[0]) else None
    try:
        return wait_for(look, 10, what, every=0.1)[0]
    except AssertionError as exc:  # what the screen showed instead, and which windows there were
        windows = subprocess.run(["xdotool", "search", "--class", "stylecast-monitor", "getwindowgeometry", "%@"],
                                 capture_output=True, text=True, env={**os.environ, "DISPLAY": display}).stdout
        top = last[0][:100].max() if last else None
        raise AssertionError(f"{exc}; the screen's top rows up to {top}; the monitor's windows: "
                             f"{' '.join(windows.split())}") from None


def _frames() -> tuple[Frame, np.ndarray]:
    scene = TestScene(W, H, seed=5)
    before = scene.frame(0.0)
    after = np.ascontiguousarray(255 - before)  # a "stylized" picture told apart from the source everywhere
    return Frame(after, 0, Fraction(1, 25), 0, original=before), before


@pytest.mark.quick
def test_the_window_shows_the_frames_and_its_overlays_follow_the_keys(display):
    from stream.links.window_sink import WindowSink

    sink = WindowSink("window", 30)
    frame, before = _frames()
    after = frame.image
    try:
        match = lambda shot: ssim_map(_window_area(shot), after)[40:, :480].mean() > 0.95  # noqa: E731 (status aside)
        _showing(display, match, "the frame in the window", sink, frame)
        # the status corner, top right: on at first, off with I
        shot = _screen(display)
        corner = _window_area(shot)[:20, W - 120:].astype(float)
        assert np.abs(corner - after[:20, W - 120:]).mean() > 30  # darkened, with text
        _key(display, "i")
        _showing(display, lambda s: np.abs(_window_area(s)[:20, W - 120:].astype(float) - after[:20, W - 120:]).mean() < 8,
                 "the status corner gone", sink, frame)
        # the wipe: Right shows it at the middle, then 5% further: the source left of it, the feed right
        _key(display, "Right", "Right")
        x = round(0.55 * W)
        shot = _showing(display, lambda s: np.abs(_window_area(s)[:300, :x - 4].astype(float)
                                                   - before[:300, :x - 4]).mean() < 6, "the wipe at 55%", sink, frame)
        area = _window_area(shot)
        assert ssim_map(area[:300, :x - 4], before[:300, :x - 4]).mean() > 0.95
        assert ssim_map(area[:, x + 4:], after[:, x + 4:]).mean() > 0.9
        assert area[:, x - 2:x + 3].mean(axis=(0, 2)).max() > 240  # the line
        _key(display, "b")  # hidden again
        # frame lines at 2.39: outside the frame dimmed, the frame's own edges drawn
        _key(display, "g")
        x0, y0, x1, y1 = frame_box(W, H, 2.39)
        assert (x0, x1) == (0, W) and y0 == (H - round(W / 2.39)) // 2
        shot = _showing(display, lambda s: _window_area(s)[5:y0 - 4].mean() < 0.6 * after[5:y0 - 4].mean(),
                        "the 2.39 frame lines", sink, frame)
        area = _window_area(shot).astype(float)
        assert np.abs(area[y0 + 4:y1 - 4, 100:500] - after[y0 + 4:y1 - 4, 100:500]).mean() < 6  # inside untouched
        assert np.abs(area[y0, 100:500] - (255, 214, 10)).mean() < 40  # the line
        _key(display, "g", "g", "g")  # 1.85, 16:9 (the whole picture), off
        # safe areas: action 93%, title 90%, each a light rectangle
        _key(display, "s")
        mx, my = round(W * (1 - SAFE_AREAS[0]) / 2), round(H * (1 - SAFE_AREAS[0]) / 2)
        shot = _showing(display, lambda s: _window_area(s)[my, 200:400].min() > 200, "the action-safe line", sink, frame)
        tx = round(W * (1 - SAFE_AREAS[1]) / 2)
        assert _window_area(shot)[200:300, tx].min() > 200 and _window_area(shot)[200:300, mx].min() > 200
        # F: the whole screen (16:9 fills it), once, however long F is held (the new window finds it
        # down); S there; Esc: a window again
        full = lambda s: ssim_map(s[40:, :900], _scaled(after, SCREEN)[40:, :900], 4).mean() > 0.9  # noqa: E731
        _key(display, "f", how="keydown")
        _showing(display, full, "full screen", sink, frame)
        for _ in range(12):  # held 1.2 s
            sink.write(frame)
            assert full(_screen(display)), "F, held, switched back"
            time.sleep(0.1)
        _key(display, "f", how="keyup")
        _key(display, "s")  # safe areas off again
        _showing(display, lambda s: full(s) and s[round(SCREEN[1] * (1 - SAFE_AREAS[0]) / 2), 200:400].min() < 200,
                 "full screen without the safe areas", sink, frame)
        _key(display, "Escape")
        _showing(display, lambda s: s[:100].max() < 10 and match(s), "a window again", sink, frame)
        # a steady feed at the end, counted: the window shows each of them (one at a time, none replaced)
        for _ in range(PACED):
            sink.write(frame)
            time.sleep(1 / 15)
    finally:
        sink.close()
    # what it showed, said when it closed (its delay here counts the full-screen switches: the live test judges delay)
    assert sink.figures["shown"] >= PACED and sink.figures["fps"] > 0, sink.figures


def _scaled(picture: np.ndarray, size) -> np.ndarray:
    import cv2
    return cv2.resize(picture, size, interpolation=cv2.INTER_LINEAR)


def test_a_live_job_s_window_shows_its_rate_and_its_delay_does_not_grow(display):
    job = live("--sink", "window", "--fps", "30", "--json", "--duration", "14")
    out, err = job.communicate(timeout=90)
    assert job.returncode == 0, err
    summary = json.loads(out)
    shown = summary["window"]
    print(f"\nwindow: {shown}; the job: {summary['fps_out']} frames/s out")
    assert shown["fps"] >= 0.97 * summary["fps_out"], (shown, summary["fps_out"])
    assert shown["shown"] >= 0.97 * summary["frames_out"] - 5
    assert shown["delay_last_10s_p95_ms"] <= shown["delay_first_10s_p95_ms"] + 15  # no growth
    assert shown["delay_p95_ms"] < 50


@pytest.mark.quick
def test_without_a_screen_or_with_a_display_that_is_not_there_one_line(display):
    from stream.links.window_sink import WindowSink

    with pytest.raises(OutputError, match="there is no display 3: this machine has 1"):
        WindowSink("window:3", 30)
    with pytest.raises(OutputError, match="a window sink is window, or window:N"):
        WindowSink("window:left", 30)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run([os.sys.executable, "-m", "stream.cli", "live", "--sink", "window", "--duration", "1"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no screen to show a window on" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    # and doctor says so, both ways
    for screen, available, words in ((env, False, "no screen here"), (os.environ, True, f"a monitor window on {display}")):
        rows = json.loads(subprocess.run([os.sys.executable, "-m", "stream.cli", "doctor", "--json"], env=screen,
                                         capture_output=True, text=True, timeout=120).stdout)
        window = next(r for r in rows if r["name"] == "window")
        assert window["available"] is available and words in window["reason"], window


def test_closing_the_window_ends_the_job_with_one_line(display):
    job = live("--sink", "window", "--json")
    try:
        wait_for(lambda: subprocess.run(["xdotool", "search", "--class", "stylecast-monitor"], capture_output=True,
                                        env={**os.environ, "DISPLAY": display}).returncode == 0, 30, "the window")
        time.sleep(1)
        subprocess.run(["xdotool", "search", "--class", "stylecast-monitor", "windowclose"], check=False,
                       env={**os.environ, "DISPLAY": display}, capture_output=True, timeout=10)
        code = job.wait(timeout=30)
    finally:
        out, err = stop_live(job)
    assert code == 2 and "the monitor window was closed" in err, err
