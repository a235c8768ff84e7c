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

    python tools/bench_serve.py --runs 3 --seconds 10 [--max-side 640] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from server_process import ServerProcess  # noqa: E402
from viewer import Viewer, browser_missing, launch, write_camera  # noqa: E402


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--target", type=float, default=15.0, help="frames/s each viewer must keep")
    parser.add_argument("--limit", type=int, default=6, help="most viewers to try")
    parser.add_argument("--skip-capacity", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
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
