"""A real MPEG-TS publisher and receiver on 127.0.0.1, for the live tests and benchmarks.

``publish`` sends the test scene (H.264 + AAC) over UDP in real time and records when each frame
left; ``Receiver`` reads a stream on a UDP port and records each frame's timestamp, picture and
arrival time. Frames are matched across the hop by their timestamps (copyts on both sides).
"""
from __future__ import annotations

import threading
import time
from fractions import Fraction

import av
import numpy as np

from stream.sinks import LIVE_TS_FLAGS
from stream.testsrc import TestScene

TB = Fraction(1, 90000)


def publish(port: int, seconds: float, width: int = 192, height: int = 112, fps: int = 25, seed: int = 5,
            sent_at: dict | None = None) -> list[int]:
    """Send the scene for ``seconds``; returns the pts sent (1/90000). ``sent_at[pts]`` = send time."""
    scene, sent = TestScene(width, height, seed=seed), []
    with av.open(f"udp://127.0.0.1:{port}?pkt_size=1316", "w", format="mpegts",
                 options={"mpegts_copyts": "1", **LIVE_TS_FLAGS}) as out:  # sent as a live encoder sends
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
            if sent_at is not None:
                sent_at[frame.pts] = time.monotonic()
            tone = av.AudioFrame.from_ndarray(np.zeros((1, 48000 // fps), np.float32), format="fltp", layout="mono")
            # audio starts 1024 samples in, so the AAC encoder's priming never needs a negative time
            # (the muxer would otherwise shift every stream by 21 ms)
            tone.sample_rate, tone.pts = 48000, 1024 + i * (48000 // fps)
            out.mux(sound.encode(tone))
            sent.append(frame.pts)
    return sent


class Receiver(threading.Thread):
    """Reads an MPEG-TS stream on a UDP port; keeps (pts, picture, arrival time) and counts audio."""

    def __init__(self, port: int, read_timeout: float = 4.0, keep_pictures: bool = True):
        super().__init__(daemon=True)
        self.port, self.read_timeout, self.keep_pictures = port, read_timeout, keep_pictures
        self.frames: list[tuple[int, np.ndarray | None, float]] = []
        self.audio_packets = 0

    def run(self):
        try:
            with av.open(f"udp://127.0.0.1:{self.port}?overrun_nonfatal=1&fifo_size=1000000", format="mpegts",
                         timeout=(15.0, self.read_timeout)) as c:
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
