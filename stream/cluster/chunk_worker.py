"""The workers of a cluster render (Ray actors): each keeps one network loaded and renders chunks.

A chunk travels as a small descriptor (stream/cluster/chunk_plan.py); the worker opens the input itself
(a path every node can read), decodes from the keyframe before the chunk, warms its stabilizer on
the frames before the chunk's first (unless it starts at a cut), and writes the chunk's picture
alone, without B-frames, beside the output, where the driver joins the chunks by stream copy.
Imported only once Ray is (stream/cluster/address.py).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import ray

from engines import open_engine
from engines.errors import StylecastError
from stream.core.progress import FRAMES, Advance, quiet
from stream.render.job import RenderOptions, render

from .chunk_options import chunk_options
from .chunk_plan import Chunk

REPORT_EVERY_S = 0.5  # how often a worker tells the driver's progress bar how far it got


@ray.remote(num_cpus=0)
class FrameCounter:
    """Frames written across the cluster, and how many workers have started (restarts included)."""

    def __init__(self):
        self.frames, self.started = 0, 0

    def add(self, frames: int) -> None:
        self.frames += frames

    def worker_started(self) -> None:
        self.started += 1

    def read(self) -> tuple[int, int]:
        return self.frames, self.started


class ChunkRenderer:
    """One worker: the job's options and engine, for every chunk it is given."""

    def __init__(self, opts: RenderOptions, counter: str, cores: int):
        self.opts, self.counter = opts, ray.get_actor(counter)  # by name: a handle as an argument would
        # pin the arguments in the object store for restarts (Ray warns of it)
        controls = opts.controls()
        self.node = ray.util.get_node_ip_address()
        try:
            self.engine = open_engine(opts.engine, controls.style, controls.mix, throughput=True,
                                      max_side=opts.max_side, precision=opts.precision)
        except StylecastError as exc:
            raise type(exc)(f"on node {self.node}: {exc}") from None
        self.engine.parallel_frames = max(1, min(self.engine.parallel_frames, cores))
        self.counter.worker_started.remote()

    def render(self, chunk: Chunk, path: Path) -> dict:
        opts = chunk_options(self.opts, chunk, path)
        pending, last = [0], [time.monotonic()]

        def advance(n: int = 1, info: str | None = None) -> None:
            pending[0] += n
            if time.monotonic() - last[0] >= REPORT_EVERY_S:
                self.counter.add.remote(pending[0])
                pending[0], last[0] = 0, time.monotonic()

        def progress(total: int | None, label: str) -> Advance:  # the driver's bar counts frames only
            return advance if label == FRAMES else quiet(total, label)

        try:
            result = render(opts, progress, engine=self.engine)
        except StylecastError as exc:
            raise type(exc)(f"on node {self.node}: {exc}") from None
        finally:
            self.counter.add.remote(pending[0])
        return {"frames": result.frames, "node": self.node, "pid": os.getpid(), "seconds": result.seconds,
                "engine": result.engine, "precision": result.precision}
