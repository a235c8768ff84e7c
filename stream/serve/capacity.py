"""How many viewers this machine can serve, measured when the server starts, and how many to admit.

One viewer costs the server, for every frame: decoding the camera's VP8, stylizing (one core),
stabilizing, and encoding the answer in VP8. Each step is timed here on the built-in test scene at
the server's frame size, on one thread, as the server runs it; the cores divided by that cost give
the frames per second the machine has, and ``target_fps`` per viewer gives the viewers it holds.
Only ``ADMIT_SHARE`` of them are admitted (issue #8: admit at most 80% of what the machine holds),
so the viewers already in keep their frame rate when the machine is busy with something else too.

Batched (stream/serve/batcher.py, a GPU engine), the network is timed apart: a batch of 1, 2, 4, ...
frames in different styles, as the viewers' frames meet; the network holds the frames per second
of its best batch that still goes out within ``BATCH_BUDGET_MS``. The cores hold what decoding,
stabilizing and encoding leave them; the viewers held are the smaller of the two, and ``limit``
says which it is.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from fractions import Fraction

import av
import numpy as np

from engines import BUILTIN_NAMES, Engine, resolve
from engines.style_scale import MIN_SCALE
from stream.media.decode import output_size
from stream.media.testsrc import TestScene
from stream.temporal.stabilize import DEFAULT_STABILITY, Stabilizer

from .batcher import MAX_BATCH

ADMIT_SHARE = 0.8
TARGET_FPS = 15.0
FRAMES = 6  # timed frames per step, after a warm-up frame
BATCH_BUDGET_MS = 40.0  # batched: a batch slower than this would hold its viewers' frames too long


@dataclass(frozen=True)
class Capacity:
    width: int
    height: int
    cores: int
    frame_ms: float          # one viewer's frame: VP8 decode + stylize + stabilize + VP8 encode, one core
    viewers: float           # viewers the machine holds at ``target_fps`` each
    admitted: int            # sessions admitted: ADMIT_SHARE of ``viewers``, at least 1
    target_fps: float = TARGET_FPS
    limit: str = "cpu"       # what holds the count: "cpu" (the cores' share of each frame) or "network" (batched)
    batch_ms: dict[int, float] | None = None  # batched: the network's time per batch size

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self, adapt: bool = False) -> str:
        """What start-up found, and (``adapt``) what a viewer gets when the machine holds fewer than it admits."""
        if self.batch_ms:
            within = [n for n, ms in self.batch_ms.items() if ms <= BATCH_BUDGET_MS] or [1]
            best = max(within, key=lambda n: n / self.batch_ms[n])
            line = (f"admitting {self.admitted} viewer(s) at {self.width}x{self.height}, {self.target_fps:g} frames/s "
                    f"each, limited by {'the network' if self.limit == 'network' else 'the CPU cores'}: the network "
                    f"runs {best} frames in {self.batch_ms[best]:.1f} ms, and decode, stabilize and encode cost "
                    f"{self.frame_ms:.0f} ms of one of {self.cores} cores per frame; {ADMIT_SHARE:.0%} of the "
                    f"{self.viewers:.1f} held (--max-sessions sets it)")
            return line
        line = (f"admitting {self.admitted} viewer(s): one costs {self.frame_ms:.0f} ms of a core per frame at "
                f"{self.width}x{self.height}, so {self.cores} cores hold {self.viewers:.1f} at "
                f"{self.target_fps:g} frames/s; {ADMIT_SHARE:.0%} of that (--max-sessions sets it)")
        if adapt and self.viewers < self.admitted:  # the cost goes with the square of the network's size
            scale = max(MIN_SCALE, math.sqrt(self.viewers / self.admitted))
            line += (f"; each viewer's network runs at about {scale:.2f} of the size to keep {self.target_fps:g} "
                     "frames/s (--adapt off: full size, fewer frames)")
        return line


def _median_ms(step, frames: list) -> float:
    step(frames[0])
    times = []
    for frame in frames[1:]:
        started = time.perf_counter()
        step(frame)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def batch_times(engine: Engine, pictures: list, most: int = MAX_BATCH) -> dict[int, float]:
    """The network's median time (ms) for batches of 1, 2, 4, ... frames, each in another built-in
    style, up to ``most`` or the first batch over ``BATCH_BUDGET_MS``."""
    looks = [engine.batch_key(resolve(name))[1] for name in BUILTIN_NAMES[:8]]
    times, n = {}, 1
    while n <= most:
        frames = np.stack([pictures[i % len(pictures)] for i in range(n)])
        batch_looks = [looks[i % len(looks)] for i in range(n)]
        times[n] = round(_median_ms(lambda f: engine.run_batch("builtin", f, batch_looks), [frames] * 4), 2)
        if times[n] > BATCH_BUDGET_MS:
            break
        n *= 2
    return times


def measure(engine: Engine, max_side: int, cores: int, target_fps: float = TARGET_FPS,
            batched: bool = False) -> Capacity:
    """Time one viewer's frame on this machine at the server's size (a camera at 16:9); ``batched``:
    the network apart, in batches (the module's docstring)."""
    width, height = output_size(1280, 720, max_side)
    scene = TestScene(width, height)
    pictures = [scene.frame(i / 25) for i in range(FRAMES + 1)]
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base, encoder.bit_rate = Fraction(1, 90000), 1_500_000
    encoder.options = {"deadline": "realtime", "cpu-used": "4"}  # close to aiortc's own VP8 settings
    decoder = av.CodecContext.create("libvpx", "r")
    packets = []

    def encode(picture):
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts = len(packets) * 3600
        packets.extend(encoder.encode(frame.reformat(format="yuv420p")))

    encode_ms = _median_ms(encode, pictures)
    decode_ms = _median_ms(lambda p: [f.to_ndarray(format="rgb24") for f in decoder.decode(p)], packets)
    batch_ms = batch_times(engine, pictures) if batched else None
    stylize_ms = 0.0 if batched else _median_ms(engine.stylize_one, pictures)
    stabilizer = Stabilizer(DEFAULT_STABILITY, thorough=False)  # as a viewer's stylist runs it
    stylized = iter([engine.stylize_one(p) for p in pictures])
    stabilize_ms = _median_ms(lambda p: stabilizer(p, next(stylized)), pictures)
    frame_ms = decode_ms + stylize_ms + stabilize_ms + encode_ms
    viewers, limit = cores * 1000.0 / frame_ms / target_fps, "cpu"
    if batch_ms:
        held = [n * 1000.0 / ms / target_fps for n, ms in batch_ms.items() if ms <= BATCH_BUDGET_MS] or \
            [1000.0 / batch_ms[1] / target_fps]
        if max(held) < viewers:
            viewers, limit = max(held), "network"
    return Capacity(width, height, cores, round(frame_ms, 1), round(viewers, 2),
                    max(1, math.floor(ADMIT_SHARE * viewers)), target_fps, limit, batch_ms)
