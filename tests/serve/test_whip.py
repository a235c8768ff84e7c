"""WHIP ingest and WHEP playback (issue #48) on a real ``stylecast serve`` with a token: real
Chromium publishes its fake camera over WHIP from a small page of another origin (no stylecast
code: tests/support/whip_pages/), and a second page plays the stylized result over WHEP;
``stylecast live --sink whip://`` publishes into it from a process of its own; bad requests get
their 4xx, fuzzed offers included, and the server is left as it was."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_for
from hypothesis import HealthCheck, given, settings
from support.server_process import ServerProcess
from support.viewer import browser_missing, launch, write_camera
from support.whep_player import Player, Publisher
from test_sdp_fuzz import mutated_offer

pytestmark = pytest.mark.alone  # rates and delays
PAGES = Path(__file__).parents[1] / "support" / "whip_pages"
TOKEN = "whip-test-token"
browser = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))


@pytest.fixture(scope="module")
def server():
    with ServerProcess("--token", TOKEN, "--max-sessions", "3", "--offer-rate", "100000", "--idle-timeout", "3") as srv:
        yield srv
    assert srv.returncode == 0, srv.stderr


@pytest.fixture(scope="module")
def pages():
    """The publisher's and player's pages from a server of their own: another origin."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(PAGES)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _released(server) -> None:
    wait_for(lambda: (s := server.stats())["sessions"] == 0 and s["peer_connections"] == 0, 12,
             "every publisher and player released")


def _page_picture(page, element: str) -> np.ndarray:
    pixels = page.evaluate("""(id) => {
        const v = document.getElementById(id);
        const c = Object.assign(document.createElement('canvas'), {width: v.videoWidth, height: v.videoHeight});
        const g = c.getContext('2d');
        g.drawImage(v, 0, 0);
        return [c.width, c.height, Array.from(g.getImageData(0, 0, c.width, c.height).data)];
    }""", element)
    w, h, data = pixels
    return np.array(data, np.uint8).reshape(h, w, 4)[:, :, :3]


@browser
def test_chromium_publishes_over_whip_and_another_page_plays_it_stylized(server, pages, tmp_path):
    from playwright.sync_api import sync_playwright

    camera = write_camera(tmp_path / "camera.y4m", 352, 288, 30)
    endpoint = lambda path: urllib.parse.quote(f"{server.base}{path}", safe="")  # noqa: E731
    with sync_playwright() as p:
        chromium = launch(p, camera)
        publisher = chromium.new_context().new_page()
        publisher.goto(f"{pages}/publish.html?endpoint={endpoint('/whip?style=mosaic')}&token={TOKEN}")
        publisher.wait_for_function("window.state !== 'starting'", timeout=30000)
        assert publisher.evaluate("window.state") == "publishing"
        player = chromium.new_context().new_page()
        player.goto(f"{pages}/play.html?endpoint={endpoint('/whep')}&token={TOKEN}")
        player.wait_for_function("window.state !== 'starting'", timeout=30000)
        assert player.evaluate("window.state") == "playing"
        player.wait_for_function("window.framesDecoded > 10", timeout=30000)
        first, started = player.evaluate("window.framesDecoded"), time.monotonic()
        time.sleep(4)
        fps = (player.evaluate("window.framesDecoded") - first) / (time.monotonic() - started)
        print(f"\nChromium WHIP to WHEP at 352x288: {fps:.1f} frames/s")
        assert fps >= 12, f"{fps:.1f} frames/s played"
        shown, sent = _page_picture(player, "out").astype(float), _page_picture(publisher, "camera").astype(float)
        assert shown.shape == sent.shape == (288, 352, 3)
        assert np.abs(shown - sent).mean() > 20 and shown.std() > 20  # stylized, a picture
        stats = server.stats()
        assert [v["style"] for v in stats["viewers"]] == ["mosaic"] and len(stats["players"]) == 1
        assert publisher.evaluate("window.unpublish()") == 200
        _released(server)  # the player's playback ended with its publisher
        chromium.close()


def test_live_sink_whip_publishes_into_serve_and_a_whep_player_gets_it(server):
    job = subprocess.Popen([sys.executable, "-m", "stream.cli", "live", "--sink",
                            f"whip://{server.base.split('//')[1]}/whip?token={TOKEN}", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: server.stats()["sessions"] == 1 or job.poll() is not None, 60, "the job publishing")
        assert job.poll() is None, job.communicate()

        async def play() -> Player:
            player = Player(f"{server.base}/whep", TOKEN)
            assert await player.play() == 201
            for _ in range(100):
                if len(player.frames) >= 40:
                    break
                await asyncio.sleep(0.1)
            await player.close()
            return player

        player = asyncio.run(play())
        assert len(player.frames) >= 40 and player.rate(2) >= 8, (len(player.frames), player.rate(2))
        assert player.frames[0][1].std() > 20
    finally:
        job.terminate()
        out, err = job.communicate(timeout=30)
    assert "WHIP: publishing to http://127.0.0.1" in err and "?token" not in err  # the token is never printed
    assert json.loads(out)["frames_out"] > 40
    _released(server)  # the job's close ended its resource (DELETE)


def _send(server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    req = urllib.request.Request(server.base + path, data=body or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as reply:
            return reply.status, reply.read().decode(), dict(reply.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)


SDP = {"Content-Type": "application/sdp", "Authorization": f"Bearer {TOKEN}"}


@pytest.mark.quick
def test_bad_whip_and_whep_requests_get_their_4xx(server):
    garbage = b"v=0\r\nthis is not sdp\r\n"
    assert _send(server, "POST", "/whip", garbage, {"Content-Type": "application/sdp"})[0] == 401  # no token
    assert _send(server, "POST", "/whip", garbage, {**SDP, "Authorization": "Bearer wrong"})[0] == 401
    status, text, _ = _send(server, "POST", "/whip", b'{"sdp": "v=0"}', {**SDP, "Content-Type": "application/json"})
    assert status == 415 and "application/sdp" in text
    status, text, _ = _send(server, "POST", "/whip", garbage, SDP)
    assert status == 400 and json.loads(text)["error"]
    assert _send(server, "POST", "/whip", b"v=0\r\n" + b"a=x\r\n" * 20000, SDP)[0] == 413
    assert _send(server, "DELETE", "/whip/0123456789abcdef", headers=SDP)[0] == 404
    assert _send(server, "POST", "/whep/0123456789abcdef", garbage, SDP)[0] == 404
    status, text, _ = _send(server, "POST", "/whep", garbage, SDP)
    assert status == 404 and "no one is publishing" in text
    status, _, headers = _send(server, "PATCH", "/whip/0123456789abcdef", b"a=ice-ufrag:x",
                               {**SDP, "Content-Type": "application/trickle-ice-sdpfrag"})
    assert status == 405 and headers["Allow"] == "POST, DELETE"
    # a browser's preflight from another page is answered; its origin is let in on WHIP only
    status, _, headers = _send(server, "OPTIONS", "/whip", headers={"Origin": "http://elsewhere.example",
                                                                    "Access-Control-Request-Method": "POST"})
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "http://elsewhere.example"
    assert "Location" in headers["Access-Control-Expose-Headers"]
    assert _send(server, "GET", "/api/stats", headers={"Origin": "http://elsewhere.example",
                                                       "Authorization": f"Bearer {TOKEN}"})[0] == 403

    async def crowd() -> list[int]:  # three places: the fourth publisher is refused, 503
        publishers = [Publisher(f"{server.base}/whip", TOKEN) for _ in range(4)]
        statuses = [await p.publish() for p in publishers]
        for p in publishers:
            await p.close()
        return statuses

    assert asyncio.run(crowd()) == [201, 201, 201, 503]
    _released(server)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(sdp=mutated_offer())
def test_fuzzed_whip_offers_are_answered_or_refused_never_crash(server, sdp):
    started = time.monotonic()
    status, text, headers = _send(server, "POST", "/whip", sdp.encode(), SDP)
    assert status == 201 or 400 <= status < 500, (status, text)
    assert status != 201 or headers["Location"].startswith("/whip/")
    if status == 201:  # a mutant that was still a usable offer: ended at once
        assert _send(server, "DELETE", headers["Location"], headers=SDP)[0] == 200
    assert time.monotonic() - started < 2.0


def test_after_the_fuzz_nothing_is_left_open(server):
    _released(server)
    assert server.proc.poll() is None


@pytest.mark.parametrize("url, words", [
    ("whip://127.0.0.1:9/whip", "cannot publish to http://127.0.0.1:9/whip"),
    ("whip:///whip", "a WHIP sink is whip://HOST[:PORT]/PATH"),
])
def test_a_whip_sink_that_cannot_publish_is_one_line_and_exit_2(url, words):
    proc = subprocess.run([sys.executable, "-m", "stream.cli", "live", "--sink", url, "--duration", "1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_a_whip_sink_refused_by_its_server_says_why(server):
    proc = subprocess.run([sys.executable, "-m", "stream.cli", "live", "--sink",
                           f"whip://{server.base.split('//')[1]}/whip", "--duration", "1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "the WHIP server refused the stream (401)" in proc.stderr, proc.stderr


@pytest.mark.quick
def test_the_servers_stun_and_turn_go_with_each_answer_as_link_headers():
    from stream.serve.whip import _created

    reply = _created("v=0\r\n", "/whip/ab", ["stun:stun.example.org:3478", "turn:turn.example.org"])
    assert reply.status == 201 and reply.headers["Location"] == "/whip/ab"
    assert reply.headers.getall("Link") == ['<stun:stun.example.org:3478>; rel="ice-server"',
                                            '<turn:turn.example.org>; rel="ice-server"']
    assert reply.content_type == "application/sdp"
