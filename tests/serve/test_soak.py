"""Connect -> stream -> close, again and again, against one server: after every cycle the peer
connections, tasks and open file descriptors are back to where they were and the session objects are
freed; over the long run (60 cycles with ``python -m pytest -m slow``; STYLECAST_SOAK_CYCLES, 200 in
docs/reliability.md) resident memory stays flat from cycle 20 on."""
from __future__ import annotations

import asyncio
import os
import time

import pytest
from conftest import SMALL_SERVER, serve_fixture
from support.webrtc_client import Client

CYCLES = int(os.environ.get("STYLECAST_SOAK_CYCLES", "4"))
STREAM_S = float(os.environ.get("STYLECAST_SOAK_STREAM_S", "1"))

server = serve_fixture(*SMALL_SERVER)


def settled(server, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        stats = server.stats()
        released = stats["peer_connections"] == stats["sessions"] == stats["sessions_in_memory"] == 0
        if released or time.monotonic() > deadline:
            return stats


@pytest.mark.parametrize("cycles", [CYCLES, pytest.param(60, marks=pytest.mark.slow)])
def test_cycles_leave_nothing_behind(server, cycles):
    async def cycle():
        client = Client(server.base, fps=15)
        await client.connect()
        await client.wait_frames(3)
        await asyncio.sleep(STREAM_S)
        frames = len(client.received)
        await client.close()
        return frames

    baseline = settled(server)
    memory = []
    for n in range(1, cycles + 1):
        frames = asyncio.run(cycle())
        stats = settled(server)
        assert frames >= 3, f"cycle {n}: {frames} frames"
        assert stats["peer_connections"] == 0 and stats["sessions"] == 0, (n, stats)
        # freed at once, with its frames and codec state, not whenever the collector next looks
        assert stats["sessions_in_memory"] == 0, (n, stats)
        assert stats["tasks"] <= baseline["tasks"], (n, baseline, stats)
        assert stats["fds"] <= baseline["fds"] + 2, (n, baseline, stats)  # +2: this request's HTTP connection
        memory.append(stats["rss_mb"])
    if cycles >= 40:
        growth = (memory[-1] - memory[19]) / memory[19]
        curve = ", ".join(f"{memory[n - 1]:.0f} ({n})" for n in sorted({1, 20, *range(50, cycles, 50), cycles}))
        print(f"\nsoak: {cycles} cycles of {STREAM_S:g} s; resident memory, MiB (after cycle): {curve}; "
              f"{growth:+.1%} from cycle 20")
        assert growth < 0.05
