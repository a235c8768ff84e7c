"""``--sink whip://HOST[:PORT]/PATH`` (``whips://`` for HTTPS): the stylized feed published to a
WHIP server (RFC 9725): stylecast's own ``serve``, a media server, a WebRTC service.

An aiortc peer connection in a thread of its own (its event loop) sends one video track; the
job's ``write`` puts each frame in a one-frame slot, so the newest frame is always the next one
out and a slow connection costs dropped frames (counted), never delay. The offer carries every
candidate (aiortc gathers before it offers), so no trickle is needed. The token goes as
``Authorization: Bearer T``: from ``?token=T`` on the sink's URL (taken off before it is sent) or
``STYLECAST_WHIP_TOKEN``. A refused or unreachable server is one line at the start (exit 2).
When the connection fails later, the sink publishes again (after 0.25 s doubling to 2 s) until it
is back, ending the old resource first (its ``DELETE``); ``close`` ends the resource too.
Sound is not published (picture only).
"""
from __future__ import annotations

import asyncio
import fractions
import os
import threading
import time
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp
import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from engines.errors import OutputError
from stream.core.frame import Frame
from stream.core.notes import note

OPEN_TIMEOUT_S = 10.0
RETRY_PAUSE_S = (0.25, 2.0)
CLOCK = 90_000


def whip_url(spec: str) -> tuple[str, str | None]:
    """``whip://HOST/PATH?token=T`` -> (``http://HOST/PATH``, T); the token may come from the
    environment (STYLECAST_WHIP_TOKEN) instead."""
    parts = urlsplit(spec)
    if parts.scheme not in ("whip", "whips") or not parts.hostname:
        raise OutputError(f"a WHIP sink is whip://HOST[:PORT]/PATH (whips:// for HTTPS), got {spec!r}")
    query = parse_qsl(parts.query)
    token = dict(query).get("token") or os.environ.get("STYLECAST_WHIP_TOKEN")
    rest = urlencode([(k, v) for k, v in query if k != "token"])
    scheme = "https" if parts.scheme == "whips" else "http"
    return urlunsplit((scheme, parts.netloc, parts.path or "/", rest, "")), token


class _Feed(MediaStreamTrack):
    """The job's newest frame, when aiortc's sender asks for the next one (pts: 1/90000 s since the first)."""

    kind = "video"

    def __init__(self):
        super().__init__()
        self._latest: Frame | None = None
        self._fresh = asyncio.Event()
        self._start: float | None = None
        self.replaced = 0

    def put(self, frame: Frame) -> None:  # on the sink's loop
        if self._latest is not None:
            self.replaced += 1
        self._latest = frame
        self._fresh.set()

    async def recv(self) -> av.VideoFrame:
        while self._latest is None:
            if self.readyState != "live":
                raise MediaStreamError
            self._fresh.clear()
            await self._fresh.wait()
        frame, self._latest = self._latest, None
        now = time.monotonic()
        self._start = self._start or now
        out = av.VideoFrame.from_ndarray(frame.image, format="rgb24")
        out.pts, out.time_base = round((now - self._start) * CLOCK), fractions.Fraction(1, CLOCK)
        return out


class WhipSink:
    def __init__(self, spec: str, fps: float):
        self.url, self.token = whip_url(spec)
        self.fps, self.frames, self.republished = fps, 0, 0
        self.location: str | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="whip", daemon=True)
        self.thread.start()
        self.feed = self._call(self._make_feed())
        self.pc: RTCPeerConnection | None = None
        self._closing = False
        try:
            self._call(self._publish(), OPEN_TIMEOUT_S)
        except OutputError:
            self._stop_loop()
            raise
        note(f"WHIP: publishing to {self.url}, resource {self.location}")
        self._supervisor = asyncio.run_coroutine_threadsafe(self._keep_published(), self.loop)

    @property
    def dropped(self) -> int:
        return self.feed.replaced

    def _call(self, coro, timeout: float | None = None):
        try:
            return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)
        except TimeoutError:
            raise OutputError(f"the WHIP server at {self.url} did not answer within {timeout:g} s") from None

    async def _make_feed(self) -> _Feed:
        return _Feed()

    def _headers(self, **more) -> dict:
        return {**({"Authorization": f"Bearer {self.token}"} if self.token else {}), **more}

    async def _publish(self) -> None:
        """Offer the feed; the answer and the resource's address from the server, or OutputError."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(self.feed, direction="sendonly")
        try:
            await pc.setLocalDescription(await pc.createOffer())
            async with aiohttp.ClientSession() as http:
                async with http.post(self.url, data=pc.localDescription.sdp.encode(),
                                     headers=self._headers(**{"Content-Type": "application/sdp"})) as reply:
                    text = await reply.text()
                    if reply.status != 201:
                        raise OutputError(f"the WHIP server refused the stream ({reply.status}): {_reason(text)}")
                    location = reply.headers.get("Location")
            if not location:
                raise OutputError("the WHIP server answered without a Location for the stream")
            await pc.setRemoteDescription(RTCSessionDescription(sdp=text, type="answer"))
        except OutputError:
            await pc.close()
            raise
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            await pc.close()
            raise OutputError(f"cannot publish to {self.url}: {exc}") from None
        self.pc, self.location = pc, urljoin(self.url, location)

    async def _keep_published(self) -> None:
        """Publish again whenever the connection fails, until closed."""
        attempt = 0
        while not self._closing:
            await asyncio.sleep(0.25)
            if self.pc is not None and self.pc.connectionState not in ("failed", "closed"):
                attempt = 0
                continue
            await self._end()
            await asyncio.sleep(min(RETRY_PAUSE_S[1], RETRY_PAUSE_S[0] * 2 ** attempt))
            attempt += 1
            try:
                await self._publish()
                self.republished += 1
            except OutputError:
                continue

    async def _end(self) -> None:
        """The resource's DELETE (the server frees it at once) and the peer connection closed."""
        pc, location, self.pc, self.location = self.pc, self.location, None, None
        if location:
            try:
                async with aiohttp.ClientSession() as http:
                    async with http.delete(location, headers=self._headers(),
                                           timeout=aiohttp.ClientTimeout(total=2)):
                        pass
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
                pass
        if pc is not None:
            await pc.close()

    def yuv420_colour(self) -> None:
        return None  # RGB frames

    def write(self, item) -> None:
        if isinstance(item, Frame):
            self.loop.call_soon_threadsafe(self.feed.put, item)
            self.frames += 1

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._supervisor.cancel()
        try:
            self._call(self._end(), 5)
        except OutputError:
            pass
        self._stop_loop()

    def _stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.feed.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(2)


def _reason(text: str) -> str:
    """A server's error body, as one short line (stylecast's JSON ``error``, or the text)."""
    import json
    try:
        text = json.loads(text).get("error", text)
    except (ValueError, AttributeError):
        pass
    return " ".join(str(text).split())[:160] or "no reason given"
