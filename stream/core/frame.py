"""The frame that moves through stylecast: a host picture with its source timestamp."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

# Where frames live between decode and encode (stream/framepath/): "host" (numpy and OpenCV on the
# CPU), "device" (torch on the engine's device, or on the CPU: the same code), "auto" (the device
# path where the engine runs on a GPU, else the host's)
FRAME_PATHS = ("auto", "host", "device")


@dataclass
class Yuv420:
    """An 8-bit 4:2:0 picture as one host buffer, as a decoder gives it and an H.264 encoder takes it:
    ``yuv420p`` (I420: Y, then Cb, then Cr) or ``nv12`` (Y, then Cb and Cr interleaved, NVDEC's)."""

    data: np.ndarray  # uint8, Y's W*H bytes then the chroma's
    width: int
    height: int
    layout: str = "yuv420p"


@dataclass
class Frame:
    """uint8 RGB H x W x 3 picture; ``pts`` in ``time_base`` units exactly as the source gave it.

    ``original`` keeps the picture before stylization for the stages that need it (the look,
    stabilization); ``index`` is the position in decode order, for messages and statistics. On the
    device path (stream/framepath/) ``image`` is a torch tensor on the device between upload and
    download (``ready``: the CUDA event its last stage recorded); the picture comes in and goes out
    as ``yuv`` (4:2:0, no RGB on the host), with ``rotation`` (quarter turns) still to apply.
    ``small_grey`` is the source at the flow's size and ``flicker_grey`` at the flicker readout's,
    made on the host; ``prev_grey`` the frame before's, and ``motion`` the motion between them,
    measured ahead of the stabilizer (stream/temporal/motion.py).
    ``alpha`` is the source's alpha plane (uint8, or uint16 for deeper sources), carried untouched
    to an output that holds it; ``number`` is an image sequence's frame number; a ``warmup`` frame
    only warms the stabilizer up before a time range and is not written; ``look`` is the look
    a render's looks file gave it.
    """

    image: np.ndarray
    pts: int | None
    time_base: Fraction
    index: int
    original: np.ndarray | None = None
    captured_at: float = 0.0  # time.monotonic() when a live source delivered it (latency statistics)
    demuxed_at: float = 0.0   # time.monotonic() when a network source's demuxer gave its packet (--trace)
    engine_ms: float = 0.0    # time spent stylizing and stabilizing it (statistics)
    alpha: np.ndarray | None = None
    number: int | None = None
    warmup: bool = False
    look: object | None = None  # the FrameLook a render's looks file gave it (stream/edit/looks.py)
    carried: bool = False       # a painted shot's frame, carried along the motion (stream/edit/carry.py)
    yuv: Yuv420 | None = None
    rotation: int = 0
    small_grey: np.ndarray | None = None
    flicker_grey: np.ndarray | None = None
    prev_grey: np.ndarray | None = None
    motion: object | None = None  # a Motion (stream/temporal/motion.py)
    ready: object | None = None   # a CUDA event: the device work on this frame so far is through
    gpu_frame: object | None = None  # NVDEC's picture still on the GPU (an av.VideoFrame): planes read by dlpack

    @property
    def time(self) -> float | None:
        """Presentation time in seconds, or None when the source gave no timestamp."""
        return None if self.pts is None else float(self.pts * self.time_base)


def format_time(seconds: float | None) -> str:
    """HH:MM:SS.mmm for messages."""
    if seconds is None:
        return "an unknown time"
    ms = int(round(max(0.0, seconds) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    return f"{h:02d}:{m:02d}:{rem // 1000:02d}.{rem % 1000:03d}"
