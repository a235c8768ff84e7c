"""How a long step reports how far it got: the :class:`Progress` protocol every long step takes
(a render, finding shots, training a painted shot, a cluster's chunks), ``quiet`` where nobody
listens, and a terminal's bars (rich) with frames/s and ETA, nothing when stderr is not a TTY."""
from __future__ import annotations

import sys
from contextlib import ExitStack, contextmanager
from typing import Iterator, Protocol


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
