"""A WHEP player (stream/serve/whip.py): one WHIP publisher's stylized camera, on a peer connection
of its own. It holds a viewer's place (its encoder costs one), and it ends, releasing everything,
when the player says so (``DELETE``), when ICE fails or closes, or when its publisher's session ends.
"""
from __future__ import annotations

import asyncio
from typing import Callable

from aiortc import RTCSessionDescription

from .peer import PeerOwner, answer_offer
from .session import Session


class Playback(PeerOwner):
    def __init__(self, publisher: Session, on_closed: Callable[[Playback], None], ice_servers=()):
        super().__init__(on_closed, ice_servers)
        self.publisher = publisher
        self.track = publisher.playback()
        self._watch: asyncio.Task | None = None

    async def answer(self, sdp: str) -> RTCSessionDescription:
        """The player's offer answered with the stylized picture; OfferError with the reason."""
        answer = await answer_offer(self.pc, sdp, "offer", self.track, receive=False)
        self._watch = asyncio.ensure_future(self._follow_publisher())
        return answer

    async def _follow_publisher(self) -> None:
        await self.publisher.closed.wait()
        self.close_soon("its publisher went")

    def state(self) -> dict:
        return {"player": self.id, "of": self.publisher.id}

    async def _let_go(self) -> None:
        if self._watch is not None and self._watch is not asyncio.current_task():
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
