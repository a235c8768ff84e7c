"""Many viewers, one network (issue #38): serve's batcher gathers every viewer's frame into one batch,
each frame in its viewer's own style. The GPU engine's code runs here on the CPU (device "cpu"), so
what is checked is what a GPU runs; only its speed waits for one."""
from __future__ import annotations

import asyncio
import threading
import time

import aiohttp
import numpy as np
import pytest
from support.webrtc_client import Client

from engines.runtimes.cuda import CudaEngine
from stream.media.testsrc import TestScene
from stream.serve.batcher import Batcher
from stream.serve.options import ServeOptions
from stream.serve.server import StyleServer
from stream.styling.controls import Controls
from stream.styling.stylist import FrameDropped, Stylist

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

W, H = 160, 96


@pytest.fixture(scope="module")
def engine():
    return CudaEngine("mosaic", device="cpu", compile=False)


def viewers_in_threads(stylists: list[Stylist], frames: list[np.ndarray]) -> list[list[np.ndarray]]:
    """Each stylist in a thread of its own (as each viewer's executor thread), all frames in order."""
    out = [[] for _ in stylists]

    def run(i):
        for frame in frames:
            out[i].append(stylists[i].stylize(frame))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stylists))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def test_viewers_in_different_styles_share_a_batch_and_get_what_they_would_alone(engine):
    looks = [Controls(style="mosaic"), Controls(style="cubist", strength=0.6),
             Controls(style="3:0.5,mosaic:0.5", keep_colors=True)]
    batcher = Batcher(engine, wait_ms=500)  # long enough that the three always meet
    together = [Stylist(engine, c, networks=batcher.networks(i)) for i, c in enumerate(looks)]
    frames = [TestScene(W, H, seed=3).frame(t / 10) for t in range(4)]
    got = viewers_in_threads(together, frames)
    assert dict(batcher.sizes) == {3: len(frames)}  # every frame went in a batch of all three
    for controls, theirs in zip(looks, got):
        alone = Stylist(engine, controls)
        for frame, image in zip(frames, theirs):
            assert np.abs(image.astype(int) - alone.stylize(frame)).max() <= 1
    mosaic, cubist = got[0][0], got[1][0]
    assert np.abs(mosaic.astype(int) - cubist).mean() > 10  # the styles really differ
    batcher.close()


def test_a_viewer_leaving_mid_batch_is_let_go_and_no_batch_waits_for_it(engine):
    batcher = Batcher(engine, wait_ms=3000)
    staying, leaving = (Stylist(engine, Controls(style=s), networks=batcher.networks(s)) for s in ("mosaic", "cubist"))
    frame = TestScene(W, H).frame(0.0)
    outcome = {}

    def leaver():
        try:
            leaving.stylize(frame)
            outcome["leaving"] = "stylized"
        except FrameDropped:
            outcome["leaving"] = "let go"

    t = threading.Thread(target=leaver)
    t.start()
    time.sleep(0.3)          # its frame waits for the other viewer's (wait 3 s)
    batcher.leave("cubist")  # the viewer goes
    t.join(2)
    assert outcome == {"leaving": "let go"}
    started = time.monotonic()
    image = staying.stylize(frame)  # no batch waits for the viewer who left: it goes at once, alone
    assert time.monotonic() - started < 2.0 and dict(batcher.sizes) == {1: 1}
    assert np.abs(image.astype(int) - Stylist(engine, Controls(style="mosaic")).stylize(frame)).max() <= 1
    with pytest.raises(FrameDropped):  # and its place is gone for good
        leaving.stylize(frame)
    batcher.close()


def test_a_frame_the_network_cannot_reach_in_time_is_let_go(engine):
    batcher = Batcher(engine, wait_ms=2000, stale_ms=100)
    a = Stylist(engine, Controls(style="mosaic"), networks=batcher.networks("a"))
    batcher.networks("b")  # a second viewer who never sends: the batch would wait for it
    with pytest.raises(FrameDropped):
        a.stylize(TestScene(W, H).frame(0.0))
    assert batcher.stale == 1 and not batcher.sizes
    batcher.close()


def test_two_webrtc_viewers_are_served_in_one_batch(engine):
    """A real server (aiohttp, aiortc) with --batch on and two aiortc viewers in different styles."""
    async def story():
        opts = ServeOptions(port=0, max_sessions=2, max_side=W, batch="on", batch_wait_ms=80,
                            adapt=False)  # cameras keep their own time: the frames of two wait for each other
        server = StyleServer(opts, engine=engine)
        stop, ready = asyncio.Event(), asyncio.get_running_loop().create_future()
        running = asyncio.ensure_future(server.run(stop, ready=ready.set_result))
        base = (await asyncio.wait_for(ready, 60)).split("?")[0].rstrip("/")
        viewers = [Client(base, fps=12, style=s) for s in ("mosaic", "cubist")]
        try:
            for v in viewers:
                await v.connect()
            for v in viewers:
                await v.wait_frames(15, timeout=90)
            async with aiohttp.ClientSession() as http, http.get(f"{base}/api/stats") as reply:
                stats = await reply.json()
            pictures = [np.mean([f.to_ndarray(format="rgb24").astype(float) for f in v.received[-5:]], axis=0)
                        for v in viewers]
        finally:
            for v in viewers:
                await v.close()
            stop.set()
            await running
        return stats, pictures

    stats, pictures = asyncio.run(story())
    batches = stats["batches"]
    assert batches["sizes"].get("2", 0) >= 5, batches  # the two viewers' frames met in batches
    assert np.abs(pictures[0] - pictures[1]).mean() > 8  # and each came back in its own style
    assert {v["style"] for v in stats["viewers"]} == {"mosaic", "cubist"}


def test_batch_on_with_an_engine_that_runs_frames_alone_is_one_clear_error():
    from conftest import one_error_line, run_cli

    code, _, err = run_cli("serve", "--batch", "on", "--engine", "cpu", "--port", "0")
    assert code == 2
    assert "--batch on needs an engine that runs viewers' frames together" in one_error_line(err)


def test_admission_batched_comes_from_the_network_timed_in_batches_and_the_cores_share(engine):
    from stream.serve.capacity import BATCH_BUDGET_MS, TARGET_FPS, measure

    found = measure(engine, W, 2, batched=True)
    assert found.batch_ms and 1 in found.batch_ms and all(ms > 0 for ms in found.batch_ms.values())
    network = max([n * 1000 / ms / TARGET_FPS for n, ms in found.batch_ms.items() if ms <= BATCH_BUDGET_MS]
                  or [1000 / found.batch_ms[1] / TARGET_FPS])
    cores = 2 * 1000 / found.frame_ms / TARGET_FPS  # decode, stabilize, encode: no network in frame_ms
    assert abs(found.viewers - min(network, cores)) <= 0.02 * found.viewers
    assert found.limit == ("network" if network < cores else "cpu")
    assert f"limited by {'the network' if found.limit == 'network' else 'the CPU cores'}" in found.line()
