"""A per-frame trace of a live job (``--trace FILE``), for finding where latency goes.

One CSV line per frame sent to the sink: its source timestamp, when its packet left the demuxer
(a network source; 0 otherwise), when it was captured, handed to the sink and out of it (CLOCK_MONOTONIC seconds, the clock every process on the machine shares, so a publisher or
a receiver on the same machine can match its own times by ``pts``), the engine and stabilizer time,
whether it was a held "no signal" frame, and the CRC-32 of its RGB pixels (so a receiver that gets
the exact pixels, a PipeWire client asking for RGB, can tell which frame it has).
"""
from __future__ import annotations

import os
import threading
import time
import zlib
from pathlib import Path

import numpy as np

from engines.errors import OutputError
from stream.core.frame import Frame

HEADER = "pts,time_base,captured_at,emitted_at,engine_ms,held,crc32,demuxed_at,sink_at\n"


class FrameTrace:
    """Checked when the job is set up (one clear error, nothing written); the file is created with the
    first frame, so a job that fails to start leaves nothing behind."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        folder = self.path.parent
        if self.path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
            raise OutputError(f"cannot write the trace {path}: "
                              f"{'it is a folder' if self.path.is_dir() else 'no writable folder ' + str(folder)}")
        self._file = None
        self._lock = threading.Lock()

    def emitted(self, frame: Frame, held: bool = False, sink_at: float = 0.0) -> None:
        """``sink_at``: when the frame was handed to the sink (the rest, to ``emitted_at``, is the
        sink's encoding and writing)."""
        line = (f"{frame.pts},{frame.time_base},{frame.captured_at or 0:.6f},{time.monotonic():.6f},"
                f"{frame.engine_ms:.1f},{int(held)},{zlib.crc32(np.ascontiguousarray(frame.image)):08x},"
                f"{frame.demuxed_at:.6f},{sink_at:.6f}\n")
        with self._lock:
            if self._file is None:
                self._file = open(self.path, "w", buffering=1)  # a line at a time: readable while it runs
                self._file.write(HEADER)
            if not self._file.closed:
                self._file.write(line)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
