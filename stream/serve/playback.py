"""A WHEP player (stream/serve/whip.py): one WHIP publisher's stylized camera, on a peer connection
of its own. It holds a viewer's place (its encoder costs one), and it ends, releasing everything,
when the player says so (``DELETE``), when ICE fails or closes, or when its publisher's session ends.
"""
from __future__ import annotations

import asyncio
import secrets
from typing import Callable

from aiortc import RTCSessionDescription

from .peer import answer_offer, peer_connection, release
from .session import Session


class Playback:
    def __init__(self, publisher: Session, on_closed: Callable[[Playback], None], ice_servers=()):
        self.id = secrets.token_hex(8)
        self.publisher, self._on_closed = publisher, on_closed
        self.pc = peer_connection(ice_servers)
        self.track = publisher.playback()
        self.closed = asyncio.Event()
        self.why_closed = ""
        self._closing = False
        self._closer: asyncio.Future | None = None
        self._watch: asyncio.Task | None = None
        self.pc.on("connectionstatechange", self._on_state)

    async def answer(self, sdp: str) -> RTCSessionDescription:
        """The player's offer answered with the stylized picture; OfferError with the reason."""
        answer = await answer_offer(self.pc, sdp, "offer", self.track, receive=False)
        self._watch = asyncio.ensure_future(self._follow_publisher())
        return answer

    async def _follow_publisher(self) -> None:
        await self.publisher.closed.wait()
        self.close_soon("its publisher went")

    def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self.close_soon(f"connection {self.pc.connectionState}")

    def state(self) -> dict:
        return {"player": self.id, "of": self.publisher.id}

    @property
    def closing(self) -> bool:
        return self._closing or self._closer is not None

    def close_soon(self, why: str) -> None:
        if not self.closing:
            self.why_closed = why
            self._closer = asyncio.ensure_future(self.close())

    async def close(self) -> None:
        if self._closing:
            await self.closed.wait()
            return
        self._closing = True
        self.closed.set()
        if self._watch is not None and self._watch is not asyncio.current_task():
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        self.track.stop()
        try:
            await release(self.pc)
        finally:
            self._on_closed(self)
