"""NDI in and out (``--source ndi://NAME``, ``--sink ndi://NAME``), through ndi-python, whose wheel
carries NewTek's NDI runtime (the optional extra ``stylecast[ndi]``).

A source is found by its name, as NDI names it (``MACHINE (NAME)``, or just ``NAME``), through
NDI's discovery, which needs mDNS: on a network without multicast, and between machines that
cannot see each other's announcements, it is connected to by address instead, ``ndi://HOST:PORT``
(a sender's port is what stylecast prints for its own, or what the sender's tools show). Frames come
at the sender's rate with its timecodes (100 ns units) as their timestamps; its sound comes too, as
PCM (``av.AudioFrame``), which an NDI sink sends on as it came; a sink of another kind gets the
picture alone (it copies sound packets, and an NDI sender has none to copy).

A stall is a gap in the frames: the job's sink shows NO SIGNAL (stream/live/sink_feed.py) while
NDI's receiver calls the sender again by itself; frames that come back after READ_TIMEOUT_S or more
count as a reconnect, as a UDP source's do.

A sink is an NDI sender named NAME, listed by any NDI receiver (OBS, vMix, Studio Monitor); each
frame carries its source's time as its timecode (moved on only where it would not move forward, as
a stream sink's are), so a receiver can match frames across the hop.
Sound packets of a file or stream source are decoded and sent as NDI audio with them.

Chosen over cyndilib 0.1.3 (same NDI 6.3 runtime) because cyndilib's sources come only from its
finder: it cannot connect by address, which a network without multicast needs
(docs/benchmarks/live.md, "NDI").
"""
from __future__ import annotations

import os
import re
import socket
import threading
import time
from fractions import Fraction
from typing import Iterator

import av
import cv2
import numpy as np

from engines.errors import InputError, OutputError
from stream.core.frame import Frame
from stream.core.notes import note
from stream.media.colour import Colour
from stream.media.decode import output_size

from .retimer import Retimer

NDI_HELP = "NDI needs the ndi extra: pip install 'stylecast[ndi]' (ndi-python, which carries the NDI runtime)"
TIMECODE = Fraction(1, 10_000_000)  # NDI's timecodes and timestamps: 100 ns
POLL_MS = 200                       # a receive waits this long at most, so a stop is seen at once
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})$")
_lock = threading.Lock()
_library = None


def ndi_problem() -> str | None:
    """Why NDI cannot run here (one line), or None."""
    try:
        _ndi()
    except (InputError, OutputError) as exc:
        return str(exc)
    return None


def _ndi():
    """The NDI library, initialized once per process."""
    global _library
    with _lock:
        if _library is None:
            try:
                import NDIlib
            except ImportError:
                raise InputError(NDI_HELP) from None
            if not NDIlib.initialize():
                raise InputError("the NDI runtime did not start on this machine (NDI needs a CPU with SSE4.2)")
            _library = NDIlib
        return _library


def parse(spec: str) -> tuple[str, str | None]:
    """``ndi://NAME`` -> (NAME, None); ``ndi://HOST:PORT`` -> (HOST:PORT, HOST:PORT)."""
    rest = spec.split("://", 1)[1].strip() if "://" in spec else ""
    if not rest:
        raise InputError(f"{spec!r} names no NDI source: use ndi://NAME or ndi://HOST:PORT")
    address = _ADDRESS.match(rest)
    if address and 0 < int(address.group(2)) < 65536:
        return rest, rest
    return rest, None


def _named(full: str, wanted: str) -> bool:
    """An NDI source's full name (``MACHINE (NAME)``) is the one asked for, by either form."""
    return full == wanted or full.endswith(f"({wanted})")


class NdiSource:
    """Frames (upright RGB) and PCM sound from an NDI sender, until ``stop``."""

    container, copy_streams, behind, colour = None, (), 0, Colour()
    pcm_sound = True  # its sound is av.AudioFrame, which only an NDI sink takes

    def __init__(self, spec: str, max_side: int | None, stop: threading.Event | None, open_timeout: float,
                 read_timeout: float):
        """``open_timeout``: nothing by then is an error; ``read_timeout``: frames back after a gap
        this long count as a reconnect (a live source's, stream/live/sources.py)."""
        ndi = _ndi()
        self.spec, self.max_side, self.stop, self.read_timeout = spec, max_side, stop or threading.Event(), read_timeout
        self.reconnects, self.size = 0, None
        name, address = parse(spec)
        source = ndi.Source()
        source.ndi_name = name
        if address:
            source.url_address = address
        else:
            source.ndi_name = self._find(ndi, name, open_timeout)
        create = ndi.RecvCreateV3()
        create.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
        create.bandwidth = ndi.RECV_BANDWIDTH_HIGHEST
        create.ndi_recv_name = "stylecast"
        self.ndi, self.receiver = ndi, ndi.recv_create_v3(create)
        if self.receiver is None:
            raise InputError(f"cannot open {spec}: the NDI receiver could not be made")
        ndi.recv_connect(self.receiver, source)
        self._first = self._wait_first(open_timeout)
        if self._first is None:
            self.close()
            how = "" if address else " (found, but it sent no picture)"
            raise InputError(f"cannot open {spec}: nothing arrived within {open_timeout:g} s{how}")
        self.size = self._first.image.shape[1::-1]

    def _find(self, ndi, name: str, timeout: float) -> str:
        create = ndi.FindCreate()
        create.show_local_sources = True
        finder = ndi.find_create_v2(create)
        try:
            deadline, seen = time.monotonic() + timeout, []
            while time.monotonic() < deadline and not self.stop.is_set():
                ndi.find_wait_for_sources(finder, POLL_MS)
                seen = [s.ndi_name for s in ndi.find_get_current_sources(finder)]
                found = [s for s in seen if _named(s, name)]
                if found:
                    return found[0]
        finally:
            ndi.find_destroy(finder)
        listed = f" (seen: {', '.join(seen)})" if seen else ""
        raise InputError(f"no NDI source named {name!r} found within {timeout:g} s{listed}; discovery needs "
                         "mDNS multicast: where it is blocked, connect by address, ndi://HOST:PORT")

    def _wait_first(self, timeout: float) -> Frame | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop.is_set():
            item = self._capture()
            if isinstance(item, Frame):
                return item
        return None

    def _capture(self, index: int = 0) -> Frame | av.AudioFrame | None:
        """One frame or sound block from the receiver within POLL_MS, else None."""
        ndi = self.ndi
        kind, video, audio, _ = ndi.recv_capture_v2(self.receiver, POLL_MS)
        if kind == ndi.FRAME_TYPE_VIDEO:
            try:
                rgb = np.ascontiguousarray(video.data[:, :video.xres, :3])
                pts = video.timecode if video.timecode not in (ndi.SEND_TIMECODE_SYNTHESIZE, None) else video.timestamp
            finally:
                ndi.recv_free_video_v2(self.receiver, video)
            h, w = rgb.shape[:2]
            size = output_size(w, h, self.max_side)
            if size != (w, h):
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            return Frame(rgb, int(pts), TIMECODE, index, demuxed_at=time.monotonic())
        if kind == ndi.FRAME_TYPE_AUDIO:
            try:
                planar = np.array(audio.data, np.float32, copy=True).reshape(audio.no_channels, audio.no_samples)
                rate, timecode = audio.sample_rate, audio.timecode
            finally:
                ndi.recv_free_audio_v2(self.receiver, audio)
            sound = av.AudioFrame.from_ndarray(planar, format="fltp", layout=_layout(planar.shape[0]))
            sound.sample_rate = rate
            sound.pts, sound.time_base = round(timecode * TIMECODE * rate), Fraction(1, rate)
            return sound
        return None

    def __iter__(self) -> Iterator[Frame | av.AudioFrame]:
        index, last = 0, time.monotonic()
        first, self._first = self._first, None
        if first is not None:
            yield first
            index = 1
        while not self.stop.is_set():
            item = self._capture(index)
            if item is None:
                continue
            if isinstance(item, Frame):
                now = time.monotonic()
                if now - last >= self.read_timeout:  # the picture came back after a stall
                    self.reconnects += 1
                last, index = now, index + 1
            yield item

    def close(self) -> None:
        if getattr(self, "receiver", None) is not None:
            self.ndi.recv_destroy(self.receiver)
            self.receiver = None


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


class NdiSink:
    """An NDI sender named ``name``: each frame (RGB) with its time as the timecode; sound, PCM from
    an NDI source or decoded from a file or stream's packets, sent with it."""

    def __init__(self, spec: str, fps: float):
        try:
            ndi = _ndi()
        except InputError as exc:
            raise OutputError(str(exc)) from None
        name, address = parse(spec)
        if address:
            raise OutputError(f"an NDI sink is named, not addressed: ndi://NAME, got {spec!r}")
        if not re.fullmatch(r"[\w .,()+-]{1,64}", name):
            raise OutputError(f"an NDI name is up to 64 letters, digits, spaces and . , ( ) + - _, got {name!r}")
        before = listening_ports()
        create = ndi.SendCreate()
        create.ndi_name, create.clock_video, create.clock_audio = name, False, False  # the job paces its output
        self.ndi, self.sender = ndi, ndi.send_create(create)
        if self.sender is None:
            raise OutputError(f"the NDI sender {name!r} could not be made")
        self.name = ndi.send_get_source_name(self.sender).ndi_name
        self.fps, self.frames, self.dropped_packets = fps, 0, 0
        self._rate = Fraction(fps).limit_denominator(1001)  # the frame rate each frame says
        self.port = new_port(before)
        self.lock, self.retimer = threading.Lock(), Retimer()
        self._rgbx: np.ndarray | None = None
        where = f" on port {self.port}: without discovery, receivers connect to ndi://{_host()}:{self.port}" \
            if self.port else ""
        note(f"NDI: sending as '{self.name}'{where}")

    def yuv420_colour(self) -> None:
        return None  # RGB frames

    def write(self, item) -> None:
        if isinstance(item, Frame):
            self._video(item)
        elif isinstance(item, av.AudioFrame):
            self._audio(item)
        elif isinstance(item, av.Packet):
            try:
                decoded = item.decode()
            except av.error.FFmpegError:
                decoded = []
            if not decoded:
                self.dropped_packets += 1
            for sound in decoded:
                self._audio(sound)

    def _video(self, frame: Frame) -> None:
        rgb = frame.image
        h, w = rgb.shape[:2]
        if self._rgbx is None or self._rgbx.shape[:2] != (h, w):
            self._rgbx = np.full((h, w, 4), 255, np.uint8)
        self._rgbx[:, :, :3] = rgb
        video = self.ndi.VideoFrameV2()
        video.FourCC = self.ndi.FOURCC_VIDEO_TYPE_RGBX
        video.frame_rate_N, video.frame_rate_D = self._rate.numerator, self._rate.denominator
        video.data = self._rgbx
        with self.lock:
            if frame.time is None:
                video.timecode = self.ndi.SEND_TIMECODE_SYNTHESIZE
            else:  # moving forward, as a file's or stream's times do (held frames, a restarted sender)
                video.timecode = round(self.retimer.frame_pts(frame, self.fps) * frame.time_base / TIMECODE)
            self.ndi.send_send_video_v2(self.sender, video)  # copies the picture: the buffer is ours again
            self.frames += 1

    def _audio(self, sound: av.AudioFrame) -> None:
        planar = sound.to_ndarray() if sound.format.name == "fltp" else _as_float_planar(sound)
        audio = self.ndi.AudioFrameV2()
        audio.sample_rate = sound.sample_rate
        audio.data = np.ascontiguousarray(planar, np.float32)
        if sound.pts is not None and sound.time_base:
            audio.timecode = round(sound.pts * sound.time_base / TIMECODE)
        with self.lock:
            self.ndi.send_send_audio_v2(self.sender, audio)

    def close(self) -> None:
        with self.lock:
            if self.sender is not None:
                self.ndi.send_destroy(self.sender)
                self.sender = None


def _as_float_planar(sound: av.AudioFrame) -> np.ndarray:
    """Any PyAV sound frame as float32 channels x samples."""
    resampler = av.AudioResampler(format="fltp", layout=sound.layout, rate=sound.sample_rate)
    return np.concatenate([f.to_ndarray() for f in resampler.resample(sound)], axis=1)


def listening_ports() -> set[int]:
    """The TCP ports this process listens on (Linux: its sockets' inodes in /proc/net/tcp); empty elsewhere."""
    try:
        inodes = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:  # the listing's own, closed by now
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        ports = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        return ports
    except OSError:
        return set()


def new_port(before: set[int], within: float = 2.0) -> int | None:
    """The port an NDI sender made since ``before`` (listening_ports()) listens on: the SDK opens it
    a moment after the sender is made. The highest new one: the first sender of a process also
    opens the process's own."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if listening_ports() - before:
            time.sleep(0.05)  # both of a first sender's ports
            return max(listening_ports() - before)
        time.sleep(0.02)
    return None


def _host() -> str:
    """This machine's address on its network (no packet is sent), else loopback."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.254.254.254", 1))
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
