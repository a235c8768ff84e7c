"""A live feed that follows a painting (issue #39): ``stylecast live --paint FRAME.png=PAINTED.png``.

The artist grabs a frame of the camera and paints it; the pair trains a shot network
(engines/training/keyframe_training.py, cached as every painted shot's) in a thread of its own while
the feed runs on in its plain style. When the network is ready, ``on_ready(style)`` switches the
feed to it (the live job's stylist). ``figures()`` says where training is, for the status line and
``--json``; a failure is told there too, and the plain style simply stays.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from engines.catalog import Style
from engines.errors import OptionError
from engines.training import Budget
from stream.media.decode import output_size

from .painted import read_picture


def parse_paint(text: str) -> tuple[Path, Path]:
    """``FRAME.png=PAINTED.png`` -> the two paths (checked: both readable pictures)."""
    frame, sep, painted = text.partition("=")
    if not sep or not frame or not painted:
        raise OptionError(f"--paint takes FRAME.png=PAINTED.png (a frame of this camera and its painting), "
                          f"got {text!r}")
    return Path(frame), Path(painted)


LIVE_TRAINING_S = 240  # a live feed's painting trains within this (beside the feed), unless told otherwise


class PaintingTrainer:
    """``paint``: FRAME.png=PAINTED.png; ``max_side``: the size the live network runs at; ``budget``:
    how long it trains (engines/training's Budget). Pictures are read and checked here (one clear
    error before anything runs); ``start`` trains in a thread."""

    def __init__(self, paint: str, max_side: int | None, budget: Budget, on_ready: Callable[[Style], None]):
        frame_path, painted_path = parse_paint(paint)
        frame = read_picture(frame_path, None, "--paint")
        size = output_size(frame.shape[1], frame.shape[0], max_side)
        self.frame = read_picture(frame_path, size, "--paint") if size != frame.shape[1::-1] else frame
        self.painting = read_picture(painted_path, size, "--paint")
        try:
            import engines.training.keyframe_training  # noqa: F401  (torch, checked before the feed starts)
        except ImportError:
            raise OptionError("--paint trains a network with torch, which is not installed "
                              "(pip install torch==2.13.0; see README)") from None
        self.name = f"painted {painted_path.name}"
        self.budget, self.on_ready = budget, on_ready
        self.state, self.step, self.loss, self.seconds, self.error = "training", 0, None, 0.0, None
        self.done, self.seconds_left = 0.0, None
        self._thread = threading.Thread(target=self._train, name="paint-training", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _heard(self, heard) -> None:
        self.step, self.loss = heard.step, round(heard.loss, 4)
        self.done, self.seconds_left = heard.done, round(heard.seconds_left, 1)

    def _train(self) -> None:
        from engines.runtimes.cpu import usable_cores
        from engines.training.keyframe_training import PaintedFrame, keyframe_model

        started = time.perf_counter()
        try:
            # a core left to the feed beside it (on two cores, the training on one, the feed on the other)
            threads = max(1, usable_cores() - 1)
            trained = keyframe_model([PaintedFrame(self.frame, self.painting)], [], self.budget, self._heard,
                                     threads=threads)
            self.on_ready(Style("keyframe", self.name, path=trained.path))
            self.state, self.done, self.seconds_left = "ready", 1.0, 0.0
            if trained.steps is not None:
                self.step = trained.steps
        except Exception as exc:  # the feed keeps its plain style; the reason is in the figures
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
        self.seconds = round(time.perf_counter() - started, 1)

    def figures(self) -> dict:
        return {"state": self.state, "steps": self.step, "done": round(self.done, 3), "loss": self.loss,
                "seconds_left": self.seconds_left, "seconds": self.seconds or None, "error": self.error}

    def line(self) -> str:
        """For the live status line, while training."""
        if self.state == "training":
            left = "" if self.seconds_left is None else f", about {_minutes(self.seconds_left)} left"
            return (f"painting: training {100 * self.done:.0f}% (step {self.step}{left}; "
                    "the plain style until it is ready)")
        return "painting: ready" if self.state == "ready" else f"painting: failed ({self.error})"


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
