"""A progress bar with frames/s and ETA on a terminal (rich); nothing when stderr is not a TTY."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def progress_bar(label: str, total: int | None, enabled: bool | None = None) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n, info=None)``; shows a bar on stderr when it is a terminal (or ``enabled``
    says so), with the rate of frames, or ``info`` (a training's loss) where it is given."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda n=1, info=None: None
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
