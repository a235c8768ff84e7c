"""Two checkouts of stylecast side by side: the same render, live and serve jobs, run alternately
on this machine, median of ``--runs``; the ratio is the second checkout's against the first's.

    git worktree add /tmp/base HEAD~3          # the checkout to compare against
    python -m bench.trees /tmp/base . --runs 3

- render: ``stylecast render --json`` of the built-in scene (5 s, 640x360, stabilized): frames/s.
- live: ``stylecast live --fps 30 --duration 12 --json`` of the built-in scene at 640x360: frames/s
  out, dropped, latency p95 (capture to sink), the network's size at the end (``style_scale``).
- serve: one aiortc viewer (tests/support/webrtc_client.py) sending 640x360 at 25 frames/s for 12 s to
  ``stylecast serve --max-sessions 1``: frames/s received.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.server_process import ServerProcess
from tests.support.webrtc_client import Client

SECONDS = 12.0


def cli(tree: Path, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "stream.cli", *args], cwd=tree, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def render(tree: Path) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        r = cli(tree, "render", "-o", f"{scratch}/out.mp4", "--json")
    return {"render_fps": r["fps"]}


def live(tree: Path) -> dict:
    r = cli(tree, "live", "--fps", "30", "--max-side", "640", "--duration", str(SECONDS), "--json")
    return {"live_fps_out": r["fps_out"], "live_dropped": r["dropped"], "live_p95_ms": r["latency_p95_ms"],
            "live_style_scale": r["style_scale"]}


def serve(tree: Path) -> dict:
    async def call(base: str) -> float:
        client = Client(base, fps=25)
        await client.connect()
        await client.wait_frames(3)
        start_n, started = len(client.received), time.monotonic()
        await asyncio.sleep(SECONDS)
        fps = (len(client.received) - start_n) / (time.monotonic() - started)
        await client.close()
        return fps

    with ServerProcess("--max-sessions", "1", "--offer-rate", "100", cwd=str(tree)) as server:
        return {"serve_fps": round(asyncio.run(call(server.base)), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("first", type=Path)
    ap.add_argument("second", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", default="render,live,serve")
    args = ap.parse_args()
    jobs = [{"render": render, "live": live, "serve": serve}[j] for j in args.jobs.split(",")]
    results: dict[Path, list[dict]] = {args.first: [], args.second: []}
    for run in range(args.runs):
        for tree in (args.first, args.second) if run % 2 == 0 else (args.second, args.first):
            figures = {}
            for job in jobs:
                figures.update(job(tree.resolve()))
            results[tree].append(figures)
            print(f"run {run + 1} {tree}: {figures}", flush=True)
    print(f"\nmedian of {args.runs} runs ({args.first} | {args.second} | ratio)")
    for key in results[args.first][0]:
        a = statistics.median(r[key] for r in results[args.first])
        b = statistics.median(r[key] for r in results[args.second])
        print(f"  {key:<15} {a:>8.2f} | {b:>8.2f} | {b / a if a else float('nan'):.3f}")


if __name__ == "__main__":
    main()
