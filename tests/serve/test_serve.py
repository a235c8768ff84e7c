"""stylecast serve over real HTTP and real WebRTC (aiortc clients): offers, limits, sessions, teardown."""
from __future__ import annotations

import asyncio
import json
import re
import time

import cv2
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from conftest import serve_fixture, wait_for
from support.server_process import ServerProcess
from support.webrtc_client import CLOCK, Client, SceneCamera

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

# its own: the camera's 320x180 comes back at its own size (max-side 640), two viewers before the 503
server = serve_fixture("--max-sessions", "2", "--offer-rate", "1000", "--idle-timeout", "2")


def offer_json(sdp: str, kind: str = "offer") -> bytes:
    return json.dumps({"sdp": sdp, "type": kind}).encode()


async def real_offer() -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(SceneCamera())
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


def test_styles_and_thumbnails(server):
    status, body = server.request("GET", "/api/styles")
    assert status == 200 and len(body["styles"]) == 26 and body["default"] == "starry-night"
    pictures = []
    for name in ("starry-night", "crimson-poster"):
        req_status, _ = server.request("GET", f"/api/thumbs/{name}.jpg")
        assert req_status == 200
        import urllib.request
        data = urllib.request.urlopen(f"{server.base}/api/thumbs/{name}.jpg").read()
        pictures.append(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).astype(float))
    assert pictures[0].shape[1] == 160
    assert np.abs(pictures[0] - pictures[1]).mean() > 20  # two styles, two different thumbnails
    assert server.request("GET", "/api/thumbs/nope.jpg")[0] == 404


@pytest.mark.parametrize("body, reason", [
    (b"not json", "must be JSON"),
    (b'{"sdp": 5, "type": "offer"}', "must be JSON"),
    (offer_json("v=0\r\n"), "no video"),
    (offer_json("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "answer"), "expected an SDP offer"),
])
def test_bad_offers_get_400_with_a_reason(server, body, reason):
    status, reply = server.request("POST", "/api/offer", body, {"Content-Type": "application/json"})
    assert status == 400 and reason in reply["error"]


def test_truncated_and_codecless_offers_are_refused_without_leaks(server):
    sdp = asyncio.run(real_offer())
    codecless = re.sub(r"a=rtpmap:(\d+) (VP8|H264|rtx)/90000", r"a=rtpmap:\1 H265/90000", sdp)
    for bad, reason in ((sdp[: len(sdp) // 2], "cannot use this offer"), (codecless, "no video codec in common")):
        status, reply = server.request("POST", "/api/offer", offer_json(bad))
        assert status == 400 and reason in reply["error"], reply
    stats = server.stats()
    assert stats["sessions"] == 0 and stats["peer_connections"] == 0


def test_oversized_offer_413_and_foreign_origin_403(server):
    status, reply = server.request("POST", "/api/offer", offer_json("v=0\r\n" + "a=x\r\n" * 20000))
    assert status == 413 and "64 KiB" in reply["error"]
    status, reply = server.request("POST", "/api/offer", offer_json("v=0"), {"Origin": "http://evil.example"})
    assert status == 403
    status, _ = server.request("GET", "/api/styles", headers={"Origin": server.base})
    assert status == 200  # the page's own origin is fine


def test_style_image_upload(server, tmp_path):
    status, reply = server.request("POST", "/api/style-image", b"definitely not a picture")
    assert status == 415 and "not a picture" in reply["error"]  # what it sent is not a picture
    ok, png = cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    status, reply = server.request("POST", "/api/style-image", png.tobytes())
    assert status == 200 and reply["style"].startswith("upload:")


def test_stream_comes_back_stylized_with_source_timing_and_style_switches(server):
    async def scenario():
        client = Client(server.base, fps=24)
        await client.connect()
        await client.wait_frames(12)
        assert server.stats()["sessions"] == 1
        # stylized: clearly not the camera picture
        back = client.received[8].to_ndarray(format="rgb24").astype(float)
        sent = np.stack(client.camera.sent[:40]).astype(float)
        assert min(np.abs(back - s).mean() for s in sent) > 25
        # timing: the camera's 24 fps spacing survives (pts steps are whole multiples of 90000/24,
        # within RTP's rounding), where a server-side clock would give arbitrary steps
        steps = np.diff([f.pts for f in client.received[:12]])
        period = CLOCK / 24
        assert np.all(steps > period / 2) and np.all(np.abs(steps - np.round(steps / period) * period) <= 2)
        # a style switch over the data channel, no renegotiation
        client.send(style="crimson-poster", strength=0.8)
        for _ in range(100):
            if any(_reply(m) for m in client.messages):
                break
            await asyncio.sleep(0.05)
        state = next(m["state"] for m in client.messages if _reply(m))
        assert state["style"] == "crimson-poster" and state["strength"] == 0.8
        client.send(style="../../etc/passwd.png")
        client.send(style="no-such-style")
        await asyncio.sleep(0.5)
        errors = [m["error"] for m in client.messages if "error" in m]
        assert len(errors) == 2 and "built-in" in errors[0] and "unknown style" in errors[1]
        await client.close()

    asyncio.run(scenario())
    wait_for(lambda: server.stats()["sessions"] == 0, 3, "the closed call's session released")
    assert server.stats()["peer_connections"] == 0


@pytest.mark.alone  # it measures time
def test_max_sessions_answers_503(server):
    wait_for(lambda: server.stats()["peer_connections"] == 0, 12, "earlier calls released")
    baseline = server.stats()["tasks"]

    async def scenario():
        clients = [Client(server.base) for _ in range(2)]
        for c in clients:
            await c.connect()
        for c in clients:
            await c.wait_frames(3)
        third = Client(server.base)
        with pytest.raises(RuntimeError, match="503"):
            await third.connect()
        await third.close()
        for c in clients:
            await c.close()

    asyncio.run(scenario())
    started = time.monotonic()
    wait_for(lambda: server.stats()["peer_connections"] == 0, 10, "all peer connections closed")
    assert time.monotonic() - started < 3  # a call that hangs up is released at once, not by the watchdog
    wait_for(lambda: server.stats()["tasks"] == baseline, 5, "the server's tasks back to where they were")


def test_watchdog_ends_a_session_whose_camera_stops(server):
    async def scenario():
        client = Client(server.base)
        await client.connect()
        await client.wait_frames(5)
        client.camera.paused = True  # the connection stays up, no frames come
        stopped = time.monotonic()
        while server.stats()["sessions"]:
            assert time.monotonic() - stopped < 4, "session outlived the watchdog (--idle-timeout 2)"
            await asyncio.sleep(0.1)
        assert time.monotonic() - stopped > 1.5
        await client.close()

    asyncio.run(scenario())


def test_token_required_beyond_loopback():
    with ServerProcess("--host", "0.0.0.0", "--max-sessions", "2") as srv:
        assert srv.token and len(srv.token) >= 16  # made and printed
        assert srv.request("GET", "/api/styles", token=False)[0] == 401
        assert srv.request("GET", "/api/styles", headers={"Authorization": "Bearer wrong"}, token=False)[0] == 401
        assert srv.request("GET", "/api/styles")[0] == 200
        assert srv.request("POST", "/api/offer", b"{}", token=False)[0] == 401
    with ServerProcess("--token", "s3cret", "--max-sessions", "2") as srv:  # a given token is enforced on loopback too
        assert srv.token == "s3cret"
        assert srv.request("GET", "/api/styles", token=False)[0] == 401


def test_offer_burst_from_one_address_gets_429():
    with ServerProcess("--offer-rate", "5", "--max-sessions", "2") as srv:
        codes = [srv.request("POST", "/api/offer", b"x")[0] for _ in range(8)]
    assert codes == [400] * 5 + [429] * 3


def _reply(message: dict) -> bool:
    """The answer to a look change (the periodic figures carry the state too)."""
    return "state" in message and "stats" not in message
