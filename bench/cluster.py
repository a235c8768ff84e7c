"""A render on Ray (issue #17), measured against the same render on one process, side by side.

    python -m bench.cluster [--runs 2] [--seconds 30] [--width 320] [--json]

The clip is the test scene with a hard cut every 6 s (``--seconds`` long, 25 frames/s, with sound).
Each run renders it three ways, alternating: plainly; with ``--cluster local:2`` (Ray started in
the process, two workers); and on a real two-node cluster on loopback (``ray start --head`` and a
second ``ray start``, one core each: tests/support/ray_cluster.py). Reported: median wall time, the ratio
to the plain render, chunks and workers, and the seams: the lowest SSIM (at quarter size) of any
frame of the cluster's output against the plain render's.

On one machine the workers share its cores with each other and with Ray, so this measures what
chunking costs (Ray's start, each worker loading its network, each chunk's warm-up), not what a
farm gains: that is the plain figure divided by the number of machines, plus this cost.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

from stream.media.testsrc import write_test_clip
from tests.support.ray_cluster import CLUSTER_ENV, LoopbackRayCluster
from tests.support.temporal_metrics import ssim_quarter

from .machine import cpu_name


def pictures(path: Path) -> list:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def timed_render(clip: Path, out: Path, *extra: str) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "stream.cli", "render", str(clip), "-o", str(out), "--overwrite",
                           "--json", *extra], capture_output=True, text=True, env={**os.environ, **CLUSTER_ENV})
    if done.returncode != 0:
        sys.exit(f"render failed: {done.stderr}")
    return time.perf_counter() - started, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LoopbackRayCluster(cpus_per_node=1) as cluster:
        folder = Path(tmp)
        clip = folder / "clip.mp4"
        cuts = tuple(float(t) for t in range(6, int(args.seconds), 6))
        write_test_clip(clip, seconds=args.seconds, width=args.width, height=args.width * 9 // 16 // 2 * 2, cuts=cuts)
        ways = {"plain": (), "local:2": ("--cluster", "local:2", "--chunk-seconds", "5"),
                "two nodes": ("--cluster", cluster.address, "--chunk-seconds", "5")}
        walls, summaries = {w: [] for w in ways}, {}
        for _ in range(args.runs):
            for way, extra in ways.items():
                wall, summaries[way] = timed_render(clip, folder / f"{way.replace(' ', '_')}.mp4", *extra)
                walls[way].append(wall)
        plain = pictures(folder / "plain.mp4")
        report = {"cpu": cpu_name(), "frames": summaries["plain"]["frames"], "size": args.width, "ways": {}}
        for way in ways:
            row = {"wall_s": round(statistics.median(walls[way]), 2),
                   "ratio_to_plain": round(statistics.median(walls["plain"]) / statistics.median(walls[way]), 2)}
            if way != "plain":
                out = pictures(folder / f"{way.replace(' ', '_')}.mp4")
                row.update(chunks=summaries[way]["chunks"], workers=summaries[way]["workers"],
                           seams_min_ssim=round(min(ssim_quarter(a, b) for a, b in zip(out, plain)), 4),
                           frames=len(out))
            report["ways"][way] = row
    print(json.dumps(report, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
