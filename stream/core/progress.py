"""How a long step reports how far it got: the :class:`Progress` protocol every long step takes
(a render, finding shots, training a painted shot, a cluster's chunks), ``quiet`` where nobody
listens, a terminal's bars (rich) with frames/s and ETA, nothing when stderr is not a TTY, and
:class:`Tracker`, what a page shows of a job (the piece of work under way, how far, how fast, the
time left) with the job's stop: ``cancel`` makes the work stop at its next step."""
from __future__ import annotations

import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from typing import Callable, Iterator, Protocol

from engines.errors import StylecastError

FRAMES = "render"  # the piece of work that is a render's frames (its others: a painted shot's training...)


class Advance(Protocol):
    """Called as the work goes: ``n`` more units done; ``info`` (a training's loss) shown instead of the rate."""

    def __call__(self, n: int = 1, info: str | None = None) -> None: ...


class Progress(Protocol):
    """Called once per piece of work with its size (None when unknown) and what it is (``"render"``,
    ``"shots"``, ``"painting shot 2"``); returns the ``Advance`` that piece calls as it goes. A step
    may start several pieces (a render trains its painted shots, then renders)."""

    def __call__(self, total: int | None, label: str) -> Advance: ...


def _nothing(n: int = 1, info: str | None = None) -> None:
    pass


def quiet(total: int | None, label: str) -> Advance:
    """The progress of a step nobody watches."""
    return _nothing


def terminal(stack: ExitStack, enabled: bool | None = None) -> Progress:
    """A bar on stderr for each piece of work, opened when the piece starts and closed with ``stack``
    (only on a terminal, unless ``enabled`` says otherwise)."""
    return lambda total, label: stack.enter_context(progress_bar(label, total, enabled))


@contextmanager
def progress_bar(label: str, total: int | None, enabled: bool | None = None) -> Iterator[Advance]:
    """Yields ``advance(n, info=None)``; shows a bar on stderr when it is a terminal (or ``enabled``
    says so), with the rate of frames, or ``info`` (a training's loss) where it is given."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("[cyan]{task.fields[fps]}"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(label, total=total, fps="")

        def advance(n: int = 1, info: str | None = None) -> None:
            progress.advance(task, n)
            speed = progress.tasks[0].speed
            if info is not None:
                progress.update(task, fps=info)
            elif speed:
                progress.update(task, fps=f"{speed:5.1f} frames/s")

        yield advance


@contextmanager
def spinner(label: str, enabled: bool | None = None) -> Iterator[None]:
    """A spinner with the elapsed time for work of unknown length (an engine build), on a terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(label):
        yield


class Cancelled(StylecastError):
    """Work stopped from outside (a page's cancel, a server stopping): raised from its next step."""


class Tracker:
    """A :class:`Progress` that keeps how far the work got, for a page to show: the piece under way
    (``phase``: "render", "painting shot 2"), units done of its total, its ``info`` (a training's
    loss), units a second since the piece started and the seconds left. ``cancel(why)`` is the
    work's stop: its next ``advance`` raises :class:`Cancelled` (a render checks between frames,
    a training between steps). ``on_piece(total, label)`` and ``on_advance(n)`` hear the work as
    it goes (a job's row in a store)."""

    def __init__(self, on_piece: Callable[[int | None, str], None] | None = None,
                 on_advance: Callable[[int], None] | None = None):
        self._on_piece, self._on_advance = on_piece, on_advance
        self._stop = threading.Event()
        self.reason: str | None = None
        self.phase: str | None = None
        self.total: int | None = None
        self.done = 0
        self.info: str | None = None
        self._started = self._first = 0.0
        self._first_done = 0

    def __call__(self, total: int | None, label: str) -> Advance:
        self.check()
        self.phase, self.total, self.done, self.info = label, total, 0, None
        self._started, self._first, self._first_done = time.monotonic(), 0.0, 0
        if self._on_piece is not None:
            self._on_piece(total, label)
        return self.advance

    def advance(self, n: int = 1, info: str | None = None) -> None:
        self.check()
        if not self._first:  # the rate counts from the first unit (what came before it was set-up)
            self._first, self._first_done = time.monotonic(), self.done + n
        self.done += n
        if info is not None:
            self.info = info
        if self._on_advance is not None:
            self._on_advance(n)

    def check(self) -> None:
        """Raise :class:`Cancelled` once the work is cancelled."""
        if self._stop.is_set():
            raise Cancelled(self.reason or "cancelled")

    def cancel(self, why: str = "cancelled") -> None:
        if not self._stop.is_set():
            self.reason = why
            self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    @property
    def rate(self) -> float | None:
        """Units a second since the piece's first unit (None until there is half a second of it)."""
        spent = time.monotonic() - self._first if self._first else 0.0
        return (self.done - self._first_done) / spent if spent > 0.5 and self.done > self._first_done else None

    def figures(self) -> dict:
        """What a page shows: phase, done, total, info, rate (units/s) and eta_s (seconds left)."""
        rate = self.rate
        eta = (self.total - self.done) / rate if rate and self.total else None
        return {"phase": self.phase, "done": self.done, "total": self.total, "info": self.info,
                "rate": round(rate, 3) if rate else None, "eta_s": round(eta, 1) if eta is not None else None}
