"""Temporal stability on real footage: per-frame vs stabilized vs plain blending (EMA).

Stylizes the clip once per frame, then applies each variant to the same per-frame outputs, and
prints E_warp (x per-frame), fidelity, strength and the stabilizer's time per frame against the
network's. Optionally writes the E_warp plot and a per-frame | stabilized side-by-side picture.

    python -m bench.stability [--clip bikes] [--style 19] [--frames 120] [--still] [--plot P] [--side-by-side P]
    python -m bench.stability --scale 0.42 --stability 0.8 --ema   # live's stabilizer below the frame's size
    python -m bench.stability --stability 0.8 --ema --device cpu    # the device path's stabilizer beside it

With ``--scale S`` the network runs at S times the frame's size (as ``--style-scale`` and live's
governor make it) and the rows are live's quick stabilizer at the frame's size, on the grown
picture (before issue #27), and at the network's size, grown after it (since).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
from engines import open_engine
from engines.mix import Mix
from engines.style_scale import grow, shrink
from stream.temporal.flicker import FlickerMeter
from stream.temporal.stabilize import Stabilizer
from tests.support.temporal_metrics import SourceFlow, read_frames, summary

from .clips import real_clip


def flicker_of(source, frames) -> float | None:
    """The live readout (stream/temporal/flicker.py) over the whole clip, for comparison with E_warp."""
    meter = FlickerMeter()
    for src, out in zip(source, frames):
        meter.update(src, out)
    return meter.overall()["flicker"]


def ema(frames, alpha):
    out, prev = [], None
    for f in frames:
        prev = f.astype(np.float32) if prev is None else alpha * prev + (1 - alpha) * f
        out.append(np.clip(prev + 0.5, 0, 255).astype(np.uint8))
    return out


def live_rows(stabilities, source, perframe, smalls, small_out) -> list:
    """Live's quick stabilizer at each stability: on the grown picture at the frame's size, and at
    the network's size with the picture grown after it; with the stabilizer's time per frame."""
    rows = []
    for s in stabilities:
        for name, at_network_size in (("at the frame's size", False), ("at the network's size", True)):
            stab, out, times = Stabilizer(s, thorough=False), [], []
            for src, full, small, small_sty in zip(source, perframe, smalls, small_out):
                t = time.perf_counter()
                out.append(grow(stab(small, small_sty), src, small, Mix()) if at_network_size else stab(src, full))
                times.append(time.perf_counter() - t)
            rows.append((f"live {s}, {name}", out, statistics.median(times) * 1000))
    return rows


def device_stabilizer(stability: float, device: str):
    """The device path's stabilizer (stream/temporal/stabilize.py's DeviceStabilizer) on numpy frames: each moved to
    ``device`` and back, so its output sits beside the host stabilizer's in the same table."""
    import torch

    from stream.temporal.stabilize import DeviceStabilizer

    stab = DeviceStabilizer(stability, device=device)

    def run(source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return stab(torch.from_numpy(source).to(device), torch.from_numpy(stylized).to(device)).cpu().numpy()

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", default="bikes")
    ap.add_argument("--style", default="19")
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--stability", type=float, nargs="*", default=[0.6, 0.8, 0.9])
    ap.add_argument("--ema", type=float, nargs="*", default=[0.3, 0.5, 0.7])
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--side-by-side", type=Path)
    ap.add_argument("--still", action="store_true",
                    help="a locked-off camera: the clip's first frame again and again, with sensor noise (sigma 2)")
    ap.add_argument("--scale", type=float, help="the network at this times the frame's size: live's stabilizer, "
                                                "at the frame's size and at the network's")
    ap.add_argument("--device", help="also the device path's stabilizer (torch) on this device: cpu, cuda")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    clip = Path(args.clip) if Path(args.clip).is_file() else real_clip(args.clip)
    source = read_frames(clip)[: args.frames]
    if args.still:
        rng, first = np.random.default_rng(0), source[0].astype(np.float32)
        source = [np.clip(first + rng.normal(0, 2, first.shape), 0, 255).astype(np.uint8) for _ in source]
    engine = open_engine("cpu", args.style)
    started = time.perf_counter()
    if args.scale:
        smalls = [shrink(f, args.scale) for f in source]
        small_out = [engine.stylize_one(s) for s in smalls]
        perframe = [grow(o, f, s, Mix()) for o, f, s in zip(small_out, source, smalls)]
    else:
        perframe = [engine.stylize_one(f) for f in source]
    network_ms = (time.perf_counter() - started) / len(source) * 1000
    flow = SourceFlow(source)
    rows = [("source (floor)", source, None), ("per-frame", perframe, None)]
    if args.scale:
        rows += live_rows(args.stability, source, perframe, smalls, small_out)
    for s in ([] if args.scale else args.stability):
        for where in ("host", *(["device"] if args.device else [])):
            stab, times = (Stabilizer(s) if where == "host" else device_stabilizer(s, args.device)), []
            out = []
            for src, sty in zip(source, perframe):
                t = time.perf_counter()
                out.append(stab(src, sty))
                times.append(time.perf_counter() - t)
            name = f"stabilized {s}" if where == "host" else f"stabilized {s}, device path ({args.device})"
            rows.append((name, out, statistics.median(times) * 1000))
    for a in args.ema:
        rows.append((f"EMA {a}", ema(perframe, a), None))
    base = flow.warping_errors(perframe).mean()
    results = []
    for name, frames, ms in rows:
        s = summary(flow, source, frames, perframe)
        s.update(name=name, ratio=s["e_warp"] / base, stabilize_ms=ms, flicker=flicker_of(source, frames))
        results.append(s)
    if args.json:
        print(json.dumps({"clip": clip.name, "frames": len(source), "network_ms": network_ms, "rows": results}))
    else:
        print(f"{clip.name}, {len(source)} frames {source[0].shape[1]}x{source[0].shape[0]}, style {args.style}, "
              f"network {network_ms:.1f} ms/frame (2 threads); E_warp over {int(flow.in_shot.sum())} pairs "
              f"within shots ({int((~flow.in_shot).sum())} pairs across cuts left out)")
        print("| variant | E_warp | x per-frame | flicker readout | fidelity (SSIM/4) | strength | stabilizer ms/frame (% of network) |")
        print("|---|---|---|---|---|---|---|")
        for r in results:
            cost = f"{r['stabilize_ms']:.1f} ({100 * r['stabilize_ms'] / network_ms:.0f}%)" if r["stabilize_ms"] else ""
            print(f"| {r['name']} | {r['e_warp']:.5f} | {r['ratio']:.2f} | {r['flicker']} | {r['fidelity']:.3f} | "
                  f"{r['strength']:.2f} | {cost} |")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 3))
        for name, frames, _ in rows:
            if name.startswith(("source", "per-frame", f"stabilized {args.stability[1] if len(args.stability) > 1 else args.stability[0]}", "EMA 0.5")):
                ax.plot(flow.warping_errors(frames, shots_only=False), label=name)
        ax.set_xlabel("frame")
        ax.set_ylabel("E_warp (log)")
        ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=4)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
    if args.side_by_side:
        stab = dict((n, f) for n, f, _ in rows)[f"stabilized {args.stability[len(args.stability) // 2]}"]
        i = len(source) // 2
        diff = lambda f: cv2.applyColorMap(np.clip(np.abs(f[i].astype(int) - f[i - 1]).mean(-1) * 3, 0, 255)
                                           .astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1]
        def label(img, text):
            img = np.ascontiguousarray(img)
            cv2.rectangle(img, (0, 0), (10 + 8 * len(text), 20), (255, 255, 255), -1)
            cv2.putText(img, text, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
            return img

        name = f"stabilized {args.stability[len(args.stability) // 2]}"
        top = np.hstack([label(perframe[i], "per-frame"), label(stab[i], name)])
        bottom = np.hstack([label(diff(perframe), "change from the previous frame (bright = flicker)"),
                            label(diff(stab), "change from the previous frame, stabilized")])
        cv2.imwrite(str(args.side_by_side), cv2.cvtColor(np.vstack([top, bottom]), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
