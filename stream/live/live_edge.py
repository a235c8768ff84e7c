"""Where a network source's live edge is, so that a live job starts there and goes back there.

A UDP source's datagrams queue in the socket and in FFmpeg's buffer while nobody reads them: while
the job opens (the engine loads, the stream is probed), during a stall of the job, or while the
machine is busy elsewhere. Read afterwards, those frames come out at decode speed, each older than
the last, and a job that stylized them would run seconds behind until the queue was worked off
(2.7 s at the start, measured on a 2-core machine). Instead they are decoded (the frames after
them need them) and skipped, with their sound.

A video packet that reading had to wait for (at least EDGE_WAIT of a frame's time) had only just
arrived: its frame is at the live edge, and how far its arrival was from its timestamp places the
edge. A frame that came at once is behind when it lies more than BEHIND_S (and two frames) behind
that edge, and, before any frame was waited for since the source opened, always: those came from
what queued. So a short burst (two frames a network hop sent close together) passes, while a
queue is skipped. A source that cannot be decoded as fast as it comes never reaches the edge: one
frame in CATCH_UP_S passes all the same, so the picture still moves.
"""
from __future__ import annotations

EDGE_WAIT = 0.25    # share of a frame's time: waiting this long for a packet means it had just arrived
MIN_WAIT_S = 0.006  # ... and at least this long (a thread switch alone can take 5 ms)
BEHIND_S = 0.1      # a frame further than this (and two frames) behind the edge is skipped
CATCH_UP_S = 1.0    # at most this long skipping in a row


class LiveEdge:
    """One per network source; ``behind`` is asked once per video frame, in order."""

    def __init__(self) -> None:
        self.skipped = 0                 # frames skipped since the source first opened
        self._offset: float | None = None  # arrival less timestamp of the last frame that was waited for
        self._since: float | None = None   # when the current run of skipped frames began
        self.skipping = False            # the last frame was skipped: sound read with it is behind too

    def reopened(self) -> None:
        """The source was opened again: its edge is not known until a frame is waited for."""
        self._offset = None

    def behind(self, time_s: float, arrived: float, waited: float, frame_s: float) -> bool:
        """``time_s``: the frame's timestamp in seconds; ``arrived``: when its packet was read
        (time.monotonic()); ``waited``: how long reading it waited; ``frame_s``: a frame's time."""
        if waited >= max(MIN_WAIT_S, EDGE_WAIT * frame_s):
            self._offset = arrived - time_s
            return self._pass()
        if self._offset is not None and arrived - time_s - self._offset <= max(BEHIND_S, 2 * frame_s):
            return self._pass()
        if self._since is None:
            self._since = arrived
        elif arrived - self._since >= CATCH_UP_S:  # not catching up: show one, and go on trying
            self._since = arrived
            return self._pass(keep_run=True)
        self.skipped += 1
        self.skipping = True
        return True

    def _pass(self, keep_run: bool = False) -> bool:
        if not keep_run:
            self._since = None
        self.skipping = False
        return False
