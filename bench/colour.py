"""Colour on the device path against the host's swscale, on real footage: each frame's 4:2:0 into RGB
by stream/media/colour.py's DeviceColour (torch, here on the CPU) beside swscale's RGB (stream/media/colour.py),
and RGB back into 4:2:0 beside swscale's; the largest and the mean difference, in levels.

    python -m bench.colour [--clip bikes --clip bigbuckbunny] [--frames 40] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from stream.core.frame import Frame
from stream.media.decode import FileDecoder

from .clips import real_clip


def measure(clip: Path, frames: int, device: str) -> dict:
    import torch

    from stream.media.colour import DeviceColour

    with FileDecoder(clip, yuv=True) as raw, FileDecoder(clip) as host:
        planes = [f for f in raw if isinstance(f, Frame)][:frames]
        rgb = [f.image for f in host if isinstance(f, Frame)][:frames]
        colour = raw.colour
    convert = DeviceColour(colour, device)
    into, out = [], []
    for frame, expected in zip(planes, rgb):
        got = convert.to_rgb(torch.from_numpy(frame.yuv.data).to(device), frame.yuv.width, frame.yuv.height).cpu()
        into.append(np.abs(got.numpy().astype(int) - expected))
        back = convert.to_yuv420(torch.from_numpy(expected).to(device)).cpu().numpy()
        out.append(np.abs(back.astype(int) - colour.from_rgb(expected, "yuv420p").to_ndarray()))
    return {"clip": clip.name, "size": f"{rgb[0].shape[1]}x{rgb[0].shape[0]}", "frames": len(into),
            "to_rgb_max": int(max(d.max() for d in into)), "to_rgb_mean": round(float(np.mean([d.mean() for d in into])), 4),
            "to_420_max": int(max(d.max() for d in out)), "to_420_mean": round(float(np.mean([d.mean() for d in out])), 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", action="append", default=[])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    for name in args.clip or ["bikes", "bigbuckbunny"]:
        clip = Path(name) if Path(name).is_file() else real_clip(name)
        print(json.dumps(measure(clip, args.frames, args.device)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
