"""WebRTC sessions: a viewer's camera in, the same camera stylized back, one session per viewer.

Each :class:`Session` owns an aiortc peer connection, the tasks it started and its own style, look
and stabilizer; the engine (its ONNX Runtime sessions) is shared by every session of the server.

Scheduling follows the live pipeline: a reader task keeps only the newest camera frame (older ones
are dropped and counted), and the outgoing :class:`StylizedTrack` stylizes whatever is newest when
the sender asks for its next frame, so delay never builds. Output frames keep the camera frame's
pts. A session ends, releasing everything, when the browser closes it, when ICE fails, or after
``IDLE_S`` seconds without a camera frame (the watchdog).
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
import weakref
from collections import deque
from concurrent.futures import Executor
from typing import Callable

import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from engines import Engine, Look
from engines.errors import OptionError, StylecastError

from .decode import upright_rgb
from .stabilize import DEFAULT_STABILITY, Stabilizer
from .stats import LiveStats

IDLE_S = 9.0           # a session with no camera frame for this long is closed: gone within 10 s
WATCH_EVERY_S = 0.25
SETUP_TIMEOUT_S = 5.0  # answering an offer (ICE gathering included) takes at most this
STATS_EVERY_S = 1.0    # the server's figures go to the page this often over the data channel
DEGRADED_AFTER = 10    # failed frames in a row before a session reports itself degraded


OPEN_CONNECTIONS: set = set()  # every peer connection made and not yet closed (a leak shows here)
IN_MEMORY: weakref.WeakSet = weakref.WeakSet()  # every session object not yet freed, closed or not


class OfferError(StylecastError):
    """An offer this server cannot answer; the reason goes back to the client (HTTP 400)."""


class StylizedTrack(MediaStreamTrack):
    """The outgoing video: each ``recv`` stylizes the newest camera frame not yet sent."""

    kind = "video"

    def __init__(self, session: Session):
        super().__init__()
        self.session = session

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        return await self.session.next_output()


class Session:
    """One viewer. ``styles`` turns a style spec the viewer may pick (built-ins, blends, uploads)
    into a resolved Style (StyleError otherwise); ``on_closed`` is called once everything is released."""

    def __init__(self, engine: Engine, executor: Executor, style: str, max_side: int | None,
                 styles: Callable[[str], object], on_closed: Callable[[Session], None],
                 ice_servers: list[str] = ()):
        IN_MEMORY.add(self)
        self.id = secrets.token_hex(8)
        self.engine, self.executor, self.max_side = engine, executor, max_side
        self._styles, self._on_closed = styles, on_closed
        self.style = styles(style)
        self.network = engine.network(self.style)
        self.look = Look()
        self.stabilizer = Stabilizer(DEFAULT_STABILITY)
        self.stats = LiveStats()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[RTCIceServer(url) for url in ice_servers]))
        OPEN_CONNECTIONS.add(self.pc)
        self.tasks: set[asyncio.Task] = set()
        self.channel = None
        self.closed = asyncio.Event()
        self.last_frame_at = time.monotonic()
        self._latest: tuple[av.VideoFrame, float] | None = None  # the newest camera frame, when it came
        self._fresh = asyncio.Event()
        self._jobs: deque[asyncio.Future] = deque()  # frames being stylized, oldest first
        self._closing = False
        self._restyled = False
        self.pc.on("connectionstatechange", self._on_state)
        self.pc.on("datachannel", self._on_channel)
        self.pc.on("track", self._on_track)

    # -- setting up ---------------------------------------------------------------------------
    async def answer(self, sdp: str, kind: str) -> RTCSessionDescription:
        """Apply the browser's offer and return the answer; raises OfferError with the reason."""
        if kind != "offer":
            raise OfferError(f"expected an SDP offer, got type {kind!r}")
        if "m=video" not in sdp:
            raise OfferError("the offer has no video; send the camera as a video track")
        try:
            await asyncio.wait_for(self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer")),
                                   SETUP_TIMEOUT_S)
            video = [t for t in self.pc.getTransceivers() if t.kind == "video"]
            if not video or video[0].receiver.track is None:
                raise OfferError("the offer has no camera track to stylize")
            video[0].sender.replaceTrack(StylizedTrack(self))
            video[0].direction = "sendrecv"
            await asyncio.wait_for(self.pc.setLocalDescription(await self.pc.createAnswer()), SETUP_TIMEOUT_S)
        except OfferError:
            raise
        except asyncio.TimeoutError:
            raise OfferError(f"could not answer the offer within {SETUP_TIMEOUT_S:g} s") from None
        except Exception as exc:  # aiortc's parser raises many kinds of errors on a bad offer
            reason = str(exc) or type(exc).__name__
            if "send parameters" in reason or "codec" in reason.lower():
                reason = "no video codec in common (stylecast sends and receives VP8 or H.264)"
            raise OfferError(f"cannot use this offer: {reason}") from None
        self._spawn(self._watchdog())
        return self.pc.localDescription

    def _spawn(self, coro) -> asyncio.Task:
        """Run ``coro`` as a task this session owns (cancelled when it closes)."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def _on_track(self, track) -> None:
        if track.kind == "video":
            self._spawn(self._read(track))

    def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self._spawn_close(f"connection {self.pc.connectionState}")

    def _on_channel(self, channel) -> None:
        self.channel = channel
        channel.on("message", lambda message: self._spawn(self._on_message(message)))
        self._spawn(self._send_stats())

    # -- frames -------------------------------------------------------------------------------
    async def _read(self, track) -> None:
        """Keep only the newest camera frame; count the ones replaced before they were used."""
        try:
            while True:
                frame = await track.recv()
                if self._latest is not None:
                    self.stats.dropped += 1
                self.last_frame_at = time.monotonic()
                self._latest = (frame, self.last_frame_at)
                self.stats.captured += 1
                self._fresh.set()
        except MediaStreamError:
            self._spawn_close("the browser stopped sending video")

    async def next_output(self) -> av.VideoFrame:
        """The next stylized frame, in order. Up to ``engine.parallel_frames`` frames are stylized
        at once, each started on the newest camera frame of its moment; stabilization, which
        needs them in order, runs as each is taken."""
        while len(self._jobs) < self.engine.parallel_frames:
            self._jobs.append(self._spawn(self._stylize_newest()))
        frame, captured_at, started, source, stylized = await self._jobs.popleft()
        loop = asyncio.get_running_loop()
        image = await loop.run_in_executor(self.executor, self._stabilize, source, stylized)
        out = av.VideoFrame.from_ndarray(image, format="rgb24")
        out.pts, out.time_base = frame.pts, frame.time_base
        self.stats.emitted_frame(captured_at, (time.perf_counter() - started) * 1000)
        return out

    async def _stylize_newest(self):
        while self._latest is None:
            self._fresh.clear()
            await self._fresh.wait()
        (frame, captured_at), self._latest = self._latest, None
        started = time.perf_counter()
        source, stylized = await asyncio.get_running_loop().run_in_executor(
            self.executor, self._stylize, frame, self.network, self.look)
        return frame, captured_at, started, source, stylized

    def _stylize(self, frame: av.VideoFrame, network, look):
        source = upright_rgb(frame, self.max_side)
        try:
            stylized = self.engine.stylize_one(source, network, look)
            self.stats.frame_ok()
        except Exception as exc:  # counted and reported; the camera picture passes through, never a freeze
            self.stats.frame_failed(exc, DEGRADED_AFTER)
            stylized = source
        return source, stylized

    def _stabilize(self, source, stylized):
        if self._restyled:
            self._restyled = False
            self.stabilizer.reset()
        return self.stabilizer(source, stylized)

    # -- control over the data channel ----------------------------------------------------------
    async def _on_message(self, message) -> None:
        """``{"style": S, "strength": F, "keep_colors": B, "stability": F}`` (any subset) -> the new state."""
        try:
            fields = json.loads(message)
            if not isinstance(fields, dict):
                raise OptionError("a control message is a JSON object")
            reply = {"state": await self.control(**{k: fields[k] for k in ("style", "strength", "keep_colors",
                                                                             "stability") if k in fields})}
        except (ValueError, TypeError, StylecastError) as exc:
            reply = {"error": str(exc)}
        self._send(reply)

    async def control(self, style: str | None = None, strength: float | None = None,
                      keep_colors: bool | None = None, stability: float | None = None) -> dict:
        look = Look(self.look.strength if strength is None else float(strength),
                    self.look.keep_colors if keep_colors is None else bool(keep_colors))
        if stability is not None:
            Stabilizer(float(stability))
        if style is not None:
            chosen = self._styles(str(style))
            network = await asyncio.get_running_loop().run_in_executor(self.executor, self.engine.network, chosen)
            self.network, self.style = network, chosen
            self._restyled = True  # the stabilizer forgets the old style: the new one shows at once
        self.look = look
        if stability is not None:
            self.stabilizer.set_stability(float(stability))
        return self.state()

    def state(self) -> dict:
        return {"session": self.id, "style": self.style.name, "strength": self.look.strength,
                "keep_colors": self.look.keep_colors, "stability": self.stabilizer.stability}

    def _send(self, payload: dict) -> None:
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps(payload))

    async def _send_stats(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(STATS_EVERY_S)
            self._send({"stats": self.stats.snapshot()})

    # -- ending ---------------------------------------------------------------------------------
    async def _watchdog(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(WATCH_EVERY_S)
            if time.monotonic() - self.last_frame_at > IDLE_S:
                self._spawn_close(f"no camera frame for {IDLE_S:g} s")
                return

    def _spawn_close(self, why: str) -> None:
        if not self._closing:
            self.why_closed = why
            asyncio.ensure_future(self.close())

    async def close(self) -> None:
        """Release everything: the peer connection, its tracks and every task this session started."""
        if self._closing:
            await self.closed.wait()
            return
        self._closing = True
        self.closed.set()
        current = asyncio.current_task()
        tasks = [t for t in self.tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await self.pc.close()
        except Exception:  # aiortc's close trips over a half-negotiated connection (found by SDP fuzzing)
            await _release_transports(self.pc)
        finally:
            OPEN_CONNECTIONS.discard(self.pc)
            self._on_closed(self)


async def _release_transports(pc: RTCPeerConnection) -> None:
    """Stop every transport and socket a peer connection holds, each on its own, whatever state it is in."""
    parts = []
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        parts += [transceiver.stop, dtls.stop, dtls.transport.stop] if dtls else [transceiver.stop]
    sctp = pc.sctp
    if sctp is not None and sctp.transport is not None:
        parts += [sctp.transport.stop, sctp.transport.transport.stop]
    for stop in parts:
        try:
            await stop()
        except Exception:
            pass
