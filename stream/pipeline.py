"""Stages in threads joined by bounded queues: source -> stage -> ... -> sink.

File jobs use blocking queues (``queue_size`` items, nothing dropped): decode, inference and encode
overlap and each waits only for the slowest. The first error in any thread stops every thread and
is raised in the caller's thread; Ctrl-C stops them too. Items keep their order.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, Sequence

_END = object()
_POLL_S = 0.1  # how often a blocked thread looks at the stop flag


class _Stopped(Exception):
    pass


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
            return q.get(timeout=_POLL_S)
        except queue.Empty:
            continue


def run_pipeline(source: Iterable, stages: Sequence[Callable], sink: Callable, queue_size: int = 4,
                 stop: threading.Event | None = None) -> None:
    """Feed every item of ``source`` through ``stages`` (each ``item -> item``, one thread each) into
    ``sink`` (called in this thread). Returns when all items are through; raises the first error."""
    stop = stop or threading.Event()
    queues = [queue.Queue(maxsize=queue_size) for _ in range(len(stages) + 1)]
    errors: list[BaseException] = []

    def guarded(body):
        def run():
            try:
                body()
            except _Stopped:
                pass
            except BaseException as exc:  # carried to the caller's thread and raised there
                errors.append(exc)
                stop.set()
        return run

    def produce():
        for item in source:
            _put(queues[0], item, stop)
        _put(queues[0], _END, stop)

    def stage_loop(fn, q_in, q_out):
        def body():
            while (item := _get(q_in, stop)) is not _END:
                _put(q_out, fn(item), stop)
            _put(q_out, _END, stop)
        return body

    threads = [threading.Thread(target=guarded(produce), name="source", daemon=True)]
    threads += [threading.Thread(target=guarded(stage_loop(fn, queues[i], queues[i + 1])),
                                 name=f"stage-{i}", daemon=True) for i, fn in enumerate(stages)]
    for t in threads:
        t.start()
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
    if errors:
        raise errors[0]
