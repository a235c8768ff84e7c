"""Painted keyframes (issue #30), measured against a known answer, beside the per-frame built-in style.

    python tools/bench_keyframe.py [--size 640x360] [--seconds 4] [--steps 3000] [--runs 3] [--json]

The shot is tools/painted_canvas.py: a textured canvas panning 4 pixels a frame under a painting
(a built-in style applied once to the whole canvas), written as H.264 (x264 CRF 23, with a tone),
so every frame's right answer is known. The artist's keyframe is the painting of the middle frame.
``stylecast render SHOT --keyframe K=painted.png`` trains the shot's network (the first run; its
training time) and renders it; then, alternating with ``stylecast render SHOT --style STYLE``
(the per-frame built-in style, stabilized as ever) and the same with ``--no-stabilize``, each is
rendered ``--runs`` times from the cache (median frames/s). On every output:

- PSNR at the keyframe to the painting (dB);
- SSIM/4 to the answer on the frames 1-2 s from the keyframe;
- temporal error: mean absolute change between consecutive frames (0-255) once the pan is undone;
- texture: high-frequency energy (what a Gaussian blur of sigma 1.5 takes away, squared) as a share
  of the answers'.

Targets (issue #30, 2 cores, 640x360): training <= 5 min; >= 5 frames/s (>= 15 at 320x180); PSNR
>= 25 dB; SSIM/4 >= 0.80; temporal error <= 3 with texture >= 0.85.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_name  # noqa: E402
from painted_canvas import PaintedCanvas  # noqa: E402
from temporal_metrics import ssim_quarter  # noqa: E402

from stream.media.testsrc import write_test_clip  # noqa: E402


def stylecast(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "stream.cli", "render", *args, "--json", "--overwrite"],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"stylecast {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def high_frequency(image: np.ndarray) -> float:
    grey = image.astype(np.float32)
    return float(np.mean((grey - cv2.GaussianBlur(grey, (0, 0), 1.5)) ** 2))


def measure(canvas: PaintedCanvas, frames: list[np.ndarray], key: int, fps: int) -> dict:
    far = [i for i in range(len(frames)) if fps <= abs(i - key) <= 2 * fps]
    answers = [canvas.answer(i) for i in range(len(frames))]
    mse = np.mean((frames[key].astype(np.float64) - answers[key]) ** 2)
    return {"psnr_key_db": round(10 * math.log10(255 ** 2 / max(mse, 1e-9)), 2),
            "ssim4_far": round(float(np.mean([ssim_quarter(frames[i], answers[i]) for i in far])), 3),
            "temporal": round(canvas.temporal_error(frames), 2),
            "texture": round(float(np.mean([high_frequency(f) for f in frames]) /
                                   np.mean([high_frequency(a) for a in answers])), 3)}


def picture(path: Path, canvas: PaintedCanvas, key: int, later: int, painted, builtin) -> None:
    """Two rows: the keyframe (source, the painting, what the network paints) and a frame 1.5 s
    on (source, the known answer, the network's, the per-frame built-in style's)."""
    def label(image, text):
        image = np.ascontiguousarray(image)
        cv2.putText(image, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
        return image

    blank = np.full_like(canvas.source(key), 255)
    top = [label(canvas.source(key), f"frame {key}: source"), label(canvas.answer(key), "the painting (keyframe)"),
           label(painted[key], "painted keyframe network"), blank]
    bottom = [label(canvas.source(later), f"frame {later}: source"), label(canvas.answer(later), "known answer"),
              label(painted[later], "painted keyframe network"), label(builtin[later], "built-in style per frame")]
    Image.fromarray(np.concatenate([np.concatenate(top, 1), np.concatenate(bottom, 1)], 0)).save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--style", default="starry-night", help="the built-in style that paints the canvas")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: stylecast's)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--picture", type=Path, help="write the keyframe and a frame 1.5 s on, side by side, as a PNG")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    count = round(args.seconds * args.fps)
    key = count // 2
    canvas = PaintedCanvas(width, height, count, args.fps, style=args.style)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["STYLECAST_CACHE"] = str(tmp / "cache")  # a fresh cache: the first run trains
        shot, painting = tmp / "shot.mp4", tmp / "painted.png"
        write_test_clip(shot, args.seconds, width, height, args.fps, scene=canvas)
        Image.fromarray(canvas.answer(key)).save(painting)
        steps = ["--keyframe-steps", str(args.steps)] if args.steps else []
        jobs = {"painted keyframe": [str(shot), "-o", str(tmp / "painted.mp4"), "--keyframe", f"{key}={painting}", *steps],
                f"{args.style} per frame, stabilized": [str(shot), "-o", str(tmp / "builtin.mp4"), "--style", args.style],
                f"{args.style} per frame, not stabilized": [str(shot), "-o", str(tmp / "raw.mp4"), "--style", args.style,
                                                             "--no-stabilize"]}
        first = stylecast(*jobs["painted keyframe"])
        training = first["painted"][0]
        rates: dict[str, list[float]] = {name: [] for name in jobs}
        for _ in range(args.runs):
            for name, job in jobs.items():
                rates[name].append(stylecast(*job)["fps"])
        rows, outputs = [], {}
        for name, job in jobs.items():
            outputs[name] = frames_of(Path(job[2]))
            row = {"render": name, "fps": statistics.median(rates[name]), "runs": rates[name]}
            row.update(measure(canvas, outputs[name], key, args.fps))
            rows.append(row)
        if args.picture:
            later = min(count - 1, key + round(1.5 * args.fps))
            picture(args.picture, canvas, key, later, outputs["painted keyframe"],
                    outputs[f"{args.style} per frame, stabilized"])
    result = {"cpu": cpu_name(), "size": args.size, "frames": count, "keyframe": key,
              "training_s": training["seconds"], "training_steps": training["steps"], "loss": training["loss"],
              "rows": rows}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{cpu_name()}, {args.size}, {count} frames, keyframe {key}: trained in {training['seconds']:.0f} s "
          f"({training['steps']} steps, loss {training['loss']})")
    print("| render | frames/s | PSNR at keyframe (dB) | SSIM/4 1-2 s away | temporal error | texture |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['render']} | {r['fps']:.1f} | {r['psnr_key_db']:.1f} | {r['ssim4_far']:.3f} | "
              f"{r['temporal']:.2f} | {r['texture']:.2f} |")


if __name__ == "__main__":
    main()
