"""A real MPEG-TS publisher and receiver on 127.0.0.1, for the live tests and benchmarks.

``publish`` sends the test scene (H.264 + AAC) over UDP in real time and records when each frame's
bytes left; ``Receiver`` reads a stream on a UDP port and records each frame's timestamp, picture and
arrival time. Frames are matched across the hop by their timestamps (copyts on both sides).
"""
from __future__ import annotations

import socket
import threading
import time
from fractions import Fraction

import av
import numpy as np

from stream.live.sinks import LIVE_TS_FLAGS
from stream.media.testsrc import TestScene

TB = Fraction(1, 90000)


VIDEO_PID = 0x100  # FFmpeg's MPEG-TS muxer gives the first stream this PID
DATAGRAM = 1316     # seven 188-byte TS packets, as FFmpeg's udp:// sends them


class UdpWriter:
    """The publisher's socket, as a file PyAV muxes into: each datagram is sent as the muxer writes
    it, and ``sent_at[pts]`` is when the first bytes of that frame's PES left. The muxer holds a
    video packet until a later sound packet is muxed (interleaving): the time of the mux call would
    count that wait, which is the publisher's, as part of the hop."""

    def __init__(self, port: int, sent_at: dict | None):
        self.address, self.sent_at = ("127.0.0.1", port), sent_at
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def write(self, data) -> int:
        data = bytes(data)
        for start in range(0, len(data), DATAGRAM):
            self.socket.sendto(data[start:start + DATAGRAM], self.address)
        if self.sent_at is not None:
            now = time.monotonic()
            for at in range(0, len(data) - 187, 188):
                pts = _pes_pts(data[at:at + 188])
                if pts is not None:
                    self.sent_at.setdefault(pts, now)
        return len(data)

    def close(self) -> None:
        self.socket.close()


def _pes_pts(ts: bytes) -> int | None:
    """The PTS of the video PES that starts in this TS packet, if one does."""
    if ts[0] != 0x47 or not ts[1] & 0x40 or ((ts[1] & 0x1F) << 8 | ts[2]) != VIDEO_PID:
        return None
    at = 4 + (1 + ts[4] if ts[3] & 0x20 else 0)  # past the adaptation field
    pes = ts[at:at + 14]
    if len(pes) < 14 or pes[:3] != b"\x00\x00\x01" or not pes[7] & 0x80:
        return None
    p = pes[9:14]
    return (p[0] >> 1 & 0x07) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1


def publish(port: int, seconds: float, width: int = 192, height: int = 112, fps: int = 25, seed: int = 5,
            sent_at: dict | None = None) -> list[int]:
    """Send the scene for ``seconds``; returns the pts sent (1/90000). ``sent_at[pts]`` = when the
    frame's bytes left (CLOCK_MONOTONIC)."""
    scene, sent = TestScene(width, height, seed=seed), []
    writer = UdpWriter(port, sent_at)
    # sent as a live encoder sends: a datagram of at most 1316 bytes, written as soon as a packet is muxed
    with av.open(writer, "w", format="mpegts", buffer_size=DATAGRAM,
                 options={"mpegts_copyts": "1", "flush_packets": "1", **LIVE_TS_FLAGS}) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.time_base = video.codec_context.time_base = TB
        video.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(fps), "bf": "0"}
        sound = out.add_stream("aac", rate=48000)
        sound.layout = "mono"
        begin = time.monotonic()
        for i in range(int(seconds * fps)):
            time.sleep(max(0.0, begin + i / fps - time.monotonic()))
            frame = av.VideoFrame.from_ndarray(scene.frame(i / fps), format="rgb24")
            frame.pts, frame.time_base = round(i / fps / TB), TB
            out.mux(video.encode(frame))
            tone = av.AudioFrame.from_ndarray(np.zeros((1, 48000 // fps), np.float32), format="fltp", layout="mono")
            # audio starts 1024 samples in, so the AAC encoder's priming never needs a negative time
            # (the muxer would otherwise shift every stream by 21 ms)
            tone.sample_rate, tone.pts = 48000, 1024 + i * (48000 // fps)
            out.mux(sound.encode(tone))
            sent.append(frame.pts)
    writer.close()
    return sent


class Receiver(threading.Thread):
    """Reads an MPEG-TS stream on a UDP port; keeps (pts, picture, arrival time) and counts audio."""

    def __init__(self, port: int, read_timeout: float = 4.0, keep_pictures: bool = True):
        super().__init__(daemon=True)
        self.port, self.read_timeout, self.keep_pictures = port, read_timeout, keep_pictures
        self.frames: list[tuple[int, np.ndarray | None, float]] = []
        self.audio_packets = 0

    def settle(self, quiet: float = 0.5, timeout: float = 10.0) -> list:
        """The frames, once none has come for ``quiet`` seconds (what was in flight when the sender
        stopped is in), without waiting for the read timeout to end the thread (a daemon: it ends by
        itself)."""
        deadline, count, since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline and self.is_alive():
            if len(self.frames) != count:
                count, since = len(self.frames), time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.05)
        return list(self.frames)

    def run(self):
        try:
            # a live viewer's settings: FFmpeg reads 20 frames to guess a stream's rate before the first
            # one comes out (the first 0.7 s held back here, publisher straight to receiver); not here,
            # as not in stylecast's own UDP source
            with av.open(f"udp://127.0.0.1:{self.port}?overrun_nonfatal=1&fifo_size=1000000", format="mpegts",
                         timeout=(15.0, self.read_timeout), options={"fpsprobesize": "0"}) as c:
                video = c.streams.video[0]
                video.thread_type = "SLICE"  # frame threading would hold frames back: measure like a live viewer
                for packet in c.demux():
                    if packet.stream.type == "audio" and packet.size:
                        self.audio_packets += 1
                    if packet.stream is video:
                        for f in packet.decode():
                            picture = f.to_ndarray(format="rgb24") if self.keep_pictures else None
                            self.frames.append((f.pts, picture, time.monotonic()))
        except av.error.FFmpegError:
            pass  # the stream ended (read timeout)
