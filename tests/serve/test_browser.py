"""The demo page in real headless Chromium (Debian's, driven by Playwright) with a fake camera that
plays the moving test scene: the call connects, frames come back stylized, styles switch, viewers
are separate sessions, closing the page frees everything."""
from __future__ import annotations

import importlib.util
import os
import urllib.request
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import serve_fixture, wait_for
from PIL import Image
from support.server_process import ServerProcess
from support.viewer import Viewer, browser_missing, launch, write_camera

from engines import open_engine

pytestmark = [pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing())),
              pytest.mark.alone]  # alone: the page's frame rate, in real browsers
SHOTS = Path(os.environ.get("STYLECAST_SCREENSHOTS", "test-screenshots"))


# its own: three browser viewers at the camera's size, and a viewer's painting trained in 6 steps
server = serve_fixture("--max-sessions", "3", "--offer-rate", "1000", "--keyframe-steps", "6")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    camera = write_camera(tmp_path_factory.mktemp("camera") / "scene.y4m")
    with sync_playwright() as p:
        b = launch(p, camera)
        yield b
        b.close()


def thumb_colour(server, name: str) -> np.ndarray:
    data = urllib.request.urlopen(f"{server.base}/api/thumbs/{name}.jpg").read()
    picture = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return picture.reshape(-1, 3).mean(0)


def test_call_connects_and_comes_back_stylized(server, browser):
    viewer = Viewer(browser, server.url)
    try:
        fps = viewer.received_fps(4)
        assert fps >= 3, f"only {fps:.1f} frames/s reached the page"
        out, camera = viewer.picture("output").astype(float), viewer.picture("preview").astype(float)
        assert out.shape == camera.shape == (360, 640, 3)
        assert np.abs(out - camera).mean() > 25  # stylized, not the camera picture
        assert out.std() > 20                    # a picture, not a blank
        SHOTS.mkdir(exist_ok=True)
        viewer.page.screenshot(path=str(SHOTS / "serve.png"))
        server_side = viewer.value("window.stylecast.server")
        assert server_side["frames_out"] > 0 and server_side["latency_p95_ms"] > 0
        assert server_side["flicker"] is not None  # the readout, also on the page's overlay
        assert "flicker" in viewer.page.inner_text("#overlay")
    finally:
        viewer.close()


def test_style_switch_changes_the_picture(server, browser):
    viewer = Viewer(browser, server.url, "autostart=1&style=starry-night")
    try:
        viewer.page.wait_for_function("window.stylecast.metrics.framesDecoded > 3", timeout=20000)
        colours = {name: thumb_colour(server, name) for name in ("starry-night", "crimson-poster")}

        def nearer(name: str) -> bool:
            mean = viewer.picture().reshape(-1, 3).mean(0)
            other = next(n for n in colours if n != name)
            return np.linalg.norm(mean - colours[name]) < np.linalg.norm(mean - colours[other])

        assert nearer("starry-night")
        viewer.page.click("#styles button[data-style='crimson-poster']")
        wait_for(lambda: nearer("crimson-poster"), 5, "the picture took the new style")
        state = server.stats()["viewers"][0]
        assert state["style"] == "crimson-poster"
    finally:
        viewer.close()


def test_two_viewers_two_sessions_and_closing_frees_them(server, browser):
    wait_for(lambda: server.stats()["peer_connections"] == 0, 12, "earlier calls released")
    baseline = server.stats()["task_names"]
    first = Viewer(browser, server.url, "autostart=1&style=mosaic")
    second = Viewer(browser, server.url, "autostart=1&style=charcoal")
    try:
        stats = server.stats()
        assert stats["sessions"] == 2 and stats["peer_connections"] == 2
        assert sorted(v["style"] for v in stats["viewers"]) == ["charcoal", "mosaic"]
        for v in (first, second):
            v.page.wait_for_function("window.stylecast.metrics.framesDecoded > 3", timeout=20000)
        assert np.abs(first.picture().astype(float) - second.picture().astype(float)).mean() > 20
    finally:
        first.close()
    wait_for(lambda: server.stats()["sessions"] == 1, 12, "the closed page's session released")
    second.close()
    wait_for(lambda: server.stats()["peer_connections"] == 0, 12, "every peer connection closed")
    # aiortc's transports end their own tasks a moment after the close (ICE consent, DTLS, SCTP)
    left = lambda: Counter(server.stats()["task_names"]) - Counter(baseline)  # noqa: E731
    try:
        wait_for(lambda: not left(), 12, "the server's tasks back to where they were")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: left behind {dict(left())}") from None
    wait_for(lambda: server.stats()["sessions_in_memory"] == 0, 5, "both sessions freed, frames and all")


def test_page_without_token_is_refused_and_with_it_streams(browser):
    with ServerProcess("--host", "0.0.0.0", "--max-sessions", "2") as srv:
        url = srv.base.replace("0.0.0.0", "127.0.0.1")
        refused = Viewer(browser, url + "/", "autostart=1", wait_streaming=False)
        refused.page.wait_for_function("window.stylecast.errors.length > 0", timeout=10000)
        assert "token" in refused.value("window.stylecast.errors")[0]
        refused.close()
        viewer = Viewer(browser, f"{url}/?token={srv.token}")
        viewer.page.wait_for_function("window.stylecast.metrics.framesDecoded > 3", timeout=20000)
        viewer.close()


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="training needs torch")
def test_a_grabbed_frame_and_its_painting_become_the_call_s_look(server, browser, tmp_path):
    """Paint a frame, get a live filter (issue #39): the viewer grabs a frame of their camera, a
    painting of it is uploaded, the server trains its network beside the call and switches to it."""
    viewer = Viewer(browser, server.url, "autostart=1&style=starry-night")
    try:
        viewer.page.wait_for_function("window.stylecast.metrics.framesDecoded > 3", timeout=20000)
        viewer.page.click("#grab")
        viewer.page.wait_for_selector("#grabbed:not([hidden])", timeout=10000)
        frame = viewer.picture("preview")  # what was grabbed: the camera's picture
        painting = open_engine("cpu", "crimson-poster").stylize_one(frame)
        Image.fromarray(painting).save(tmp_path / "painting.png")
        viewer.page.set_input_files("#painting", str(tmp_path / "painting.png"))
        viewer.page.wait_for_function("window.stylecast.painting && window.stylecast.painting.state === 'ready'",
                                      timeout=120000)
        assert "live" in viewer.page.inner_text("#paint-status")
        wait_for(lambda: any(v["style"].startswith("painted ") for v in server.stats()["viewers"]), 10,
                 "the call took the painting")
        painted_colour = painting.reshape(-1, 3).mean(0)
        plain_colour = open_engine("cpu", "starry-night").stylize_one(frame).reshape(-1, 3).mean(0)

        def follows_the_painting() -> bool:
            mean = viewer.picture().reshape(-1, 3).mean(0)
            return np.abs(mean - painted_colour).sum() < np.abs(mean - plain_colour).sum()

        wait_for(follows_the_painting, 10, "the picture came back in the painting's colours")
    finally:
        viewer.close()
