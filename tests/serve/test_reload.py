"""A page reload is never refused (issue #18): on a server that admits one viewer, the viewer who
closes and offers again at once gets back in, from an aiortc client and from real Chromium; the
503 stays for a real second viewer."""
from __future__ import annotations

import asyncio

import pytest
from conftest import serve_fixture, wait_for
from support.viewer import Viewer, browser_missing, launch, write_camera
from support.webrtc_client import Client

# its own: with room for one viewer only, a reload's new call is refused unless the old one's place is freed at once
one_viewer = serve_fixture("--max-sessions", "1", "--offer-rate", "1000", "--max-side", "160")


def test_close_and_offer_again_at_once_is_never_refused(one_viewer):
    async def scenario() -> tuple[list[str], str]:
        refused = []
        viewer = Client(one_viewer.base, fps=15)
        await viewer.connect()
        await viewer.wait_frames(3)
        for _ in range(10):
            # no goodbye, and the new offer leaves while the old call is still closing: the plain
            # close of a script, racing the offer as a reloading page's old connection does
            old, viewer = viewer, Client(one_viewer.base, fps=15)
            try:
                await asyncio.gather(old.close(), viewer.connect())
                await viewer.wait_frames(3)
            except RuntimeError as exc:
                refused.append(str(exc))
                viewer = Client(one_viewer.base, fps=15)
                await asyncio.sleep(2)
                await viewer.connect()
        second = Client(one_viewer.base, fps=15)
        try:
            await second.connect()
            excess = "admitted"
        except RuntimeError as exc:
            excess = str(exc)
        await second.close()
        await viewer.close()
        return refused, excess

    refused, excess = asyncio.run(scenario())
    assert refused == []
    assert "503" in excess and "full" in excess  # a real second viewer is still refused
    wait_for(lambda: one_viewer.stats()["sessions"] == 0, 12, "every session released")


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_reloading_the_page_while_streaming_gets_the_call_back(one_viewer, tmp_path):
    from playwright.sync_api import sync_playwright

    wait_for(lambda: one_viewer.stats()["sessions"] == 0, 12, "earlier calls released")
    with sync_playwright() as p:
        browser = launch(p, write_camera(tmp_path / "scene.y4m"))
        viewer = Viewer(browser, one_viewer.url)
        try:
            for _ in range(3):
                viewer.page.wait_for_function("window.stylecast.metrics.framesDecoded > 3", timeout=20000)
                viewer.page.reload()  # pagehide: goodbye, then the new page offers at once
                viewer.wait_state("streaming")
                assert viewer.value("window.stylecast.errors") == []
            viewer.page.wait_for_function("window.stylecast.metrics.framesDecoded > 3", timeout=20000)
            assert one_viewer.stats()["sessions"] == 1
        finally:
            viewer.close()
            browser.close()
    wait_for(lambda: one_viewer.stats()["sessions"] == 0, 12, "the page's session released")
