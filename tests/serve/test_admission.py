"""Admission (issue #8): the server measures how many viewers this machine holds, admits at most 80%
of that by default, and a full server answers 503 at once without costing its viewers frames."""
from __future__ import annotations

import asyncio
import json
import math
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import SMALL_SERVER, serve_fixture
from support.webrtc_client import Client

from stream.serve.capacity import ADMIT_SHARE, TARGET_FPS

pytestmark = pytest.mark.alone  # it measures time: a full server's viewers keep their rate

OFFER = (Path(__file__).parent / "data" / "chromium-offer.sdp").read_text()

measured = serve_fixture("--offer-rate", "1000", "--max-side", "320")  # its own: the admission measured at start
full = serve_fixture(*SMALL_SERVER)  # two viewers at most


def test_default_admits_80_percent_of_what_was_measured(measured):
    stats = measured.stats()
    capacity = stats["capacity"]
    assert (capacity["width"], capacity["height"]) == (320, 180)
    assert capacity["frame_ms"] > 1 and capacity["target_fps"] == TARGET_FPS
    holds = capacity["cores"] * 1000 / capacity["frame_ms"] / TARGET_FPS
    assert abs(capacity["viewers"] - holds) <= 0.02 * holds  # frame_ms is rounded to 0.1 ms in the stats
    assert stats["max_sessions"] == capacity["admitted"] == max(1, math.floor(ADMIT_SHARE * capacity["viewers"]))
    assert "admitting" in measured.stderr_text()


def _offer(base: str) -> tuple[int, float, str]:
    body = json.dumps({"sdp": OFFER, "type": "offer"}).encode()
    request = urllib.request.Request(f"{base}/api/offer", body, {"Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            status, text = reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    return status, time.monotonic() - started, text


def test_a_full_server_refuses_at_once_and_its_viewers_keep_their_rate(full):
    """Refusals must cost the viewers no frames: the server keeps stylizing every camera frame that
    reaches it at the rate it did before. (The server's own counts are asserted per viewer; a packet
    lost on the way, which stalls aiortc's jitter buffer for hundreds of packets whatever the server
    does, shows in a viewer's own count and is printed, so only the whole server stalling fails there.)"""
    async def scenario():
        viewers = [Client(full.base, fps=20) for _ in range(2)]
        for v in viewers:
            await v.connect()
        for v in viewers:
            await v.wait_frames(10)
        loop = asyncio.get_running_loop()

        async def counts() -> dict[str, tuple[int, int]]:
            stats = await loop.run_in_executor(None, full.stats)
            return {s["session"]: (s["frames_in"], s["frames_out"]) for s in stats["viewers"]}

        async def rates(seconds: float) -> tuple[list[float], list[tuple[float, float]]]:
            """frames/s each viewer received, and (in, out) frames/s the server counted for it"""
            before, server_before = [len(v.received) for v in viewers], await counts()
            await asyncio.sleep(seconds)
            after, server_after = [len(v.received) for v in viewers], await counts()
            server = [tuple((a - b) / seconds for a, b in zip(server_after[v.session], server_before[v.session]))
                      for v in viewers]
            return [(a - b) / seconds for a, b in zip(after, before)], server

        calm = await rates(3.0)
        refused = []

        async def knock():  # 15 more viewers try to join, one every 0.2 s
            for _ in range(15):
                refused.append(await loop.run_in_executor(None, _offer, full.base))
                await asyncio.sleep(0.2)

        busy, _ = await asyncio.gather(rates(3.0), knock())
        for v in viewers:
            await v.close()
        return calm, busy, refused

    (calm, calm_server), (busy, busy_server), refused = asyncio.run(scenario())
    print(f"\nadmission: viewers received {calm} frames/s before, {busy} while 15 more were refused; "
          f"server (in, out) {calm_server} before, {busy_server} during; "
          f"slowest refusal {max(t for _, t, _ in refused) * 1000:.0f} ms")
    assert all(status == 503 and "full" in text for status, _, text in refused)
    assert max(t for _, t, _ in refused) < 1.0
    for (in_before, out_before), (in_during, out_during) in zip(calm_server, busy_server):
        assert out_before > 10 and out_during >= 0.9 * in_during  # every camera frame that came was used
    assert max(busy) >= 0.9 * max(calm) > 10  # and the server as a whole never stalled
