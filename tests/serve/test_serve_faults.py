"""The WebRTC server under faults: a viewer killed without hanging up, and garbage datagrams on the
negotiated port while a legitimate viewer streams."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import SMALL_SERVER, serve_fixture
from support.webrtc_client import Client

ROOT = Path(__file__).resolve().parents[2]
GARBAGE_SECONDS = float(os.environ.get("STYLECAST_GARBAGE_SECONDS", "4"))


server = serve_fixture(*SMALL_SERVER)


def test_a_killed_viewer_is_torn_down_by_the_watchdog(server):
    script = (f"import asyncio, sys; sys.path[:0] = [{str(ROOT)!r}]\n"
              "from tests.support.webrtc_client import Client\n"
              "async def main():\n"
              f"    c = Client({server.base!r}); await c.connect(); await c.wait_frames(5)\n"
              "    print('streaming', flush=True); await asyncio.sleep(60)\n"
              "asyncio.run(main())\n")
    viewer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert viewer.stdout.readline().strip() == "streaming"
    assert server.stats()["sessions"] == 1
    viewer.send_signal(signal.SIGKILL)  # no hang-up, no DTLS close: the peer just vanishes
    viewer.wait()
    killed = time.monotonic()
    while server.stats()["sessions"]:
        assert time.monotonic() - killed < 5, "the dead viewer's session outlived the watchdog (--idle-timeout 2)"
        time.sleep(0.1)
    assert server.stats()["peer_connections"] == 0
    print(f"\nkilled viewer: session released {time.monotonic() - killed:.1f} s after the kill")


def blast(port: int, seconds: float, rate: int, sent: list) -> None:
    """Random datagrams (STUN-, DTLS- and RTP-looking and plain noise) at ``rate`` per second."""
    rng = __import__("random").Random(7)
    heads = [b"\x00\x01", b"\x16\xfe\xfd", b"\x80\x60", b"\x90", b""]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        sock.sendto(rng.choice(heads) + rng.randbytes(rng.randint(1, 1200)), ("127.0.0.1", port))
        n += 1
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
    sent.append(n)
    sock.close()


def test_garbage_datagrams_on_the_media_port_do_not_hurt_the_viewer(server):
    async def scenario():
        client = Client(server.base, fps=20)
        await client.connect()
        answer_ports = {int(p) for p in re.findall(r"a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host",
                                                   client.pc.remoteDescription.sdp)}
        await client.wait_frames(10)

        async def rate(seconds: float) -> float:
            before = len(client.received)
            await asyncio.sleep(seconds)
            return (len(client.received) - before) / seconds

        calm = await rate(GARBAGE_SECONDS)
        sent: list = []
        threads = [threading.Thread(target=blast, args=(port, GARBAGE_SECONDS, 1000, sent)) for port in answer_ports]
        for t in threads:
            t.start()
        stormy = await rate(GARBAGE_SECONDS)
        for t in threads:
            t.join()
        await client.close()
        return calm, stormy, sum(sent), answer_ports

    calm, stormy, sent, ports = asyncio.run(scenario())
    print(f"\ngarbage: {sent} datagrams to {sorted(ports)} in {GARBAGE_SECONDS:g} s; "
          f"viewer {calm:.1f} -> {stormy:.1f} frames/s")
    assert ports and sent >= 0.8 * 1000 * GARBAGE_SECONDS * len(ports)
    assert stormy >= 0.9 * calm, f"{stormy:.1f} frames/s under garbage against {calm:.1f} before"
    assert server.proc.poll() is None
