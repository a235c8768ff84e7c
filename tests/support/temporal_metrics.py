"""Temporal stability metrics (Lai et al. 2018), with a flow method the stabilizer does not use.

- E_warp: the previous output warped to the current frame along the *source's* optical flow
  (OpenCV Farneback at full size; the stabilizer uses DIS), occlusions masked by forward-backward
  consistency, mean squared RGB error with RGB in 0..1, averaged over the frame pairs within a
  shot: no flow joins the two sides of a cut, so pairs where the source's own E_warp exceeds
  CUT_EWARP are left out (as Lai et al. measure within shots). The source's own E_warp is the floor.
- fidelity: SSIM (grey, Gaussian window) at a quarter of the size against the per-frame
  stylization; it ignores fine texture but catches ghosting and lost structure.
- strength: mean absolute difference from the source, as a share of the per-frame render's.

    python tests/support/temporal_metrics.py SOURCE.mp4 PERFRAME.mp4 [OTHER.mp4 ...] [--plot ewarp.png]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import av
import cv2
import numpy as np

from engines.quality import ssim_quarter

CUT_EWARP = 0.05  # a source pair this far apart under its own flow is a cut (continuous shots stay below 0.03)


def _farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ga, gb = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (a, b))
    return cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 4, 21, 3, 5, 1.1, 0)


class SourceFlow:
    """Backward flow and non-occlusion mask for each consecutive pair of source frames, computed once."""

    def __init__(self, source: list[np.ndarray]):
        self.pairs = []
        h, w = source[0].shape[:2]
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        for prev, cur in zip(source, source[1:]):
            back, fwd = _farneback(cur, prev), _farneback(prev, cur)
            mx, my = gx + back[..., 0], gy + back[..., 1]
            fwd_at = cv2.remap(fwd, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            err = np.sum((back + fwd_at) ** 2, -1)
            bound = 0.01 * (np.sum(back ** 2, -1) + np.sum(fwd_at ** 2, -1)) + 0.5
            inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
            self.pairs.append((mx, my, (err < bound) & inside))
        self.in_shot = self._errors(source) <= CUT_EWARP

    def _errors(self, frames: list[np.ndarray]) -> np.ndarray:
        out = []
        for (mx, my, mask), prev, cur in zip(self.pairs, frames, frames[1:]):
            warped = cv2.remap(prev, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            d = (cur.astype(np.float32) - warped.astype(np.float32)) / 255.0
            out.append(float(np.sum(d ** 2, -1)[mask].mean()) if mask.any() else 0.0)
        return np.array(out)

    def warping_errors(self, frames: list[np.ndarray], shots_only: bool = True) -> np.ndarray:
        """E_warp per frame pair (RGB 0..1, mean squared, non-occluded pixels), pairs across cuts left out."""
        errors = self._errors(frames)
        return errors[self.in_shot] if shots_only else errors


def summary(flow: SourceFlow, source, frames, reference) -> dict:
    """E_warp, fidelity and strength of ``frames`` against the per-frame ``reference``."""
    ref_strength = np.mean([np.abs(r.astype(int) - s).mean() for r, s in zip(reference, source)])
    return {"e_warp": float(flow.warping_errors(frames).mean()),
            "fidelity": float(np.mean([ssim_quarter(f, r) for f, r in zip(frames, reference)])),
            "strength": float(np.mean([np.abs(f.astype(int) - s).mean() for f, s in zip(frames, source)]) / ref_strength)}


def read_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path)
    ap.add_argument("perframe", type=Path, help="the per-frame (unstabilized) render: the fidelity reference")
    ap.add_argument("others", type=Path, nargs="*")
    ap.add_argument("--plot", type=Path, help="write E_warp over time as a PNG")
    args = ap.parse_args()
    source = read_frames(args.source)
    reference = read_frames(args.perframe)
    h, w = reference[0].shape[:2]
    source = [cv2.resize(s, (w, h), interpolation=cv2.INTER_AREA) for s in source]
    flow = SourceFlow(source)
    rows = {"source (floor)": source, args.perframe.name: reference}
    rows.update({p.name: read_frames(p) for p in args.others})
    base = flow.warping_errors(reference).mean()
    print("| video | E_warp | x per-frame | fidelity (SSIM/4) | strength |")
    print("|---|---|---|---|---|")
    curves = {}
    for name, frames in rows.items():
        if len(frames) != len(source):
            sys.exit(f"{name} has {len(frames)} frames, the source {len(source)}")
        s = summary(flow, source, frames, reference)
        curves[name] = flow.warping_errors(frames)
        print(f"| {name} | {s['e_warp']:.5f} | {s['e_warp'] / base:.2f} | {s['fidelity']:.3f} | {s['strength']:.2f} |")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 3))
        for name, curve in curves.items():
            ax.plot(curve, label=name)  # within-shot pairs only
        ax.set_xlabel("frame")
        ax.set_ylabel("E_warp")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
