"""A scripted WebRTC viewer in Python (aiortc): sends the moving test scene as its camera, keeps what
comes back. Lighter than a browser, for tests that count sessions, timestamps and teardown."""
from __future__ import annotations

import asyncio
import fractions
import json
import time

import aiohttp
import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)

from stream.media.testsrc import TestScene

CLOCK = 90_000


class SceneCamera(MediaStreamTrack):
    """The test scene at ``fps``, paced in real time, pts in 1/90000 s. ``paused`` stops sending."""

    kind = "video"

    def __init__(self, width: int = 320, height: int = 180, fps: float = 24.0):
        super().__init__()
        self.scene, self.fps = TestScene(width, height, seed=7), fps
        self.index, self.started, self.paused = 0, None, False
        self.sent: list[np.ndarray] = []

    async def recv(self) -> av.VideoFrame:
        if self.started is None:
            self.started = time.monotonic()
        while True:
            self.index += 1
            await asyncio.sleep(max(0.0, self.started + self.index / self.fps - time.monotonic()))
            if not self.paused:
                break
        picture = self.scene.frame(self.index / self.fps)
        if len(self.sent) < 200:
            self.sent.append(picture)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts, frame.time_base = round(self.index * CLOCK / self.fps), fractions.Fraction(1, CLOCK)
        return frame


class Client:
    def __init__(self, base: str, token: str | None = None, fps: float = 24.0, style: str | None = None):
        self.base, self.token, self.style = base, token, style
        self.camera = SceneCamera(fps=fps)
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channel = self.pc.createDataChannel("control")
        self.messages: list[dict] = []
        self.channel.on("message", lambda m: self.messages.append(json.loads(m)))
        self.received: list[av.VideoFrame] = []
        self.session: str | None = None
        self._reader = None
        self.pc.addTrack(self.camera)
        self.pc.on("track", self._on_track)

    def _on_track(self, track) -> None:
        async def read():
            try:
                while True:
                    frame = await track.recv()
                    self.received.append(frame if len(self.received) < 400 else None)
            except Exception:
                pass
        self._reader = asyncio.ensure_future(read())

    async def connect(self) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        body = {"sdp": self.pc.localDescription.sdp, "type": "offer"}
        if self.style:
            body["style"] = self.style
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.base}/api/offer", json=body, headers=headers) as reply:
                answer = await reply.json()
                if reply.status != 200:
                    raise RuntimeError(f"offer refused: {reply.status} {answer}")
        self.session = answer["session"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))

    async def wait_frames(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received)} frames came back in {timeout:g} s, wanted {count}")
            await asyncio.sleep(0.05)

    def send(self, **fields) -> None:
        self.channel.send(json.dumps(fields))

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
        await self.pc.close()
