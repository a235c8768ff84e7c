"""Benchmark of the WebRTC demo with real headless Chromium viewers on this machine.

1. One viewer, the fake camera at 640x360 30 fps: frames per second the browser decodes (median
   of --runs runs of --seconds each) and the server's own capture-to-send latency.
2. Camera-to-screen latency, measured on the page: ?camera=probe sends a synthetic scene with the
   time drawn in as blocks, the server runs the full network at strength 0 (so the blocks survive),
   and the page reads the time back from every displayed frame.
3. How many viewers one machine holds at >= --target fps each: viewers are added one at a time
   until one of them falls below the target.

The browser shares the machine's cores with the server, so these figures include its cost
(VP8 encode of the camera, decode of the stylized stream).

    python -m bench.serve --runs 3 --seconds 10 [--max-side 640] [--json]

4. ``--clients N``: many viewers at once, N scripted aiortc viewers (tests/support/webrtc_client.py, each
   its own camera and a style of its own) against one server, run with each ``--batch`` mode given
   side by side (``--batch-modes off,on``: serve's batcher, issue #38): frames per second each
   viewer gets (median and worst), the server's p95 capture-to-send latency, and the batches' sizes.
   The clients run in this one process and share the machine with the server.

    python -m bench.serve --clients 8 --seconds 10 --engine cuda --batch-modes off,on [--json]

5. ``--batches``: the torch engine's network alone, N frames in N styles as one batch against the
   same N frames one at a time, side by side (median of --runs), on ``--device`` (cuda, or cpu to
   see whether batching pays on this machine's cores; the CPU engine's ONNX Runtime one at a time
   beside it).

    python -m bench.serve --batches --device cpu --max-side 640 --runs 5 [--json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.support.server_process import ServerProcess
from tests.support.viewer import Viewer, browser_missing, launch, write_camera


def one_viewer(browser, url: str, seconds: float) -> dict:
    viewer = Viewer(browser, url)
    try:
        viewer.received_fps(2)  # warm-up
        fps = viewer.received_fps(seconds)
        server = viewer.value("window.stylecast.server")
        return {"fps": round(fps, 2), "server_p50_ms": server["latency_p50_ms"],
                "server_p95_ms": server["latency_p95_ms"], "stylize_ms": server["engine_ms"],
                "dropped": server["dropped"], "width": viewer.value("window.stylecast.metrics.width")}
    finally:
        viewer.close()


def probe_latency(browser, url: str, seconds: float) -> dict:
    viewer = Viewer(browser, url, "autostart=1&camera=probe")
    try:
        viewer.received_fps(2)
        viewer.page.evaluate("window.stylecast.latency.length = 0")
        fps = viewer.received_fps(seconds)
        samples = sorted(viewer.value("window.stylecast.latency"))
        if not samples:
            return {"fps": round(fps, 2), "samples": 0}
        return {"fps": round(fps, 2), "samples": len(samples),
                "p50_ms": samples[len(samples) // 2], "p95_ms": samples[int(len(samples) * 0.95)]}
    finally:
        viewer.close()


def capacity(browser, url: str, target: float, seconds: float, limit: int) -> dict:
    viewers, rates = [], []
    try:
        for n in range(1, limit + 1):
            viewers.append(Viewer(browser, url))
            time.sleep(2)
            rates = [round(v.received_fps(seconds / n), 1) for v in viewers]  # measured one after another
            print(f"  {n} viewer(s): {rates} frames/s", file=sys.stderr)
            if min(rates) < target:
                return {"held": n - 1, "last_rates": rates}
        return {"held": limit, "last_rates": rates, "note": "stopped at --limit"}
    finally:
        for v in viewers:
            v.close()


async def _many(base: str, token: str | None, n: int, seconds: float, fps: float) -> list[float]:
    from engines import BUILTIN_NAMES
    from tests.support.webrtc_client import Client

    viewers = [Client(base, token, fps=fps, style=BUILTIN_NAMES[i % len(BUILTIN_NAMES)]) for i in range(n)]
    try:
        for viewer in viewers:
            await viewer.connect()
        await asyncio.gather(*(v.wait_frames(5, timeout=120) for v in viewers))
        counts = [len(v.received) for v in viewers]
        await asyncio.sleep(seconds)
        return [(len(v.received) - c) / seconds for v, c in zip(viewers, counts)]
    finally:
        await asyncio.gather(*(v.close() for v in viewers), return_exceptions=True)


def many_clients(n: int, batch: str, engine: str, max_side: int, seconds: float, fps: float) -> dict:
    """N aiortc viewers on one server with ``--batch batch``."""
    with ServerProcess("--max-side", str(max_side), "--max-sessions", str(n), "--offer-rate", "100000",
                       "--engine", engine, "--batch", batch, "--adapt", "off") as server:
        rates = asyncio.run(_many(server.base, server.token, n, seconds, fps))
        stats = server.stats()
    p95 = [v["latency_p95_ms"] for v in stats["viewers"]]
    return {"batch": batch, "viewers": n, "fps_median": round(statistics.median(rates), 2),
            "fps_worst": round(min(rates), 2), "server_p95_ms": max(p95) if p95 else None,
            "batches": stats.get("batches")}


def batches(device: str, max_side: int, runs: int, most: int) -> dict:
    import numpy as np

    from engines import BUILTIN_NAMES, resolve
    from engines.runtimes.cuda import CudaEngine
    from stream.media.decode import output_size
    from stream.media.testsrc import TestScene

    def median_ms(fn):
        fn()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(times), 1)

    engine = CudaEngine("mosaic", device=device, compile=device != "cpu")
    width, height = output_size(1280, 720, max_side)
    scene = TestScene(width, height)
    rows, n = [], 1
    while n <= most:
        styles = [resolve(BUILTIN_NAMES[i % len(BUILTIN_NAMES)]) for i in range(n)]
        frames = np.stack([scene.frame(i / 25) for i in range(n)])
        looks = [engine.batch_key(style)[1] for style in styles]
        networks = [engine.network(style) for style in styles]
        together = median_ms(lambda: engine.run_batch("builtin", frames, looks))
        alone = median_ms(lambda: [net(frame) for net, frame in zip(networks, frames)])
        rows.append({"frames": n, "batch_ms": together, "one_at_a_time_ms": alone, "ratio": round(alone / together, 2)})
        print(rows[-1], file=sys.stderr)
        n *= 2
    result = {"device": device, "width": width, "height": height, "rows": rows}
    if device == "cpu":
        from engines.runtimes.cpu import CpuEngine

        cpu = CpuEngine("mosaic")
        frame = scene.frame(0)
        result["onnx_one_frame_ms"] = median_ms(lambda: cpu.stylize_one(frame))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--target", type=float, default=15.0, help="frames/s each viewer must keep")
    parser.add_argument("--limit", type=int, default=6, help="most viewers to try")
    parser.add_argument("--skip-capacity", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--clients", type=int, help="N aiortc viewers at once (part 4) instead of parts 1-3")
    parser.add_argument("--batch-modes", default="off,on", help="with --clients: serve's --batch modes, side by side")
    parser.add_argument("--engine", default="auto", help="with --clients: serve's --engine")
    parser.add_argument("--fps", type=float, default=30.0, help="with --clients: each viewer's camera rate")
    parser.add_argument("--batches", action="store_true", help="the network in batches against one at a time (part 5)")
    parser.add_argument("--device", default="cuda", help="with --batches: cuda or cpu")
    parser.add_argument("--most", type=int, default=4, help="with --batches: the largest batch")
    args = parser.parse_args()
    if args.batches:
        result = batches(args.device, args.max_side, args.runs, args.most)
        print(json.dumps(result) if args.json else json.dumps(result, indent=2))
        return 0
    if args.clients:
        runs = [many_clients(args.clients, mode, args.engine, args.max_side, args.seconds, args.fps)
                for mode in args.batch_modes.split(",")]
        result = {"max_side": args.max_side, "camera_fps": args.fps, "engine": args.engine, "runs": runs}
        print(json.dumps(result) if args.json else json.dumps(result, indent=2))
        return 0
    if browser_missing():
        sys.exit(f"bench_serve: {browser_missing()}")
    from playwright.sync_api import sync_playwright

    camera = write_camera(Path(tempfile.mkdtemp()) / "scene.y4m")
    result = {"max_side": args.max_side}
    with ServerProcess("--max-side", str(args.max_side), "--max-sessions", str(args.limit + 1),
                       "--offer-rate", "1000") as server, sync_playwright() as p:
        browser = launch(p, camera)
        runs = [one_viewer(browser, server.url, args.seconds) for _ in range(args.runs)]
        print(f"one viewer: {runs}", file=sys.stderr)
        result["one_viewer"] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        probes = [probe_latency(browser, server.url, args.seconds) for _ in range(args.runs)]
        print(f"probe: {probes}", file=sys.stderr)
        result["camera_to_screen"] = {key: statistics.median(r[key] for r in probes) for key in probes[0]}
        if not args.skip_capacity:
            result["viewers_at_target"] = {"target_fps": args.target,
                                           **capacity(browser, server.url, args.target, args.seconds, args.limit)}
        browser.close()
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
