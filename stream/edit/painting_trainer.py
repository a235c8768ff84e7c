"""A live feed that follows a painting (issue #39): ``stylecast live --paint FRAME.png=PAINTED.png``.

The artist grabs a frame of the camera and paints it; the pair trains a shot network
(engines/training/keyframe_training.py, cached as every painted shot's) in a process of its own,
at a lower priority, while the feed runs on in its plain style: the feed's threads never wait for
the training's Python (one interpreter lock each), and the cores go to the feed first. The network
is the lighter generator (engines/networks/keyframe_net.py's LIVE), as the feed runs it on every
frame at its rate. When it is ready, ``on_ready(style)`` switches the feed to it (the live job's
stylist).
``figures()`` says where training is, for the status line and ``--json``; a failure is told there
too, and the plain style simply stays. ``close()`` ends the training with the feed.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
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
TRAINING_NICE = 10     # the training process's priority below the feed's (Linux: a tenth of its weight;
                       # and the idle scheduling class where there is one)


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
        self._thread = threading.Thread(target=self._follow, name="paint-training", daemon=True)
        self._process: multiprocessing.Process | None = None
        self._closed = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """The training ends with the feed (a network half trained is not kept)."""
        self._closed.set()
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(2.0)

    def _follow(self) -> None:
        """Starts the training process and takes in what it says, until it is done or fails."""
        from engines.runtimes.cpu import usable_cores

        started = time.perf_counter()
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the feed's threads copied
        theirs, mine = spawn.Pipe(duplex=False)
        # a core left to the feed beside it (on two cores, the training on one, the feed on the other)
        threads = max(1, usable_cores() - 1)
        self._process = spawn.Process(
            target=_train, args=(self.frame, self.painting, self.budget, threads, mine),
            name="stylecast-paint-training", daemon=True)
        try:
            self._process.start()
            mine.close()
            self._listen(theirs)
        except Exception as exc:  # the feed keeps its plain style; the reason is in the figures
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            theirs.close()
        self.seconds = round(time.perf_counter() - started, 1)

    def _listen(self, said) -> None:
        while True:
            try:
                kind, *what = said.recv()
            except EOFError:  # the process ended without a word: killed, or out of memory
                if not self._closed.is_set():
                    self.state, self.error = "failed", f"the training process ended (exit code {self._process.exitcode})"
                return
            if kind == "heard":
                step, loss, done, seconds_left = what
                self.step, self.loss = step, round(loss, 4)
                self.done, self.seconds_left = done, round(seconds_left, 1)
            elif kind == "failed":
                self.state, self.error = "failed", what[0]
                return
            else:
                path, steps = what
                self.on_ready(Style("keyframe", self.name, path=Path(path)))
                self.state, self.done, self.seconds_left = "ready", 1.0, 0.0
                if steps is not None:
                    self.step = steps
                return

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


def _train(frame, painting, budget: Budget, threads: int, say) -> None:
    """The training process: below the feed in priority, gone with its parent; says ("heard", step,
    loss, done, seconds left) after each step, then ("ready", path, steps) or ("failed", why)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the job's to handle: it closes this
    try:
        os.nice(TRAINING_NICE)
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: ends if the job is killed
    except (OSError, AttributeError):
        pass  # another system: the job's close() still ends it
    try:
        # Linux's idle class: a core goes to the feed's threads the moment one wakes, not after the
        # training's slice (24.8 of 25 frames/s while training at 960x540, against 24.1 at nice 10
        # alone, with no fewer steps: docs/benchmarks/keyframes.md)
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):
        pass  # not Linux: nice alone
    try:
        from engines.networks.keyframe_net import LIVE
        from engines.training.keyframe_training import PaintedFrame, keyframe_model

        trained = keyframe_model([PaintedFrame(frame, painting)], [], budget,
                                 lambda h: say.send(("heard", h.step, h.loss, h.done, h.seconds_left)),
                                 threads=threads, shape=LIVE)  # the generator a feed runs at its rate
        say.send(("ready", str(trained.path), trained.steps))
    except Exception as exc:
        say.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        say.close()


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
