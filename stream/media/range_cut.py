"""The packets of the copied streams (sound, subtitles) that fall inside a ``--from``/``--to``
range, their times counted from the range's first video frame, as the video's are."""
from __future__ import annotations

import av

from .time_range import Place, TimeRange


class RangeCut:
    """Packets that arrive before the range's first video frame is decoded wait for it; reading can
    stop once the video and every copied stream are past the end (``finished``)."""

    def __init__(self, span: TimeRange, start_time: float, streams):
        self.span, self.start_time = span, start_time
        self.origin: float | None = 0.0 if span.whole else None
        self.video_done = False
        self._waiting: list[av.Packet] = []
        self._open = {s.index for s in streams}  # streams not yet past the end

    @property
    def finished(self) -> bool:
        return self.video_done and not self._open

    def packet(self, packet: av.Packet):
        if self.span.whole:
            yield packet
            return
        when = float(packet.pts * packet.time_base) - self.start_time if packet.pts is not None else None
        place = self.span.place(when)
        if place is Place.AFTER:
            self._open.discard(packet.stream.index)
        elif place is Place.INSIDE:
            if self.origin is None:
                self._waiting.append(packet)
            else:
                yield self._shifted(packet)

    def opened(self, origin: float):
        """The range's first frame is at ``origin``: let the waiting packets through."""
        self.origin = origin
        waiting, self._waiting = self._waiting, []
        for packet in waiting:
            if float(packet.pts * packet.time_base) - self.start_time >= origin - 1e-6:
                yield self._shifted(packet)

    def _shifted(self, packet: av.Packet) -> av.Packet:
        shift = round((self.origin + self.start_time) / packet.time_base)
        packet.pts -= shift
        if packet.dts is not None:
            packet.dts -= shift
        return packet

