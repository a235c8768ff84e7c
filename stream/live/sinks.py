"""Live sinks: where stylized frames go.

- ``null``: nothing (measurements).
- ``udp://`` and ``srt://`` MPEG-TS (SRT through an ``srt-live-transmit`` relay from a UDP port on
  loopback, stream/links/srt_relay.py), ``rtmp://`` FLV, ``rtsp://`` push: low-latency H.264
  (x264 ``zerolatency``, no B-frames, a keyframe every second), audio passed through.
- a file: ``.mkv``, ``.ts`` or fragmented ``.mp4``, so an interrupted run still leaves a playable file.
- ``pipewire``: a PipeWire camera node named ``stylecast`` (stream/links/pipewire_camera.py), no kernel module.
- ``vcam``: a virtual camera: a v4l2loopback device where there is one (pyvirtualcam), else the
  PipeWire camera; ``vcam:/dev/videoN`` names the device.
- ``ndi://NAME``: an NDI sender (stream/links/ndi.py), with the source's sound.
- ``whip://HOST/PATH``: published to a WHIP server (stream/links/whip_sink.py), picture only.
- ``window`` or ``window:N``: a monitor window, or full screen on display N (stream/links/window_sink.py).

Timestamps: frames and packets keep the source's, shifted only when the source jumps back (a
publisher that restarted), so the output never goes backwards.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import av

from engines.errors import OutputError
from stream.core.frame import Frame
from stream.core.notes import note
from stream.links.pipewire_camera import PipeWireSink, pipewire_problem
from stream.links.retimer import Retimer
from stream.links.srt_relay import SrtRelay
from stream.media.colour import Colour
from stream.media.encode import FRAGMENTED, FileEncoder

from .sources import Item, Source

V4L2_HELP = ("load v4l2loopback (Debian/Ubuntu: sudo apt install v4l2loopback-dkms && sudo modprobe "
             "v4l2loopback devices=1 exclusive_caps=1 card_label=stylecast)")
_FORMATS = {"udp": "mpegts", "srt": "mpegts", "rtmp": "flv", "rtsp": "rtsp"}
_FILES = {".mkv": ("matroska", {}), ".ts": ("mpegts", {}),
          ".mp4": ("mp4", FRAGMENTED)}


class Sink(Protocol):
    """Where a live job's frames (and the source's sound) go; ``frames`` counts pictures written."""

    frames: int

    def write(self, item: Item) -> None: ...

    def yuv420_colour(self) -> Colour | None: ...  # a 4:2:0 frame's colour where it takes one (else RGB)

    def close(self) -> None: ...


class NullSink:
    def __init__(self):
        self.frames = 0

    def yuv420_colour(self) -> None:
        return None

    def write(self, item) -> None:
        if isinstance(item, Frame):
            self.frames += 1

    def close(self) -> None:
        pass


LIVE_TS_FLAGS = {"omit_video_pes_length": "0"}  # MPEG-TS out, live: -40 ms at the receiver


class EncoderSink:
    """H.264 into a network stream or a file; thread-safe (audio arrives from the capture thread)."""

    def __init__(self, target: str, fps: float, source=None, copy_streams=()):
        scheme = target.split("://", 1)[0].lower() if "://" in target else ""
        self.relay = None
        if scheme == "srt":  # PyAV has no libsrt: MPEG-TS to a loopback port, relayed on as SRT
            self.relay = SrtRelay(target, into_udp=False)
            target, scheme = self.relay.udp_url, "udp"
        if scheme:
            fmt, options = _FORMATS.get(scheme), {}
            if fmt is None:
                raise OutputError(f"unsupported sink {target!r}; use null, vcam, a .mkv/.ts/.mp4 file, "
                                  "udp://, srt://, rtmp:// or rtsp://")
            if scheme == "udp":
                target += ("&" if "?" in target else "?") + "pkt_size=1316"
            if fmt == "mpegts":
                options["mpegts_copyts"] = "1"  # the source's timestamps as they are, no muxer delay added
                # each frame's PES says its length, so a receiver's demuxer passes the frame on at once
                # instead of when the next one starts (a frame later): docs/benchmarks/live.md
                options.update(LIVE_TS_FLAGS)
        else:
            path = Path(target)
            fmt, options = _FILES.get(path.suffix.lower(), (None, None))
            if fmt is None:
                raise OutputError(f"a live file sink must end in .mkv, .ts or .mp4, got {path.name!r}")
            if not path.parent.is_dir():
                raise OutputError(f"output folder does not exist: {path.parent}")
            if path.exists():  # a live recording is written in place (readable while it grows): never over a file
                raise OutputError(f"output exists: {path} (move it away or choose another name)")
        # a live sink never holds picture back waiting for sound: when the source stalls, only held
        # video frames flow, and the default interleaving would queue them until sound returns
        options["max_interleave_delta"] = str(round(0.3 * 1e6))
        self.fps = fps
        try:
            self.encoder = FileEncoder(target, fmt, source=source, copy_streams=copy_streams, crf=23,
                                       preset="veryfast", options=options, rate=fps,
                                       x264_params={"tune": "zerolatency", "g": str(max(1, round(fps))), "bf": "0"})
        except OutputError:
            if self.relay is not None:
                self.relay.close()
            raise
        self.retimer = Retimer()
        self.lock = threading.Lock()
        self.frames = 0
        self.dropped_packets = 0

    def yuv420_colour(self) -> Colour | None:
        return self.encoder.yuv420_colour()

    def write(self, item) -> None:
        with self.lock:
            if isinstance(item, Frame):
                self.encoder.write(replace(item, pts=self.retimer.frame_pts(item, self.fps)))
                self.frames += 1
                return
            if not isinstance(item, av.Packet):  # PCM sound (an NDI source's): no stream here to copy it into
                return
            if not self.retimer.packet(item):
                self.dropped_packets += 1
                return
            try:
                self.encoder.write(item)
            except av.error.FFmpegError:  # a passed-through packet the muxer refuses: counted, video goes on
                self.dropped_packets += 1

    def close(self) -> None:
        with self.lock:
            try:
                if self.encoder.video is not None:
                    self.encoder.finish()
                else:
                    self.encoder.abort()
            finally:
                if self.relay is not None:
                    self.relay.close()


class VcamSink:
    """A v4l2loopback virtual camera. Opened on the first frame (its size); fails at once when there is none."""

    def __init__(self, fps: float, device: str | None = None):
        try:
            import pyvirtualcam
        except ImportError:
            raise OutputError("the vcam sink needs pyvirtualcam: pip install pyvirtualcam") from None
        self.pyvirtualcam, self.fps, self.device = pyvirtualcam, fps, device
        self.camera = None
        self.frames = 0
        self._open(64, 64).close()  # find out now, not at the first frame, whether a device exists

    def yuv420_colour(self) -> None:
        return None  # the camera takes RGB

    def _open(self, width: int, height: int):
        try:
            return self.pyvirtualcam.Camera(width, height, self.fps, device=self.device)
        except (RuntimeError, OSError) as exc:
            where = self.device or "no v4l2loopback device"
            raise OutputError(f"no virtual camera ({where}: {_first_sentence(exc)}); {V4L2_HELP}") from None

    def write(self, item) -> None:
        if not isinstance(item, Frame):
            return
        if self.camera is None:
            h, w = item.image.shape[:2]
            self.camera = self._open(w, h)
        self.camera.send(item.image)
        self.frames += 1

    def close(self) -> None:
        if self.camera is not None:
            self.camera.close()


def _first_sentence(exc: Exception) -> str:
    """A library's message up to its first full stop, so a line never ends cut mid-sentence."""
    text = " ".join(str(exc).split())
    return text.split(". ")[0].rstrip(".")[:120]


def open_vcam(fps: float) -> Sink:
    """``--sink vcam``: a v4l2loopback device where one exists, else a PipeWire camera, else one line
    that says what to install or start for either."""
    try:
        return VcamSink(fps)
    except OutputError as v4l2:
        if pipewire_problem() is None:
            return PipeWireSink(fps)
        raise OutputError(f"no virtual camera here: no PipeWire camera ({pipewire_problem()}), and no "
                          f"v4l2loopback device ({V4L2_HELP})") from v4l2


def open_sink(spec: str, fps: float, source: Source | None = None) -> Sink:
    """The sink named by ``spec``: null, vcam, pipewire, window, ndi://, whip://, a file or a stream URL; ``source``'s sound passes through."""
    if spec == "null":
        return NullSink()
    if spec == "pipewire":
        return PipeWireSink(fps)
    if spec == "vcam":
        return open_vcam(fps)
    if spec.startswith("vcam:"):
        return VcamSink(fps, spec.split(":", 1)[1])
    if spec.lower().startswith("ndi://"):
        from stream.links.ndi import NdiSink
        return NdiSink(spec, fps)
    if spec == "window" or spec.startswith("window:"):
        from stream.links.window_sink import WindowSink
        return WindowSink(spec, fps)
    if spec.lower().startswith(("whip://", "whips://")):
        from stream.links.whip_sink import WhipSink
        return WhipSink(spec, fps)
    if getattr(source, "pcm_sound", False):
        note(f"the NDI source's sound goes to an ndi:// sink only: {spec} gets its picture alone")
    return EncoderSink(spec, fps, source.container if source else None, source.copy_streams if source else ())
