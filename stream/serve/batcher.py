"""Every viewer's frame through one network: a server's frames gathered into batches.

Each viewer's stylist (stream/styling/stylist.py) gets its networks from ``Batcher.networks(owner)``:
for a style the engine can batch (``Engine.batch_key``: the built-in styles and blends are one
network, the pictures another, each style its own norm scales and shifts), calling the network
hands the frame to the batcher and waits. One thread gathers what the viewers hand in: a batch goes
as soon as every viewer has a frame waiting, after ``wait_ms`` from its first frame at the latest,
or when it is full (cameras keep their own time, so a batch fills mostly while the one before it
runs: under load); frames of one family and size go together (``Engine.run_batch``), each with its
own look. Strength, keep-colours and the stabilizer stay each viewer's own, as before.

Never queued: a frame that waited longer than ``stale_ms`` (the network is behind) is let go with
``FrameDropped``, and its viewer takes its newest camera frame instead; a viewer who leaves
(``leave``) has its waiting frame let go at once, and the batches stop waiting for it.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from engines import Engine, Style
from engines.network_cache import NetworkCache
from engines.optional import is_tensor, torch
from stream.styling.stylist import LIVE_NETWORKS, FrameDropped

from .options import WAIT_MS

STALE_MS = 250.0   # a frame older than this when its batch would go is let go
MAX_BATCH = 64     # frames in one batch at most


@dataclass(eq=False)
class _Waiting:
    owner: object
    family: str
    look: object
    frame: np.ndarray
    since: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    result: np.ndarray | None = None
    error: BaseException | None = None

    @property
    def group(self) -> tuple:
        return self.family, self.frame.shape

    def finish(self, result: np.ndarray | None = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


class _InBatch:
    """A viewer's network for one style: each call waits for its frame's batch (a host picture, or
    on the device path a device picture: ``on_device``)."""

    def __init__(self, batcher: Batcher, owner: object, family: str, look: object):
        self.batcher, self.owner, self.family, self.look = batcher, owner, family, look

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        return self.batcher.stylize(self.owner, self.family, self.look, frame)

    def on_device(self, frames):
        """A device frame path's batch of this viewer's pictures ([n, H, W, 3] on the engine's device):
        each in the next batch of its family, with every other viewer's."""
        return torch.stack([self.batcher.stylize(self.owner, self.family, self.look, f) for f in frames])


class Batcher:
    def __init__(self, engine: Engine, wait_ms: float = WAIT_MS, stale_ms: float = STALE_MS,
                 max_batch: int = MAX_BATCH):
        self.engine, self.wait_s, self.stale_s, self.max_batch = engine, wait_ms / 1000, stale_ms / 1000, max_batch
        self._waiting: list[_Waiting] = []
        self._owners: set = set()
        self._wake = threading.Condition()
        self._closed = False
        self.sizes: Counter[int] = Counter()  # batch size -> batches run
        self.stale = 0                        # frames let go for waiting too long
        self.run_ms = 0.0                     # the last batch's network time
        threading.Thread(target=self._serve, name="batcher", daemon=True).start()

    # -- the viewers' side (their executor threads) -------------------------------------------------
    def networks(self, owner: object) -> NetworkCache:
        """``owner``'s networks (a stylist's ``networks``): batched where the engine can batch the style."""
        with self._wake:
            self._owners.add(owner)
        return NetworkCache(self.engine, LIVE_NETWORKS, build=lambda style: self._network(owner, style))

    def _network(self, owner: object, style: Style):
        key = self.engine.batch_key(style)
        return self.engine.network(style) if key is None else _InBatch(self, owner, *key)

    def stylize(self, owner: object, family: str, look: object, frame: np.ndarray) -> np.ndarray:
        """``frame`` through the network in ``look``, in the next batch of its family; FrameDropped
        when it is let go (stale, or its viewer left)."""
        waiting = _Waiting(owner, family, look, frame)
        with self._wake:
            if self._closed or owner not in self._owners:
                raise FrameDropped("the viewer has left")
            self._waiting.append(waiting)
            self._wake.notify_all()
        waiting.done.wait()
        if waiting.error is not None:
            raise waiting.error
        return waiting.result

    def leave(self, owner: object) -> None:
        """``owner`` is gone: its waiting frames are let go, and no batch waits for it."""
        with self._wake:
            self._owners.discard(owner)
            gone = [w for w in self._waiting if w.owner is owner]
            self._waiting = [w for w in self._waiting if w.owner is not owner]
            self._wake.notify_all()
        for w in gone:
            w.finish(error=FrameDropped("the viewer has left"))

    def close(self) -> None:
        with self._wake:
            self._closed = True
            gone, self._waiting = self._waiting, []
            self._wake.notify_all()
        for w in gone:
            w.finish(error=FrameDropped("the server is stopping"))

    def figures(self) -> dict:
        """For /api/stats: batches by size, frames let go, the last batch's time."""
        batches = sum(self.sizes.values())
        return {"batches": batches, "mean_size": round(sum(n * c for n, c in self.sizes.items()) / batches, 2)
                if batches else 0.0, "sizes": dict(sorted(self.sizes.items())), "stale_frames": self.stale,
                "last_batch_ms": round(self.run_ms, 2)}

    # -- the batcher's thread -----------------------------------------------------------------------
    def _serve(self) -> None:
        while True:
            batch = self._gather()
            if batch is None:
                return
            self._run(batch)

    def _gather(self) -> list[_Waiting] | None:
        """The next batch: the oldest frame's family and size, once every viewer has a frame in,
        ``wait_s`` after the oldest came, or a full batch; stale frames are let go here."""
        with self._wake:
            while True:
                if self._closed:
                    return None
                now = time.monotonic()
                stale = [w for w in self._waiting if now - w.since > self.stale_s]
                if stale:
                    self._waiting = [w for w in self._waiting if w not in stale]
                    self.stale += len(stale)
                    for w in stale:
                        w.finish(error=FrameDropped("waited too long for the network"))
                if not self._waiting:
                    self._wake.wait()
                    continue
                group = self._waiting[0].group
                same = [w for w in self._waiting if w.group == group][: self.max_batch]
                due = self._waiting[0].since + self.wait_s
                everyone = {w.owner for w in self._waiting} >= self._owners
                if everyone or len(same) == self.max_batch or now >= due:
                    self._waiting = [w for w in self._waiting if w not in same]
                    return same
                self._wake.wait(due - now)

    def _run(self, batch: list[_Waiting]) -> None:
        started = time.perf_counter()
        frames = [w.frame for w in batch]
        try:  # host pictures, or device ones (a device frame path: the batch never leaves the device)
            stacked = torch.stack(frames) if is_tensor(frames[0]) else np.stack(frames)
            out = self.engine.run_batch(batch[0].family, stacked, [w.look for w in batch])
        except Exception as exc:  # each viewer's stylist counts it and passes its picture through
            for w in batch:
                w.finish(error=exc)
            return
        self.run_ms = (time.perf_counter() - started) * 1000
        self.sizes[len(batch)] += 1
        for w, image in zip(batch, out):
            w.finish(result=image)
