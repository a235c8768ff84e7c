"""GPU engine benchmark (issue #6 targets): the network alone at 1080p in fp16, and the whole frame
path (upload, convert, network, convert, download) per engine. Median of --runs runs.

    python tools/bench_gpu.py --runs 5 --frames 200 [--style starry-night|PICTURE] [--json]

A picture as --style measures the picture-style transformer (engines/networks/picture_net.py) instead.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]

from engines.registry import engine_status  # noqa: E402
from stream.media.testsrc import TestScene  # noqa: E402


def network_alone(style: str, frames: int, w: int, h: int) -> float:
    """Frames/s of the fp16 folded network on a device tensor, replayed as a CUDA graph."""
    import torch

    from engines.catalog import resolve
    from engines.networks.folded_net import FoldedNet
    from engines.networks.style_layers import style_layers

    net = FoldedNet(style_layers(resolve(style), "cuda"))
    net = net.to("cuda", torch.float16, memory_format=torch.channels_last).eval()
    x = torch.rand(1, 3, h, w, device="cuda", dtype=torch.float16).contiguous(memory_format=torch.channels_last)
    stream = torch.cuda.Stream()
    with torch.inference_mode():
        with torch.cuda.stream(stream):
            for _ in range(3):
                net(x)
        stream.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=stream):
            net(x)
        graph.replay()
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(frames):
            graph.replay()
        torch.cuda.synchronize()
    return frames / (time.perf_counter() - started)


def engine_path(name: str, style: str, frames: int, w: int, h: int) -> float:
    from engines.registry import open_engine

    engine = open_engine(name, style, max_side=max(w, h))
    picture = TestScene(w, h).frame(0.3)
    engine.stylize_one(picture)
    started = time.perf_counter()
    for _ in range(frames):
        engine.stylize_one(picture)
    return frames / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--style", default="starry-night", help="a built-in style, a blend or a picture")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not engine_status("cuda").available:
        sys.exit(f"bench_gpu: {engine_status('cuda').reason}")
    import torch

    result = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "style": args.style}
    for label, (w, h) in {"1080p": (1920, 1080), "360p": (640, 360)}.items():
        result[f"network_fp16_{label}_fps"] = round(statistics.median(
            network_alone(args.style, args.frames, w, h) for _ in range(args.runs)), 1)
        for name in ("cuda", "tensorrt"):
            if engine_status(name).available:
                result[f"{name}_frame_path_{label}_fps"] = round(statistics.median(
                    engine_path(name, args.style, args.frames, w, h) for _ in range(args.runs)), 1)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
