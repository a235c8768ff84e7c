"""AAC in ADTS (as MPEG-TS carries it): one packet per AAC frame, found from each frame's header.

A live MPEG-TS source is read without FFmpeg's parsers (``fflags noparse``): the H.264 parser
passes a frame on only once the next one starts, a frame of delay at every hop. Without them a
packet is a whole PES, and a PES of sound may carry several AAC frames under one timestamp. A
file muxer that strips the ADTS headers (MP4, Matroska) takes one frame per packet, so the sound
is split here, each frame timed from the PES's timestamp and the frames before it.
"""
from __future__ import annotations

import av

SAMPLES = 1024  # per AAC frame
_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


def _frames(data: bytes) -> list[tuple[int, int, int]] | None:
    """(start, length, sample rate) of each ADTS frame that ``data`` holds end to end, or None when
    it is not exactly a run of whole ADTS frames (then it is passed on as it is)."""
    frames, at = [], 0
    while at < len(data):
        head = data[at:at + 7]
        if len(head) < 7 or head[0] != 0xFF or head[1] & 0xF6 != 0xF0:
            return None
        length = (head[3] & 0x03) << 11 | head[4] << 3 | head[5] >> 5
        rate = (head[2] >> 2) & 0x0F
        if length < 7 or at + length > len(data) or rate >= len(_RATES):
            return None
        frames.append((at, length, _RATES[rate]))
        at += length
    return frames


def split_adts(packet: av.Packet) -> list[av.Packet]:
    """``packet`` as one packet per AAC frame (itself when it holds one frame or is not ADTS)."""
    if packet.stream.codec_context.name != "aac" or packet.pts is None:
        return [packet]
    data = bytes(packet)
    frames = _frames(data)
    if frames is None or len(frames) < 2:
        return [packet]
    pieces = []
    for k, (start, length, rate) in enumerate(frames):
        piece = av.Packet(data[start:start + length])
        step = round(k * SAMPLES / rate / packet.time_base)
        piece.pts, piece.dts = packet.pts + step, (packet.dts if packet.dts is not None else packet.pts) + step
        piece.duration = round(SAMPLES / rate / packet.time_base)
        piece.time_base, piece.stream = packet.time_base, packet.stream
        pieces.append(piece)
    return pieces
