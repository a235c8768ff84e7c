"""The video a viewer gets back: the newest camera frame, stylized, in order, never queued.

A reader keeps only the newest camera frame (older ones are dropped and counted). When aiortc's
sender asks for the next frame, up to ``engine.parallel_frames`` frames are being stylized at once,
each started on the newest camera frame of its moment; stabilization, which needs them in order,
runs as each is taken. Output frames keep the camera frame's pts. A frame the network lets go (a
shared batch's stale frame, stream/serve/batcher.py) is counted as dropped, and the newest camera
frame taken instead. Each frame goes through the stylist's frame path (stream/framepath/: on a
GPU the device's, so the viewer's mix and stabilizer run there too), the flicker readout fed as it
comes off it.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from concurrent.futures import Executor
from typing import Callable

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from stream.core.frame import Frame
from stream.media.decode import upright_rgb
from stream.styling.stylist import FrameDropped, Stylist


class StylizedTrack(MediaStreamTrack):
    """``spawn(coro)`` runs a task that its owner (the session) cancels when it closes."""

    kind = "video"

    def __init__(self, stylist: Stylist, executor: Executor, max_side: int | None,
                 spawn: Callable[[object], asyncio.Task]):
        super().__init__()
        self.stylist, self.stats, self.executor, self.max_side, self._spawn = \
            stylist, stylist.stats, executor, max_side, spawn
        self.last_frame_at = time.monotonic()  # when the newest camera frame came (the watchdog reads it)
        self._latest: tuple[av.VideoFrame, float] | None = None  # the newest camera frame, when it came
        self._fresh = asyncio.Event()
        self._jobs: deque[asyncio.Future] = deque()  # frames being stylized, oldest first

    async def follow(self, camera: MediaStreamTrack) -> None:
        """Keep only the newest camera frame; count the ones replaced before they were used.
        Returns when the camera track ends."""
        try:
            while True:
                frame = await camera.recv()
                if self._latest is not None:
                    self.stats.dropped += 1
                self.last_frame_at = time.monotonic()
                self._latest = (frame, self.last_frame_at)
                self.stats.captured += 1
                self._fresh.set()
        except MediaStreamError:
            return

    async def recv(self) -> av.VideoFrame:
        """The next stylized frame, in order."""
        if self.readyState != "live":
            raise MediaStreamError
        while len(self._jobs) < self.stylist.engine.parallel_frames:
            self._jobs.append(self._spawn(self._stylize_newest()))
        frame, captured_at, started, item = await self._jobs.popleft()
        loop = asyncio.get_running_loop()
        image = await loop.run_in_executor(self.executor, self._finish, item)
        out = av.VideoFrame.from_ndarray(image, format="rgb24")
        out.pts, out.time_base = frame.pts, frame.time_base
        self.stats.emitted_frame(captured_at, (time.perf_counter() - started) * 1000)
        return out

    async def _stylize_newest(self):
        while True:
            while self._latest is None:
                self._fresh.clear()
                await self._fresh.wait()
            (frame, captured_at), self._latest = self._latest, None
            started = time.perf_counter()
            try:
                item = await asyncio.get_running_loop().run_in_executor(self.executor, self._stylize, frame)
            except FrameDropped:
                self.stats.dropped += 1
                continue
            return frame, captured_at, started, item

    def _stylize(self, frame: av.VideoFrame) -> Frame:
        """The camera's picture onto the path and through the network."""
        item = Frame(upright_rgb(frame, self.max_side), frame.pts, frame.time_base, 0)
        path = self.stylist.path
        path.greys(item)
        path.upload(item)
        item.image = self.stylist.stylize(item.image)
        return item

    def _finish(self, item: Frame):
        """In order: stabilized, off the path as RGB, the flicker readout fed."""
        item.image = self.stylist.stabilize(item.original, item.image, item.small_grey)
        self.stylist.path.download(item, self.stats.flicker)
        return item.image
