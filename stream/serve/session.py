"""A WebRTC viewer's session: their camera in, the same camera stylized back.

Each :class:`Session` owns an aiortc peer connection (stream/serve/peer.py), the outgoing
:class:`~stream.serve.stylized_track.StylizedTrack`, its own look (a :class:`~stream.styling.stylist.Stylist`:
style, strength, stabilizer) on the engine every session shares, and every task it starts. The
page changes the look over a data channel (``{"style", "strength", "keep_colors", "stability"}``,
any subset; the reply is ``{"state": ...}`` or ``{"error": ...}``) and gets the session's figures
on it each second. ``{"paint": {"frame": "upload:ID", "painting": "upload:ID"}}`` (two uploaded
pictures: a frame of this camera and its painting) trains that painting's network beside the call
(stream/edit/painting_trainer.py; its progress in the figures) and switches to it when ready. With a batcher (stream/serve/batcher.py) its frames go through the network in
batches with every other viewer's. A session ends, releasing everything, when the browser closes it, when ICE
fails, or after ``idle_s`` seconds without a camera frame (the watchdog; IDLE_S unless the server says).
A WHIP publisher's session (stream/serve/whip.py) is the same, its stylized camera sent to its WHEP
players rather than back.
"""
from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import Callable

from aiortc import MediaStreamTrack, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from engines import Engine, Style
from engines.errors import OptionError, StylecastError
from engines.training import Budget
from stream.edit.painting_trainer import PaintingTrainer
from stream.styling.controls import Controls, parse_controls
from stream.styling.stats import LiveStats
from stream.styling.stylist import Stylist

from .batcher import Batcher
from .options import IDLE_S
from .peer import PeerOwner, answer_offer
from .stylized_track import StylizedTrack

WATCH_EVERY_S = 0.25
STATS_EVERY_S = 1.0    # the server's figures go to the page this often over the data channel


class Session(PeerOwner):
    """One viewer. ``styles`` turns a style spec the viewer may pick (built-ins, blends, uploads)
    into a Style (StyleError otherwise); ``on_closed`` is called once everything is released."""

    def __init__(self, engine: Engine, executor: Executor, style: str, max_side: int | None,
                 styles: Callable[[str], Style], on_closed: Callable[[Session], None], ice_servers=(),
                 adapt: bool = False, batcher: Batcher | None = None, pictures: Callable[[str], Path] | None = None,
                 budget: Budget = Budget(), idle_s: float = IDLE_S, path=None):
        super().__init__(on_closed, ice_servers)
        self.executor, self.batcher = executor, batcher
        self._pictures, self._budget, self._paint_side, self.idle_s = pictures, budget, max_side, idle_s
        self.trainer: PaintingTrainer | None = None
        self.stylist = Stylist(engine, Controls(style=style), LiveStats(),
                               styles, adapt=adapt, path=path,
                               networks=batcher.networks(self) if batcher else None)
        self.stats = self.stylist.stats
        self.track = StylizedTrack(self.stylist, executor, max_side, self._spawn)
        self.tasks: set[asyncio.Task] = set()
        self.channel = None
        self._relay: MediaRelay | None = None  # WHEP players' copies of the stylized camera
        self.publishing = False  # a WHIP publisher's: its picture goes to players, not back
        self.pc.on("datachannel", self._on_channel)
        self.pc.on("track", self._on_track)

    async def answer(self, sdp: str, kind: str, send_back: bool = True) -> RTCSessionDescription:
        """Apply the browser's offer and return the answer; raises OfferError with the reason.
        ``send_back``: the stylized camera goes back on the same connection (the demo's page); a
        WHIP publisher's goes to its WHEP players instead (``playback``)."""
        answer = await answer_offer(self.pc, sdp, kind, self.track if send_back else None)
        self._spawn(self._watchdog())
        return answer

    def playback(self) -> MediaStreamTrack:
        """The stylized camera for one more player (WHEP, stream/serve/whip.py): each player's copy
        of the one stylized stream, which runs only while someone plays it."""
        if self._relay is None:
            self._relay = MediaRelay()
        return self._relay.subscribe(self.track, buffered=False)

    def _spawn(self, coro) -> asyncio.Task:
        """Run ``coro`` as a task this session owns (cancelled when it closes)."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def _on_track(self, camera) -> None:
        if camera.kind == "video":
            self._spawn(self._follow(camera))
        else:  # a publisher's sound (OBS sends it): read and let go, so it never queues
            self._spawn(_drain(camera))

    async def _follow(self, camera) -> None:
        await self.track.follow(camera)
        self.close_soon("the browser stopped sending video")

    def _on_channel(self, channel) -> None:
        self.channel = channel
        channel.on("message", lambda message: self._spawn(self._on_message(message)))
        self._spawn(self._send_stats())

    # -- the look, over the data channel -----------------------------------------------------
    async def _on_message(self, message) -> None:
        if _is_goodbye(message):  # the page is going (reload, tab closed): free the place now
            self.close_soon("the viewer said goodbye")
            return
        try:
            paint = _paint_request(message)
            reply = {"painting": self.paint(**paint)} if paint else {"state": await self.control(**parse_controls(message))}
        except StylecastError as exc:
            reply = {"error": str(exc)}
        self._send(reply)

    async def control(self, **fields) -> dict:
        """Change the look between frames (a new style's network is built off the event loop)."""
        await asyncio.get_running_loop().run_in_executor(self.executor, lambda: self.stylist.control(**fields))
        return self.state()

    def paint(self, frame: str, painting: str) -> dict:
        """Train the network of ``painting`` (an upload) of ``frame`` (an upload: a frame of this
        camera) beside the call; the look switches to it when it is ready. Its figures now."""
        if self._pictures is None:
            raise OptionError("this server does not take paintings")
        if self.trainer is not None and self.trainer.state == "training":
            raise OptionError("a painting is training already; wait for it")

        spec = f"{self._pictures(frame)}={self._pictures(painting)}"
        self.trainer = PaintingTrainer(spec, self._paint_side, self._budget, self.stylist.follow)
        self.trainer.start()
        return self.trainer.figures()

    def state(self) -> dict:
        return {"session": self.id, **self.stylist.state()}

    def _send(self, payload: dict) -> None:
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps(payload))

    async def _send_stats(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(STATS_EVERY_S)
            self._send({"stats": self.stats.snapshot(),
                        **({"painting": self.trainer.figures()} if self.trainer else {}), "state": self.state()})

    # -- ending --------------------------------------------------------------------------------
    async def _watchdog(self) -> None:
        while not self.closed.is_set():
            await asyncio.sleep(WATCH_EVERY_S)
            if time.monotonic() - self.track.last_frame_at > self.idle_s:
                self.close_soon(f"no camera frame for {self.idle_s:g} s")
                return
            self.stylist.adapt()  # and, as often, the network's size follows what this viewer gets

    async def _let_go(self) -> None:
        """A frame waiting for a batch, and every task this session started."""
        if self.batcher is not None:  # a frame of this viewer's waiting for a batch is let go now
            self.batcher.leave(self)
        if self.trainer is not None:  # a painting training for this viewer ends with the call
            self.trainer.close()
        current = asyncio.current_task()
        tasks = [t for t in self.tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _drain(track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        return


def _paint_request(message) -> dict | None:
    """``{"paint": {"frame": ..., "painting": ...}}`` -> its two fields; None for any other message."""
    if not isinstance(message, str) or "paint" not in message:
        return None
    try:
        paint = json.loads(message).get("paint")
    except (ValueError, AttributeError):
        return None
    if not isinstance(paint, dict) or set(paint) != {"frame", "painting"}:
        return None if paint is None else {"frame": None, "painting": None}
    return paint


def _is_goodbye(message) -> bool:
    if not isinstance(message, str) or "bye" not in message:
        return False
    try:
        return json.loads(message) == {"bye": True}
    except ValueError:
        return False

