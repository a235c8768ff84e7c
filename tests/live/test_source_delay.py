"""A live MPEG-TS source passes each frame on as soon as it has arrived (issue #18), and its sound
still comes out one AAC frame per packet (stream/live/adts.py)."""
from __future__ import annotations

import threading
import time

import av
import numpy as np
import pytest
from support.loopback import TB, publish

from stream.links.srt_relay import free_udp_port
from stream.live.adts import split_adts
from stream.live.sources import UrlSource


@pytest.mark.alone  # it measures time
def test_a_frame_is_passed_on_before_the_next_one_is_sent():
    """At 10 frames/s a frame that waits for the next one to start (FFmpeg's H.264 parser in the
    demuxer) would come out 100 ms after it was sent; read without the parser it is out at once.
    (The first seconds go to probing the stream on open: frames from then on are measured.)"""
    port = free_udp_port()
    sent_at: dict = {}
    publisher = threading.Thread(target=lambda: (time.sleep(0.5), publish(port, 6.0, fps=10, sent_at=sent_at)))
    publisher.start()
    source = UrlSource(f"udp://127.0.0.1:{port}", None, open_timeout=10, read_timeout=2)
    frames, sound = [], []
    for item in source:
        if isinstance(item, av.Packet):
            sound.append(item)
            continue
        frames.append(item)
        if item.pts * TB >= 5.5:
            source.stop.set()
    publisher.join()
    delays = [(f.demuxed_at - sent_at[f.pts]) * 1000 for f in frames if f.pts in sent_at and f.pts * TB >= 3]
    assert len(delays) >= 20
    assert np.median(delays) < 50, delays  # the parser's wait alone would be 100 ms
    assert [f.pts for f in frames] == sorted(f.pts for f in frames)
    assert sound and all(p.stream.type == "audio" and p.pts is not None for p in sound)


def _aac_packets(stream, seconds: float) -> list[av.Packet]:
    tone = np.sin(np.arange(round(48000 * seconds)) / 48000 * 2 * np.pi * 440).astype(np.float32) * 0.3
    packets = []
    for i in range(0, len(tone), 960):
        frame = av.AudioFrame.from_ndarray(tone[None, i:i + 960], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 48000, i
        packets += stream.encode(frame)
    return packets + stream.encode(None)


def _adts(raw: bytes) -> bytes:
    """A raw AAC-LC frame (48 kHz, mono) with its 7-byte ADTS header."""
    n = len(raw) + 7
    return bytes([0xFF, 0xF1, 0x4C, 0x40 | n >> 11, n >> 3 & 0xFF, (n & 7) << 5 | 0x1F, 0xFC]) + raw


def test_a_pes_of_several_aac_frames_is_split_into_frames(tmp_path):
    """Some publishers put several AAC frames in one PES; read without parsers that is one packet.
    Split, each frame is a packet of its own, timed in steps of 1024 samples, and decodes."""
    path = tmp_path / "sound.ts"
    with av.open(str(path), "w", format="mpegts") as out:
        stream = out.add_stream("aac", rate=48000)
        stream.layout = "mono"
        frames = [_adts(bytes(p)) for p in _aac_packets(stream, 1.0)]
        for k in range(0, len(frames) - 2, 3):  # three frames to a packet, so three to a PES
            packet = av.Packet(b"".join(frames[k:k + 3]))
            packet.pts = packet.dts = round(k * 1024 / 48000 / TB)
            packet.time_base, packet.stream = TB, stream
            out.mux(packet)
    with av.open(str(path), options={"fflags": "+noparse"}) as container:
        whole = [p for p in container.demux() if p.size]
        pieces = [piece for p in whole for piece in split_adts(p)]
        decoder = container.streams.audio[0].codec_context
        samples = sum(f.samples for piece in pieces for f in decoder.decode(piece))
        assert all(p.duration == 1920 and p.stream.type == "audio" for p in pieces)  # (streams live with the file)
    assert len(whole) == len(frames) // 3 and len(pieces) == 3 * len(whole)
    assert [bytes(p) for p in pieces] == frames[:len(pieces)]
    assert [p.pts for p in pieces] == [round(k * 1024 / 48000 / TB) for k in range(len(pieces))]
    assert samples == 1024 * len(pieces)
