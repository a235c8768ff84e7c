"""Stages in threads joined by bounded queues: source -> stage -> ... -> sink.

File jobs use blocking queues (``queue_size`` items, nothing dropped): decode, inference and encode
overlap and each waits only for the slowest. A stage given as ``(fn, workers)`` runs on that many
threads at once (frame-level parallelism) and still hands items on in their order. The first error
in any thread stops every thread and is raised in the caller's thread; Ctrl-C stops them too.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, Sequence, Union

Stage = Union[Callable, tuple[Callable, int]]

_END = object()
_POLL_S = 0.1  # how often a blocked thread looks at the stop flag


class _Stopped(Exception):
    pass


def guarded(body: Callable[[], None], errors: list, stop: threading.Event, ignore: tuple = ()) -> Callable[[], None]:
    """``body`` made ready for a thread: its error (but ``ignore``'s kinds) is kept in ``errors``, to
    be raised in the caller's thread, and sets ``stop`` so every other thread ends too."""
    def run():
        try:
            body()
        except ignore:
            pass
        except BaseException as exc:  # carried to the caller's thread and raised there
            errors.append(exc)
            stop.set()
    return run


def start_threads(bodies: Sequence[tuple[str, Callable[[], None]]], errors: list, stop: threading.Event,
                  ignore: tuple = ()) -> list[threading.Thread]:
    """One daemon thread per ``(name, body)``, each guarded (see ``guarded``), started."""
    threads = [threading.Thread(target=guarded(body, errors, stop, ignore), name=name, daemon=True)
               for name, body in bodies]
    for t in threads:
        t.start()
    return threads


def _put(q: queue.Queue, item, stop: threading.Event) -> None:
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            q.put(item, timeout=_POLL_S)
            return
        except queue.Full:
            continue


def _get(q: queue.Queue, stop: threading.Event):
    while True:
        if stop.is_set():
            raise _Stopped
        try:
            item = q.get(timeout=_POLL_S)
        except queue.Empty:
            continue
        return item.result() if isinstance(item, Future) else item  # a parallel stage's result, in order


def run_pipeline(source: Iterable, stages: Sequence[Stage], sink: Callable, queue_size: int = 4,
                 stop: threading.Event | None = None) -> None:
    """Feed every item of ``source`` through ``stages`` (each ``item -> item``; ``(fn, n)`` for n
    threads) into ``sink`` (called in this thread). Returns when all items are through; raises the
    first error."""
    stop = stop or threading.Event()
    stages = [s if isinstance(s, tuple) else (s, 1) for s in stages]
    pools = {i: ThreadPoolExecutor(n, thread_name_prefix=f"stage-{i}") for i, (_, n) in enumerate(stages) if n > 1}
    queues = [queue.Queue(maxsize=queue_size) for _ in range(len(stages) + 1)]
    errors: list[BaseException] = []

    def produce():
        for item in source:
            _put(queues[0], item, stop)
        _put(queues[0], _END, stop)

    def stage_loop(fn, q_in, q_out, pool):
        def body():
            while (item := _get(q_in, stop)) is not _END:
                _put(q_out, pool.submit(fn, item) if pool else fn(item), stop)
            _put(q_out, _END, stop)
        return body

    bodies = [("source", produce)] + [(f"stage-{i}", stage_loop(fn, queues[i], queues[i + 1], pools.get(i)))
                                      for i, (fn, _) in enumerate(stages)]
    threads = start_threads(bodies, errors, stop, ignore=(_Stopped,))
    try:
        while (item := _get(queues[-1], stop)) is not _END:
            sink(item)
    except _Stopped:
        pass
    except BaseException:
        stop.set()
        raise
    finally:
        stop.set()  # every item is through, or something failed: either way the threads end now
        for t in threads:
            t.join(timeout=5)
        for pool in pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
    if errors:
        raise errors[0]


class LatestSlot:
    """A one-item hand-over for live work: ``put`` replaces what is waiting (the newest frame wins,
    the replaced one is counted as dropped), ``take`` waits for an item. Never grows."""

    def __init__(self):
        self._item = None
        self._ready = threading.Condition()
        self.dropped = 0

    def put(self, item) -> None:
        with self._ready:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._ready.notify()

    def take(self, stop: threading.Event, within: float | None = None):
        """The waiting item; None when ``stop`` is set first, or when ``within`` seconds pass without one."""
        deadline = None if within is None else time.monotonic() + within
        with self._ready:
            while self._item is None:
                if stop.is_set():
                    return None
                left = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
                if left <= 0:
                    return None
                self._ready.wait(left)
            item, self._item = self._item, None
            return item
