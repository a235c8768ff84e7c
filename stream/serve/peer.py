"""A viewer's peer connection: made, answered, and released whatever state it is in.

aiortc carries the media. An offer this server cannot use is an :class:`OfferError` with a reason
the client can act on (HTTP 400); answering never takes longer than ``SETUP_TIMEOUT_S``. What owns a
peer connection (a viewer's or publisher's session, a WHEP player) closes it once through
:class:`PeerOwner`.
"""
from __future__ import annotations

import asyncio
import secrets
from typing import Callable

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

from engines.errors import StylecastError

SETUP_TIMEOUT_S = 5.0  # answering an offer (ICE gathering included) takes at most this


class PeerOwner:
    """What owns one peer connection and its outgoing ``track``: it closes once, asked from outside
    (a route), from one of its own tasks or callbacks, or by ICE failing; ``on_closed(self)`` is
    called once everything is released. A subclass lets go of its own things in ``_let_go``
    (before its track and connection)."""

    track: MediaStreamTrack

    def __init__(self, on_closed: Callable, ice_servers=()):
        self.id = secrets.token_hex(8)
        self._on_closed = on_closed
        self.pc = peer_connection(ice_servers)
        self.closed = asyncio.Event()
        self.why_closed = ""
        self._closing = False
        self._closer: asyncio.Future | None = None
        self.pc.on("connectionstatechange", self._on_state)

    def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self.close_soon(f"connection {self.pc.connectionState}")

    @property
    def closing(self) -> bool:
        """Closing or closed: it no longer holds a viewer's place."""
        return self._closing or self._closer is not None

    def close_soon(self, why: str) -> None:
        """Start closing now and return; safe from inside one of its own tasks or callbacks (the
        close cancels them) and from outside."""
        if not self.closing:
            self.why_closed = why
            self._closer = asyncio.ensure_future(self.close())  # kept: not one of the tasks it cancels

    async def close(self) -> None:
        """Release everything: its own things, its track, the peer connection."""
        if self._closing:
            await self.closed.wait()
            return
        self._closing = True
        self.closed.set()
        await self._let_go()
        self.track.stop()
        try:
            await release(self.pc)
        finally:
            self._on_closed(self)

    async def _let_go(self) -> None:
        pass


class OfferError(StylecastError):
    """An offer this server cannot answer; the reason goes back to the client (HTTP 400)."""


def peer_connection(ice_servers=()) -> RTCPeerConnection:
    """A peer connection that contacts only the STUN/TURN servers named (none by default)."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[RTCIceServer(url) for url in ice_servers]))


async def answer_offer(pc: RTCPeerConnection, sdp: str, kind: str, outgoing: MediaStreamTrack | None,
                       receive: bool = True) -> RTCSessionDescription:
    """Apply a client's offer and return the answer. The demo's page and a WHIP publisher send a
    camera (``receive``); ``outgoing`` goes back on the video where given (the demo's stylized
    camera, a WHEP player's picture). Sound in an offer is taken where sent, and never sent back."""
    if kind != "offer":
        raise OfferError(f"expected an SDP offer, got type {kind!r}")
    if "m=video" not in sdp:
        raise OfferError("the offer has no video; send the camera as a video track" if receive else
                         "the offer has no video to receive the stylized picture on")
    try:
        await asyncio.wait_for(pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer")), SETUP_TIMEOUT_S)
        video = [t for t in pc.getTransceivers() if t.kind == "video"]
        if receive and (not video or video[0].receiver.track is None):
            raise OfferError("the offer has no camera track to stylize")
        if outgoing is not None:
            video[0].sender.replaceTrack(outgoing)
        video[0].direction = {(True, True): "sendrecv", (True, False): "recvonly"}.get(
            (receive, outgoing is not None), "sendonly")
        for other in pc.getTransceivers():
            if other.kind != "video":
                other.direction = "recvonly" if receive else "inactive"
        await asyncio.wait_for(pc.setLocalDescription(await pc.createAnswer()), SETUP_TIMEOUT_S)
    except OfferError:
        raise
    except asyncio.TimeoutError:
        raise OfferError(f"could not answer the offer within {SETUP_TIMEOUT_S:g} s") from None
    except Exception as exc:  # aiortc's parser raises many kinds of errors on a bad offer
        reason = str(exc) or type(exc).__name__
        if "send parameters" in reason or "codec" in reason.lower():
            reason = "no video codec in common (stylecast sends and receives VP8 or H.264)"
        raise OfferError(f"cannot use this offer: {reason}") from None
    return pc.localDescription


async def release(pc: RTCPeerConnection) -> None:
    """Close ``pc``; where aiortc's close trips over a half-negotiated connection (found by SDP
    fuzzing), stop every transport and socket it holds, each on its own."""
    try:
        await pc.close()
        return
    except Exception:
        pass
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
