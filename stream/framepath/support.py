"""What ``stylecast doctor`` says of the frame path: which of its parts run on the GPU here and
which on the CPU, and why. Imports torch only where an NVIDIA driver answers (engines/registry.py
asks that first, cheaply)."""
from __future__ import annotations

import importlib.util

import av

from engines.registry import engine_status
from stream.media.decode import nvdec_usable


def frame_path_rows() -> list[dict]:
    """doctor's rows: decode, the frame path (colour, network, stabilizer, flicker), compiling, encode."""
    cuda = engine_status("cuda")
    nvenc = [name for name in ("h264_nvenc", "hevc_nvenc") if name in av.codecs_available]
    rows = [
        {"name": "decode", "available": True,
         "reason": ("NVDEC through PyAV (hwaccel cuda, its pictures kept on the GPU), falling back to the CPU's decoder for what it cannot take"
                    if cuda.available and nvdec_usable() else "on the CPU (FFmpeg); NVDEC needs an NVIDIA GPU")},
        {"name": "frames", "available": cuda.available,
         "reason": ("on the GPU from decode to encode (--frame-path auto): colour, network, mix and the "
                    "stabilizer in torch, each stage on a CUDA stream of its own; the motion (flow at 320 px) and "
                    "flicker readout on the CPU from the decoded luma, ahead of the stabilizer; 4:2:0 up and down, "
                    "one host sync a frame"
                    if cuda.available else f"on the CPU (numpy, OpenCV); the GPU path needs CUDA: {cuda.reason}")},
        {"name": "compile", "available": cuda.available and importlib.util.find_spec("triton") is not None,
         "reason": _compile_reason(cuda.available)},
        {"name": "encode", "available": True,
         "reason": "x264 on the CPU" + (f" ({', '.join(nvenc)} in this FFmpeg are not used: H.264 from x264 "
                                        "is what every render writes)" if nvenc else " (this FFmpeg has no NVENC)")},
    ]
    return [{**row, "kind": "frame path"} for row in rows]


def _compile_reason(cuda: bool) -> str:
    if not cuda:
        return "torch.compile of the network runs where the GPU engine does (no CUDA here)"
    if importlib.util.find_spec("triton") is None:
        return "no Triton: the network runs uncompiled (eager, CUDA graphs)"
    return "torch.compile (inductor, Triton) in the background; eager until it is ready"
