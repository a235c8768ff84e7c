"""The GPU engine and frame path, measured (issue #36), median of ``--runs`` runs, side by side:

- ``networks``: the style network alone, fp16, channels-last, one CUDA graph replayed per batch
  with a fresh frame copied in each time, in three forms: the engine before (F.instance_norm on
  float32, nearest 2x then a 3x3 convolution), the fast form eager (one var_mean and one
  multiply-add per norm, each enlargement inside its convolution), and the fast form compiled by
  torch.compile (inductor, default mode); at 1080p batch 1 and 8, and 640x360 batch 32.
- ``renders``: whole ``stylecast render`` commands on 1080p clips: ``--engine cuda`` on the device
  path (the default), stabilized and not, and on the host path as before; beside x264 alone on the
  same frames (preset faster, CRF 18: what a render writes) and decode alone.
- ``live``: ``stylecast live --engine cuda`` from a 1080p30 UDP publisher to a receiver
  (tools/bench_live.py): frames/s and latency.

    python tools/bench_gpu.py networks renders live --runs 3 --clip BBB_1080P.mp4 --json

Prints one JSON object (``--json``) or a table per part.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from engines.registry import engine_status  # noqa: E402
from stream.media.testsrc import TestScene, write_test_clip  # noqa: E402

CASES = (("1080p batch 1", 1920, 1080, 1), ("1080p batch 8", 1920, 1080, 8), ("640x360 batch 32", 640, 360, 32))
GFLOP_1080P = 80.5  # the style network's work per 1080p frame


def network_fps(form: str, w: int, h: int, n: int, frames: int, device: str = "cuda", style: str = "starry-night") -> dict:
    """Frames/s of one form of the network on fresh frames, replayed as one CUDA graph per batch
    (on the CPU, ``--dry``: fp32, called as it is)."""
    import numpy as np
    import torch

    from engines.catalog import resolve
    from engines.networks.folded_net import FoldedNet
    from engines.networks.style_layers import style_layers

    cuda = device == "cuda"
    dtype = torch.float16 if cuda else torch.float32
    net = FoldedNet(style_layers(resolve(style), "cuda"), fast=form != "before")
    run = net.to(device, dtype, memory_format=torch.channels_last).eval()
    compile_s, graphed = None, False
    scene = TestScene(w, h)
    pictures = torch.from_numpy(np.stack([scene.frame(0.04 * i) for i in range(8)])).to(device)
    source = pictures.permute(0, 3, 1, 2).to(dtype).div_(255).contiguous(memory_format=torch.channels_last)
    x = torch.empty((n, 3, h, w), device=device, dtype=dtype).contiguous(memory_format=torch.channels_last)
    x.copy_(source[torch.arange(n) % len(source)])
    with torch.inference_mode():
        if form == "compiled":
            started = time.perf_counter()
            run = torch.compile(run, dynamic=False)
            run(x)
            if cuda:
                torch.cuda.synchronize()
            compile_s = round(time.perf_counter() - started, 1)
        step = run
        if cuda:
            try:
                graph = _graph(run, x)
                step, graphed = (lambda _: graph.replay()), True
            except RuntimeError as exc:  # measured without a graph, and said so
                print(f"network {form}: no CUDA graph ({str(exc).splitlines()[0][:120]})", file=sys.stderr)
        step(x)
        if cuda:
            torch.cuda.synchronize()
        started = time.perf_counter()
        for i in range(max(1, frames // n)):
            x.copy_(source[(torch.arange(n) + i) % len(source)])  # fresh frames each time
            step(x)
        if cuda:
            torch.cuda.synchronize()
    fps = max(1, frames // n) * n / (time.perf_counter() - started)
    return {"fps": round(fps, 1), "ms_per_frame": round(1000 / fps, 3), "compile_s": compile_s, "graph": graphed,
            "tflops": round(fps * GFLOP_1080P * (w * h) / (1920 * 1080) / 1000, 2)}


def _graph(run, x):
    import torch

    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        for _ in range(3):
            run(x)
    stream.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):
        run(x)
    return graph


def networks(runs: int, frames: int, dry: bool = False) -> dict:
    out = {}
    cases = (("160x96 batch 1", 160, 96, 1), ("160x96 batch 4", 160, 96, 4)) if dry else CASES
    for form in ("before", "fast", "compiled"):
        for label, w, h, n in cases:
            rows = [network_fps(form, w, h, n, frames, "cpu" if dry else "cuda")
                    for _ in range(runs if form != "compiled" else 1)]
            best = sorted(rows, key=lambda r: r["fps"])[len(rows) // 2]
            out[f"{form} / {label}"] = best
            print(f"network {form:9s} {label:17s} {best['fps']:8.1f} frames/s", file=sys.stderr, flush=True)
    return out


def stylecast(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "stream.cli", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        raise SystemExit(f"stylecast {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
    return json.loads(done.stdout)


def codec_alone(clip: Path) -> dict:
    """Frames/s of decoding the clip alone, and of x264 alone on its decoded frames (preset faster, CRF 18)."""
    import av

    started = time.perf_counter()
    with av.open(str(clip)) as c:
        c.streams.video[0].thread_type = "AUTO"
        frames = [f for f in c.decode(video=0)]
    decode = len(frames) / (time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as scratch, av.open(f"{scratch}/x.mp4", "w") as out:
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
        video.options = {"crf": "18", "preset": "faster"}
        started = time.perf_counter()
        for i, f in enumerate(frames):
            f = f.reformat(format="yuv420p")
            f.pts = i
            out.mux(video.encode(f))
        out.mux(video.encode())
        x264 = len(frames) / (time.perf_counter() - started)
    return {"decode_fps": round(decode, 1), "x264_fps": round(x264, 1), "frames": len(frames)}


RENDERS = {
    "cuda, device path, stabilized": ("--engine", "cuda"),
    "cuda, device path, not stabilized": ("--engine", "cuda", "--no-stabilize"),
    "cuda, host path, stabilized": ("--engine", "cuda", "--frame-path", "host"),
    "cuda, host path, not stabilized": ("--engine", "cuda", "--frame-path", "host", "--no-stabilize"),
}


def renders(clips: list[Path], runs: int, dry: bool = False) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as scratch:
        for clip in clips:
            alone = [codec_alone(clip) for _ in range(runs)]
            row = {"decode_fps": statistics.median(a["decode_fps"] for a in alone),
                   "x264_fps": statistics.median(a["x264_fps"] for a in alone), "frames": alone[0]["frames"]}
            for name, args in RENDERS.items():
                if dry:  # the same commands on the CPU: the device path in torch there
                    args = tuple(a.replace("cuda", "cpu") for a in args) + \
                        (() if "--frame-path" in args else ("--frame-path", "device"))
                fps = [stylecast("render", str(clip), "-o", f"{scratch}/out.mp4", "--overwrite", *args)["fps"]
                       for _ in range(runs)]
                row[name] = {"fps": statistics.median(fps), "x_x264": round(statistics.median(fps) / row["x264_fps"], 2)}
                print(f"render {clip.name} {name}: {row[name]}", file=sys.stderr, flush=True)
            out[clip.name] = row
    return out


def live(seconds: float, dry: bool = False) -> dict:
    size, extra = (("320", "180"), "--engine cpu --frame-path device") if dry else (("1920", "1080"), "--engine cuda")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "bench_live.py"), "--width", size[0], "--height",
                           size[1], "--fps", "30", "--seconds", str(seconds), "--extra", extra],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        return {"error": done.stderr.strip()[-400:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def upscaled(clip: Path, folder: Path, width: int = 1920, height: int = 1080) -> Path:
    """``clip`` scaled to ``width`` x ``height`` (bicubic; x264 ultrafast, CRF 16): real footage at 1080p."""
    import av

    path = folder / f"{clip.stem}-{height}p.mp4"
    if path.exists():
        return path
    with av.open(str(clip)) as src, av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=src.streams.video[0].average_rate or 25)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "16", "preset": "ultrafast"}
        for i, frame in enumerate(src.decode(video=0)):
            big = frame.reformat(width=width, height=height, format="yuv420p", interpolation="BICUBIC")
            big.pts = i
            out.mux(video.encode(big))
        out.mux(video.encode())
    return path


def test_scene(folder: Path, dry: bool = False) -> Path:
    """The built-in scene at 1080p (at 320x180 for ``--dry``), with its tone."""
    path = folder / ("testscene-180p.mp4" if dry else "testscene-1080p.mp4")
    if not path.exists():
        write_test_clip(path, seconds=5.0, width=320 if dry else 1920, height=180 if dry else 1080)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", default=["networks"], choices=("networks", "renders", "live"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--frames", type=int, default=256, help="frames per network timing")
    ap.add_argument("--clip", type=Path, action="append", default=[], help="a clip to render, scaled to 1080p first "
                                                                         "(repeatable; the 1080p test scene is always one)")
    ap.add_argument("--live-seconds", type=float, default=15.0)
    ap.add_argument("--dry", action="store_true", help="no GPU: every part on the CPU, small (the torch device "
                                                         "path there), to try the bench itself")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.dry and not engine_status("cuda").available:
        sys.exit(f"bench_gpu: {engine_status('cuda').reason}")
    import torch

    result = {"gpu": "none (--dry, on the CPU)" if args.dry else torch.cuda.get_device_name(), "torch": torch.__version__}
    if "networks" in args.parts:
        result["networks"] = networks(args.runs, args.frames, args.dry)
    if "renders" in args.parts:
        scratch = Path(tempfile.gettempdir())
        clips = [upscaled(c, scratch, *((320, 180) if args.dry else (1920, 1080))) for c in args.clip]
        result["renders"] = renders([*clips, test_scene(scratch, args.dry)], args.runs, args.dry)
    if "live" in args.parts:
        result["live"] = live(args.live_seconds, args.dry)
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
