"""The GPU engine and frame path, measured (issues #36, #45), median of ``--runs`` runs, side by side.
Each case prints one JSON line the moment it is done (``{"part", "case", ...}``, flushed), and a
case that fails prints its error and the others go on: a check stopped by its time limit keeps
every figure it had (tools/gpu_check.sh).

- ``networks``: the style network alone, fp16, channels-last, one CUDA graph replayed per batch
  with a fresh frame copied in each time, in three forms: the engine before (F.instance_norm on
  float32, nearest 2x then a 3x3 convolution), the fast form eager (one var_mean and one
  multiply-add per norm, each enlargement inside its convolution), and the fast form compiled by
  torch.compile (inductor, default mode); at 1080p batch 1 and 8, and 640x360 batch 32.
- ``renders``: whole ``stylecast render`` commands on 1080p clips: ``--engine cuda`` on the device
  path (the default), stabilized and not, and on the host path; beside x264 alone on the same
  frames (preset faster, CRF 18: what a render writes) and decode alone. Each is rendered once
  untimed first, so its network's compiled form is in the inductor cache (TORCHINDUCTOR_CACHE_DIR,
  one for the whole check) and comes in seconds into the timed runs, which say which form stylized
  how many frames (``network_forms``).
- ``live``: ``stylecast live --engine cuda`` from a 1080p30 UDP publisher to a receiver
  (bench/live.py): frames/s and latency.
- ``serve``: the batched network at 640x360 as serve's start-up times it (admission), and its
  batches against one frame at a time (bench/serve.py --batches).

    python -m bench.gpu networks renders live serve --runs 3 --clip BBB.mp4
    python -m bench.gpu networks renders live serve --dry      # on the CPU, tiny: the bench itself tried
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from engines.registry import engine_status
from stream.media.testsrc import TestScene, write_test_clip

CASES = (("1080p batch 1", 1920, 1080, 1), ("1080p batch 8", 1920, 1080, 8), ("640x360 batch 32", 640, 360, 32))
DRY_CASES = (("160x96 batch 1", 160, 96, 1), ("160x96 batch 4", 160, 96, 4))
GFLOP_1080P = 80.5  # the style network's work per 1080p frame


def emit(part: str, case: str, **figures) -> dict:
    """One case's figures, as one JSON line on stdout, now."""
    row = {"part": part, "case": case, **figures}
    print(json.dumps(row), flush=True)
    return row


def guarded(part: str, case: str, work) -> dict:
    """``work()``'s figures emitted; its error emitted instead where it fails (the next case goes on)."""
    try:
        return emit(part, case, **work())
    except Exception as exc:  # a failed case is a line of its own, never the end of the check
        return emit(part, case, error=f"{type(exc).__name__}: {str(exc).strip()[-400:]}")


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
                torch.cuda.current_stream().synchronize()
            compile_s = round(time.perf_counter() - started, 1)
        step = run
        if cuda:
            graph = _graph(run, x)
            step, graphed = (lambda _: graph.replay()), True
        step(x)
        if cuda:
            torch.cuda.current_stream().synchronize()
        started = time.perf_counter()
        for i in range(max(1, frames // n)):
            x.copy_(source[(torch.arange(n) + i) % len(source)])  # fresh frames each time
            step(x)
        if cuda:
            torch.cuda.current_stream().synchronize()
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


def networks(runs: int, frames: int, dry: bool = False) -> None:
    forms = ("before", "fast") if dry else ("before", "fast", "compiled")  # a CPU compile takes the dry run's time
    for form in forms:
        for label, w, h, n in DRY_CASES if dry else CASES:
            def one(w=w, h=h, n=n, form=form):
                rows = [network_fps(form, w, h, n, frames, "cpu" if dry else "cuda")
                        for _ in range(runs if form != "compiled" else 1)]
                return sorted(rows, key=lambda r: r["fps"])[len(rows) // 2]
            guarded("networks", f"{form} / {label}", one)


def stylecast(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "stream.cli", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        raise RuntimeError(f"stylecast {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
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
}


def renders(clips: list[Path], runs: int, dry: bool = False) -> None:
    """The test scene in every form of RENDERS; other clips (real footage) on the device path stabilized."""
    with tempfile.TemporaryDirectory() as scratch:
        for clip in clips:
            forms = RENDERS if clip.name.startswith("testscene") else dict(list(RENDERS.items())[:1])
            alone = {}

            def codecs(clip=clip):
                rows = [codec_alone(clip) for _ in range(runs)]
                alone.update({k: statistics.median(r[k] for r in rows) for k in ("decode_fps", "x264_fps", "frames")})
                return dict(alone)
            guarded("renders", f"{clip.name} / decode and x264 alone", codecs)
            for name, args in forms.items():
                if dry:  # the same commands on the CPU: the device path in torch there
                    args = tuple(a.replace("cuda", "cpu") for a in args) + \
                        (() if "--frame-path" in args else ("--frame-path", "device"))

                def render(clip=clip, args=args):
                    out = ("render", str(clip), "-o", f"{scratch}/out.mp4", "--overwrite", *args)
                    if not dry:
                        stylecast(*out)  # untimed: the compiled form into the inductor cache
                    results = [stylecast(*out) for _ in range(runs)]
                    fps = statistics.median(r["fps"] for r in results)
                    return {"fps": fps, "x_x264": round(fps / alone["x264_fps"], 2) if alone.get("x264_fps") else None,
                            "frame_path": results[-1]["frame_path"], "network_forms": results[-1].get("network_forms")}
                guarded("renders", f"{clip.name} / {name}", render)


def live(seconds: float, dry: bool = False) -> None:
    size, extra = (("160", "90"), "--engine cpu --frame-path device") if dry else (("1920", "1080"), "--engine cuda")

    def run():
        done = subprocess.run([sys.executable, "-m", "bench.live", "--width", size[0], "--height",
                               size[1], "--fps", "30", "--seconds", str(seconds), "--extra", extra],
                              cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(done.stderr.strip()[-400:])
        return json.loads(done.stdout.strip().splitlines()[-1])
    guarded("live", f"{size[0]}x{size[1]} at 30 frames/s, stabilized", run)


def serve(runs: int, dry: bool = False) -> None:
    def admission():
        from engines.runtimes.cuda import CudaEngine
        from stream.serve.capacity import measure

        engine = CudaEngine("mosaic", device="cpu" if dry else "cuda", compile=not dry)
        found = measure(engine, 160 if dry else 640, os.cpu_count(), batched=True)
        return {"capacity": found.as_dict(), "line": found.line()}
    guarded("serve", "admission: the batched network at start-up", admission)

    def batches():
        done = subprocess.run([sys.executable, "-m", "bench.serve", "--batches", "--device",
                               "cpu" if dry else "cuda", "--max-side", "160" if dry else "640", "--runs", str(runs),
                               "--most", "4" if dry else "64", "--json"], cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(done.stderr.strip()[-400:])
        return json.loads(done.stdout.strip().splitlines()[-1])
    guarded("serve", "batches against one frame at a time", batches)


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
    """The built-in scene at 1080p (160x90 and 1 s for ``--dry``), with its tone: long enough (10 s)
    that the compiled form, from the cache, stylizes nearly all of it."""
    path = folder / ("testscene-90p.mp4" if dry else "testscene-1080p.mp4")
    if not path.exists():
        write_test_clip(path, seconds=1.0 if dry else 10.0, width=160 if dry else 1920, height=90 if dry else 1080)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", default=["networks"], choices=("networks", "renders", "live", "serve"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--frames", type=int, default=256, help="frames per network timing")
    ap.add_argument("--clip", type=Path, action="append", default=[], help="a clip to render, scaled to 1080p first "
                                                                         "(repeatable; the 1080p test scene is always one)")
    ap.add_argument("--live-seconds", type=float, default=15.0)
    ap.add_argument("--dry", action="store_true", help="no GPU: every part on the CPU, tiny (the torch device "
                                                         "path there), to try the bench itself")
    args = ap.parse_args()
    if not args.dry and not engine_status("cuda").available:
        emit("setup", "cuda", error=engine_status("cuda").reason)
        return 1
    import torch

    emit("setup", "machine", gpu="none (--dry, on the CPU)" if args.dry else torch.cuda.get_device_name(),
         torch=torch.__version__, inductor_cache=os.environ.get("TORCHINDUCTOR_CACHE_DIR"))
    if "networks" in args.parts:
        networks(args.runs, args.frames if not args.dry else 8, args.dry)
    if "renders" in args.parts:
        scratch = Path(tempfile.gettempdir())
        clips = [upscaled(c, scratch, *((320, 180) if args.dry else (1920, 1080))) for c in args.clip]
        renders([*clips, test_scene(scratch, args.dry)], args.runs, args.dry)
    if "live" in args.parts:
        live(args.live_seconds, args.dry)
    if "serve" in args.parts:
        serve(args.runs, args.dry)
    return 0


if __name__ == "__main__":
    sys.exit(main())
