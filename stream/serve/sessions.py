"""The viewers of one server: the sessions open now (admission counts them), their peer
connections, and every session object not yet freed (a leak shows there first).

A closed session lives on in reference cycles (its peer connection's callbacks, aiortc's
transports), holding its frames, stabilizer state and RTP history until the collector's next full
pass, which on a quiet server can be many viewers away (the soak of issue #8 grew 5% over 200
viewers). So while more sessions are in memory than open, ``release_memory`` collects every second
(the server freezes its start-up objects out of the collector's sight: about 1 ms a pass), and
gives the freed heap back to the system.
"""
from __future__ import annotations

import asyncio
import gc
import weakref

from engines.runtimes.heap import give_back_freed_memory

from .session import Session

RELEASE_EVERY_S = 1.0  # how often closed sessions still in memory are collected
ROOM_WAIT_S = 0.5      # a full server waits this long for a closing viewer's place before refusing:
                       # a close on its way lands within milliseconds; a real excess is refused within it
_ROOM_POLL_S = 0.05


class Sessions:
    def __init__(self):
        self.open: dict[str, Session] = {}
        self.connections: set = set()                  # peer connections made and not yet closed
        self.in_memory: weakref.WeakSet = weakref.WeakSet()  # session objects not yet freed, closed or not

    def __len__(self) -> int:
        return len(self.open)

    @property
    def active(self) -> int:
        """Viewers holding a place: open sessions that are not closing. Admission counts these."""
        return sum(1 for s in self.open.values() if not s.closing)

    async def room(self, limit: int, wait_s: float = ROOM_WAIT_S) -> bool:
        """True when a new viewer fits under ``limit``. A full server waits up to ``wait_s`` for a
        place to free: a reloaded page offers again at once, and its old connection's close (or
        goodbye) may still be on the way."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while self.active >= limit:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(_ROOM_POLL_S)
        return True

    def goodbye(self, session_id: str) -> None:
        """The viewer's page is going: start closing its session now (an unknown id: nothing)."""
        session = self.open.get(session_id)
        if session is not None:
            session.close_soon("the viewer said goodbye")

    def add(self, session: Session) -> None:
        self.open[session.id] = session
        self.connections.add(session.pc)
        self.in_memory.add(session)

    def closed(self, session: Session) -> None:
        """A session has released everything (its ``on_closed``)."""
        self.open.pop(session.id, None)
        self.connections.discard(session.pc)

    async def close_all(self) -> None:
        await asyncio.gather(*(s.close() for s in list(self.open.values())), return_exceptions=True)

    async def release_memory(self) -> None:
        """Runs until cancelled: collect closed sessions still in memory, then give the heap back."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(RELEASE_EVERY_S)
            if len(self.in_memory) > len(self.open):
                gc.collect()
                if len(self.in_memory) == len(self.open):
                    await loop.run_in_executor(None, give_back_freed_memory)
