"""Holding the frame rate (issue #18), measured: ``stylecast live`` on the 640x360 test scene at
``--fps``, with the network's size adapting and fixed, one after the other.

    python -m bench.adapt [--fps 30] [--seconds 40] [--json]

Reported for each: frames in and out per second over the whole run and over its last half (after
settling), frames dropped, and the size the network settled at (``style_scale``).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.request

from .machine import cpu_name

PORT = 8791


def run(fps: float, seconds: float, adapt: str) -> dict:
    proc = subprocess.Popen([sys.executable, "-m", "stream.cli", "live", "--fps", str(fps), "--duration", str(seconds),
                             "--max-side", "640", "--adapt", adapt, "--json", "--control", f"127.0.0.1:{PORT}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    half: dict = {}

    def sample_half_way() -> None:  # the counts half way through, to measure the settled second half
        time.sleep(seconds / 2 + 2)
        try:
            half.update(json.load(urllib.request.urlopen(f"http://127.0.0.1:{PORT}/stats", timeout=5)))
        except OSError:
            pass
    sampler = threading.Thread(target=sample_half_way)
    sampler.start()
    out, err = proc.communicate(timeout=seconds + 120)
    sampler.join()
    if proc.returncode != 0:
        sys.exit(err)
    end = json.loads(out)
    row = {k: end[k] for k in ("fps_in", "fps_out", "dropped", "style_scale")}
    if half:
        span = end["seconds"] - half["seconds"]
        row["second_half_fps_in"] = round((end["frames_in"] - half["frames_in"]) / span, 2)
        row["second_half_fps_out"] = round((end["frames_out"] - half["frames_out"]) / span, 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = {"cpu": cpu_name(), "fps": args.fps, "adapt on": run(args.fps, args.seconds, "on"),
              "adapt off": run(args.fps, args.seconds, "off")}
    print(json.dumps(report, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
