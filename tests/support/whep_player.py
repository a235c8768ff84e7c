"""WHIP and WHEP clients in Python (aiortc), as OBS and a WHEP player are: a publisher that sends
the moving test scene, and a player that keeps what it receives. For the WHIP/WHEP tests."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from .webrtc_client import SceneCamera

SDP = "application/sdp"


class _Offerer:
    """A peer connection that offers to a WHIP or WHEP endpoint at ``url`` (its Location once taken)."""

    def __init__(self, url: str, token: str | None):
        self.url, self.token = url, token
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.location: str | None = None

    async def _offer(self) -> int:
        """POST the offer (every candidate in it); on 201 take the answer. The HTTP status."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        headers = {"Content-Type": SDP, **({"Authorization": f"Bearer {self.token}"} if self.token else {})}
        async with aiohttp.ClientSession() as http:
            async with http.post(self.url, data=self.pc.localDescription.sdp.encode(), headers=headers) as reply:
                status, text, location = reply.status, await reply.text(), reply.headers.get("Location")
        if status == 201:
            self.location = location
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=text, type="answer"))
        return status


class Publisher(_Offerer):
    """Sends the scene over WHIP to ``url``; ``location`` is its resource once published."""

    def __init__(self, url: str, token: str | None = None, fps: float = 24.0):
        super().__init__(url, token)
        self.camera = SceneCamera(fps=fps)
        self.pc.addTransceiver(self.camera, direction="sendonly")

    async def publish(self) -> int:
        return await self._offer()

    async def close(self) -> None:
        await self.pc.close()


class Player(_Offerer):
    """Receives a WHEP stream from ``url``; ``frames`` are (arrival time, RGB picture or None)."""

    def __init__(self, url: str, token: str | None = None, keep: int = 50):
        super().__init__(url, token)
        self.keep = keep
        self.pc.addTransceiver("video", direction="recvonly")
        self.frames: list[tuple[float, np.ndarray | None]] = []
        self._reader: asyncio.Task | None = None
        self.pc.on("track", self._on_track)

    def _on_track(self, track) -> None:
        async def read():
            try:
                while True:
                    frame = await track.recv()
                    keep = len(self.frames) < self.keep
                    self.frames.append((time.monotonic(), frame.to_ndarray(format="rgb24") if keep else None))
            except MediaStreamError:
                pass
        self._reader = asyncio.ensure_future(read())

    async def play(self) -> int:
        return await self._offer()

    def rate(self, last_seconds: float) -> float:
        """Frames a second over the last ``last_seconds`` of what came."""
        if not self.frames:
            return 0.0
        end = self.frames[-1][0]
        return sum(1 for t, _ in self.frames if t > end - last_seconds) / last_seconds

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
        await self.pc.close()
