"""A virtual camera with no kernel module: a PipeWire video source node named ``stylecast``.

Current Linux desktops route cameras through PipeWire; browsers (through the camera portal) and
call apps read them from there. The node is made by GStreamer's ``pipewiresink`` in ``provide``
mode, in a child process (``gst-launch-1.0``) fed raw RGB frames over a pipe: no binding to
build, and a crash there cannot take the live job down. The node is ``media.class
Video/Source`` with ``media.role Camera``; a client asks for the pixel format it wants and
``videoconvert`` gives it (RGB passes through untouched).

The job's sink call never waits for the camera: frames go through a one-frame slot to a writer
thread, so the newest stylized frame is always the next one out, and a slow client costs
dropped frames (counted), never latency. Held frames during a source stall arrive as from any
sink. Linking a client to the node is the session manager's work (WirePlumber): without one the
node exists but no client ever gets a frame.

Needs (Debian/Ubuntu): ``pipewire wireplumber gstreamer1.0-pipewire gstreamer1.0-tools
gstreamer1.0-plugins-base``, and a running PipeWire daemon (every desktop session has one).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from fractions import Fraction
from pathlib import Path

from engines.errors import OutputError
from stream.core.frame import Frame
from stream.core.pipeline import LatestSlot

NODE_NAME = "stylecast"
DESCRIPTION = "Stylecast camera"
PACKAGES = ("Debian/Ubuntu: sudo apt install pipewire wireplumber gstreamer1.0-pipewire gstreamer1.0-tools; "
            "Fedora: sudo dnf install pipewire-gstreamer gstreamer1-plugins-base-tools; "
            "Arch: sudo pacman -S pipewire wireplumber gst-plugin-pipewire")
_STOP_S = 2.0


def pipewire_socket() -> Path | None:
    """The PipeWire daemon's socket this process would talk to, when it is there."""
    remote = os.environ.get("PIPEWIRE_REMOTE", "pipewire-0")
    runtime = os.environ.get("PIPEWIRE_RUNTIME_DIR") or os.environ.get("XDG_RUNTIME_DIR")
    path = Path(remote) if os.path.isabs(remote) else (Path(runtime) / remote if runtime else None)
    return path if path is not None and path.exists() else None


def pipewire_problem() -> str | None:
    """Why a PipeWire camera cannot be made here (what to install or start), or None when it can."""
    if shutil.which("gst-launch-1.0") is None:
        return f"GStreamer's gst-launch-1.0 is not installed ({PACKAGES})"
    inspect = shutil.which("gst-inspect-1.0")
    # not --exists: it also asks for GStreamer's own version, and the plugin carries PipeWire's
    if inspect is None or subprocess.run([inspect, "pipewiresink"], capture_output=True).returncode:
        return f"GStreamer's PipeWire plugin (pipewiresink) is not installed ({PACKAGES})"
    if pipewire_socket() is None:
        return "no PipeWire daemon is running for this user (start it: systemctl --user start pipewire wireplumber)"
    return None


def gst_command(width: int, height: int, fps: float, name: str = NODE_NAME) -> list[str]:
    """The child: raw RGB frames on stdin -> a PipeWire Video/Source node called ``name``."""
    rate = Fraction(fps).limit_denominator(1001)
    # gst-launch joins its arguments and parses them again: the structure is quoted as a whole,
    # and the description (it has a space) inside it
    props = (f'"props,media.class=(string)Video/Source,media.role=(string)Camera,node.name=(string){name},'
             f'node.description=(string)\\"{DESCRIPTION}\\""')
    return ["gst-launch-1.0", "-q", "fdsrc", "fd=0", f"blocksize={width * height * 3}", "!",
            "rawvideoparse", "format=rgb", f"width={width}", f"height={height}",
            f"framerate={rate.numerator}/{rate.denominator}", "!", "videoconvert", "!",
            "pipewiresink", "mode=provide", "sync=false", f"client-name={name}", f"stream-properties={props}"]


class PipeWireSink:
    """``--sink pipewire``: the node appears with the first frame (its size) and goes with ``close``."""

    def __init__(self, fps: float, name: str = NODE_NAME):
        problem = pipewire_problem()
        if problem:
            raise OutputError(f"cannot make a PipeWire camera: {problem}")
        self.fps, self.name = fps, name
        self.frames = 0
        self.size: tuple[int, int] | None = None
        self._slot = LatestSlot()
        self._stop = threading.Event()
        self._child: subprocess.Popen | None = None
        self._writer: threading.Thread | None = None
        self._failure: str | None = None

    def yuv420_colour(self) -> None:
        return None  # the node's clients ask for RGB (or a format GStreamer converts RGB to)

    @property
    def dropped(self) -> int:
        """Frames replaced in the slot before the camera took them (a slow consumer)."""
        return self._slot.dropped

    def _start(self, width: int, height: int) -> None:
        self.size = (width, height)
        self._child = subprocess.Popen(gst_command(width, height, self.fps, self.name), stdin=subprocess.PIPE,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self._writer = threading.Thread(target=self._write_frames, name="pipewire-camera", daemon=True)
        self._writer.start()

    def _write_frames(self) -> None:
        while not self._stop.is_set():
            image = self._slot.take(self._stop)
            if image is None:
                continue
            try:
                self._child.stdin.write(memoryview(image).cast("B"))
                self._child.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                self._failure = self._child_error()
                return

    def _child_error(self) -> str:
        try:
            self._child.wait(timeout=1)
            err = self._child.stderr.read().decode(errors="replace").strip().splitlines()
        except (subprocess.TimeoutExpired, OSError, ValueError):
            err = []
        return err[-1][:200] if err else f"gst-launch-1.0 exited ({self._child.returncode})"

    def write(self, item) -> None:
        if not isinstance(item, Frame):
            return  # sound has no place in a camera
        if self._failure:
            raise OutputError(f"the PipeWire camera stopped: {self._failure}")
        h, w = item.image.shape[:2]
        if self._child is None:
            self._start(w, h)
        elif (w, h) != self.size:
            raise OutputError(f"the PipeWire camera is {self.size[0]}x{self.size[1]}; a frame came at {w}x{h}")
        self._slot.put(item.image)
        self.frames += 1

    def close(self) -> None:
        """End the stream (the node goes away from every client), and the child with it."""
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=_STOP_S)
        if self._child is None:
            return
        try:
            self._child.stdin.close()  # end of stream: gst-launch finishes and exits
        except OSError:
            pass
        try:
            self._child.wait(timeout=_STOP_S)
        except subprocess.TimeoutExpired:
            self._child.terminate()
            try:
                self._child.wait(timeout=_STOP_S)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
        self._child.stderr.close()
