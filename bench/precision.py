"""The CPU engine's two number formats side by side: the network alone in fp32 (ONNX Runtime) and in
bf16 (torch on AMX), its speed per size and thread count, and how close bf16 stays to fp32 on real
footage (grey SSIM at a quarter of the size, the issue's quality bar, and mean difference in levels).

    python -m bench.precision --runs 5 --json [--picture docs/images/bf16-vs-fp32.png]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import av
import cv2
import numpy as np

from engines.runtimes.cpu import CpuEngine
from tests.support.temporal_metrics import ssim_quarter

from .clips import real_clip


def read_frames(path: Path, count: int, every: int = 1) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return frames[::every][:count]


def ms_per_frame(engine: CpuEngine, frame: np.ndarray, runs: int) -> float:
    """Median of ``runs`` timings of 5 frames each, after two warm-up frames."""
    engine.stylize_one(frame)
    engine.stylize_one(frame)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(5):
            engine.stylize_one(frame)
        times.append((time.perf_counter() - started) / 5 * 1000)
    return statistics.median(times)


def side_by_side(frame: np.ndarray, a: np.ndarray, b: np.ndarray, path: Path) -> None:
    """source | fp32 | bf16 | difference x8 (grey = none), labelled."""
    diff = np.clip(128 + 8 * (b.astype(int) - a.astype(int)), 0, 255).astype(np.uint8)
    tiles = []
    for image, label in ((frame, "source"), (a, "fp32 (ONNX Runtime)"), (b, "bf16 (torch, AMX)"),
                         (diff, "difference x8")):
        tile = cv2.cvtColor(image, cv2.COLOR_RGB2BGR).copy()
        cv2.putText(tile, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
        tiles.append(tile)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.vstack([np.hstack(tiles[:2]), np.hstack(tiles[2:])]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--style", default="starry-night")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--picture", type=Path, help="write source | fp32 | bf16 | difference for one bikes frame")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    bikes = read_frames(real_clip("bikes"), 25, every=10)            # 640x272, across the whole clip
    bunny = read_frames(real_clip("bigbuckbunny"), 12, every=11)     # 1280x720
    quality = {}
    for name, frames in (("bikes 640x272", bikes), ("bigbuckbunny 1280x720", bunny)):
        fp32, bf16 = CpuEngine(args.style, precision="fp32"), CpuEngine(args.style, precision="bf16")
        pairs = [(fp32.stylize_one(f), bf16.stylize_one(f)) for f in frames]
        scores = [ssim_quarter(a, b) for a, b in pairs]
        quality[name] = {"frames": len(frames), "ssim_quarter_mean": round(float(np.mean(scores)), 4),
                         "ssim_quarter_min": round(float(np.min(scores)), 4),
                         "mean_abs_levels": round(float(np.mean([np.abs(a.astype(int) - b).mean() for a, b in pairs])), 2)}
        if args.picture and name.startswith("bikes"):
            side_by_side(frames[12], *pairs[12], args.picture)

    speed = []
    big = cv2.resize(bunny[0], (1280, 720))
    for label, frame in (("640x272", bikes[0]), ("640x360", cv2.resize(big, (640, 360), interpolation=cv2.INTER_AREA)),
                         ("1280x720", big)):
        for threads in (1, 2):
            row = {"size": label, "threads": threads}
            for precision in ("fp32", "bf16"):
                row[f"{precision}_ms"] = round(ms_per_frame(CpuEngine(args.style, threads=threads,
                                                                      precision=precision), frame, args.runs), 1)
            row["speedup"] = round(row["fp32_ms"] / row["bf16_ms"], 2)
            speed.append(row)
    result = {"style": args.style, "quality": quality, "speed": speed}
    if args.json:
        print(json.dumps(result))
    else:
        for name, q in quality.items():
            print(f"{name}: SSIM/4 mean {q['ssim_quarter_mean']} min {q['ssim_quarter_min']}, "
                  f"mean difference {q['mean_abs_levels']} levels")
        for row in speed:
            print(f"{row['size']:>9} {row['threads']} thread(s): fp32 {row['fp32_ms']} ms, bf16 {row['bf16_ms']} ms, "
                  f"{row['speedup']}x")


if __name__ == "__main__":
    main()
