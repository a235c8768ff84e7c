"""A real viewer of the WebRTC demo: headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright) whose fake camera plays a .y4m of the moving test scene. Shared by tests and benchmarks."""
from __future__ import annotations

import base64
import shutil
import time
from pathlib import Path

import av
import cv2
import numpy as np

from stream.media.testsrc import TestScene

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
         "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"]


def browser_missing() -> str | None:
    """Why a browser viewer cannot run here, or None."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return "Debian's chromium is not installed (apt-get install chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright for Python is not installed"
    return None


def write_camera(path: Path, width: int = 640, height: int = 360, fps: int = 30, seconds: float = 4.0) -> Path:
    """The fake camera's picture: the moving test scene as a .y4m (Chromium loops it)."""
    scene = TestScene(width, height, seed=3, pan_px_per_s=60)
    with av.open(str(path), "w", format="yuv4mpegpipe") as out:
        stream = out.add_stream("rawvideo", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(scene.frame(i / fps), format="rgb24").reformat(format="yuv420p")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def launch(playwright, camera: Path):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
        *FLAGS, f"--use-file-for-fake-video-capture={camera}"])


class Viewer:
    """One page (its own browser context, so its own camera and session) on the server at ``url``."""

    def __init__(self, browser, url: str, query: str = "autostart=1", wait_streaming: bool = True):
        self.context = browser.new_context(viewport={"width": 1400, "height": 760})
        self.page = self.context.new_page()
        sep = "&" if "?" in url else "?"
        self.page.goto(f"{url}{sep}{query}" if query else url)
        if wait_streaming:
            self.wait_state("streaming")

    def wait_state(self, state: str, timeout: float = 30.0) -> None:
        self.page.wait_for_function(f"['{state}', 'error'].includes(window.stylecast.state)", timeout=timeout * 1000)
        got = self.page.evaluate("window.stylecast.state")
        if got != state:
            raise AssertionError(f"page is {got}, not {state}: {self.page.evaluate('window.stylecast.errors')}")

    def value(self, expression: str):
        return self.page.evaluate(f"JSON.parse(JSON.stringify({expression}))")

    def frames_decoded(self) -> int:
        return self.value("window.stylecast.metrics.framesDecoded || 0")

    def received_fps(self, seconds: float) -> float:
        """Frames decoded by the browser per second over ``seconds``."""
        self.page.wait_for_function("window.stylecast.metrics.framesDecoded > 0", timeout=20000)
        first, t0 = self.frames_decoded(), time.monotonic()
        time.sleep(seconds)
        self.page.wait_for_timeout(1100)  # the page refreshes its figures once a second
        return (self.frames_decoded() - first) / (time.monotonic() - t0)

    def picture(self, video_id: str = "output") -> np.ndarray:
        """The frame the page shows now in ``<video id=video_id>`` as uint8 RGB."""
        url = self.page.evaluate("""(id) => {
            const v = document.getElementById(id);
            const c = Object.assign(document.createElement('canvas'), {width: v.videoWidth, height: v.videoHeight});
            c.getContext('2d').drawImage(v, 0, 0);
            return c.toDataURL('image/png');
        }""", video_id)
        data = np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8)
        return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self.context.close()
