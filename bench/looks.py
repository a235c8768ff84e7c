"""Looks over time (issue #16), measured: the shot list's speed, picture styles at full resolution
(texture and speed), and what ``--style-scale`` costs.

    python -m bench.looks [--runs 3] [--minutes 2] [--json]

1. **Shots**: a ``--minutes`` long 1280x720 H.264 clip (Big Buck Bunny's 5.3 s and 4 s of the
   test scene, in turn: a hard cut at every change) listed by ``find_shots``; median wall time of
   ``--runs``, frames/s, and whether every cut was found within a frame (and no other).
2. **Texture**: a heavily blurred 960x540 frame (Gaussian sigma 6: no detail left to restore), the
   picture style and a built-in style run at full size, against the same network run 384 wide and
   scaled up to 960x540 (what the picture path did before); variance of the Laplacian of the
   output's luma, and its ratio.
3. **Speed**: the picture style against the built-in default on the same 640x360 render
   (``--no-stabilize``, so the network is the difference), alternating, median of ``--runs``.
4. **--style-scale**: the built-in render at 0.5, 1 and 2, alternating; frames/s and ratio to 1.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from engines import open_engine
from stream.edit.cuts import find_shots
from stream.media.testsrc import TestScene
from stream.render.job import RenderOptions, render

from .clips import real_clip
from .machine import cpu_name

PAINTING = Path(__file__).resolve().parent.parent / "docs" / "images" / "styles.png"  # a painterly picture in the repo


def long_clip(path: Path, minutes: float) -> list[int]:
    """``minutes`` of 1280x720 H.264 at 25 frames/s: Big Buck Bunny's 132 frames, then 100 of the
    test scene, again and again (each copy of the scene from another seed); the first frame of
    every part, each a hard cut."""
    with av.open(str(real_clip("bigbuckbunny"))) as c:
        bunny = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    total, cuts, parts = round(minutes * 60 * 25), [], 0
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "23"}
        index = 0
        while index < total:
            scene = TestScene(1280, 720, seed=parts) if parts % 2 else None
            pictures = bunny if scene is None else [scene.frame(i / 25) for i in range(100)]
            cuts.append(index)
            for picture in pictures[:total - index]:
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                frame.pts = index
                out.mux(video.encode(frame))
                index += 1
            parts += 1
        out.mux(video.encode())
    return cuts


def bench_shots(runs: int, minutes: float, folder: Path) -> dict:
    path = folder / "long.mp4"
    joins = long_clip(path, minutes)
    times, found = [], None
    for _ in range(runs):
        started = time.perf_counter()
        found = find_shots(path)
        times.append(time.perf_counter() - started)
    starts = found.starts()
    hit = all(any(abs(s - j) <= 1 for s in starts) for j in joins)
    return {"frames": found.frames, "seconds_of_video": round(found.frames / float(found.rate), 1),
            "wall_s": round(statistics.median(times), 2), "frames_per_s": round(found.frames / statistics.median(times)),
            "cuts": len(joins), "shots_found": len(starts), "every_cut_found_within_1_frame": hit}


def sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def bench_texture() -> dict:
    with av.open(str(real_clip("bigbuckbunny"))) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24", width=960, height=540)
    blurred = cv2.GaussianBlur(frame, (0, 0), 6)
    rows = {}
    for label, style in (("picture", str(PAINTING)), ("built-in", "starry-night")):
        engine = open_engine("cpu", style, precision="fp32")
        full = engine.stylize_one(blurred)
        small = cv2.resize(blurred, (384, 216), interpolation=cv2.INTER_AREA)
        scaled = cv2.resize(engine.stylize_one(small), (960, 540), interpolation=cv2.INTER_CUBIC)
        rows[label] = {"full_size": round(sharpness(full), 1), "384_wide_scaled_up": round(sharpness(scaled), 1),
                       "ratio": round(sharpness(full) / sharpness(scaled), 1)}
    return rows


def _render_fps(clip: Path, out: Path, **kw) -> float:
    result = render(RenderOptions(input=clip, output=out, overwrite=True, stability=0.0, max_side=640,
                                  engine="cpu", **kw))
    return result.fps


def bench_speed(runs: int, folder: Path) -> dict:
    clip = real_clip("bigbuckbunny")  # 1280x720 -> 640x360
    fps = {"built-in": [], "picture": []}
    for _ in range(runs):
        fps["built-in"].append(_render_fps(clip, folder / "b.mp4"))
        fps["picture"].append(_render_fps(clip, folder / "p.mp4", style=str(PAINTING)))
    built, picture = statistics.median(fps["built-in"]), statistics.median(fps["picture"])
    return {"built_in_fps": round(built, 2), "picture_fps": round(picture, 2), "ratio": round(picture / built, 2)}


def bench_scale(runs: int, folder: Path) -> dict:
    clip = real_clip("bigbuckbunny")
    fps = {s: [] for s in (0.5, 1.0, 2.0)}
    for _ in range(runs):
        for s in fps:
            fps[s].append(_render_fps(clip, folder / "s.mp4", style_scale=s))
    one = statistics.median(fps[1.0])
    return {str(s): {"fps": round(statistics.median(v), 2), "ratio": round(statistics.median(v) / one, 2)}
            for s, v in fps.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = {"cpu": cpu_name(), "shots": bench_shots(args.runs, args.minutes, folder),
                  "texture": bench_texture(), "speed_640x360": bench_speed(args.runs, folder),
                  "style_scale_640x360": bench_scale(args.runs, folder)}
    print(json.dumps(report, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
