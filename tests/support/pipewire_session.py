"""A private PipeWire for tests and benchmarks: its own runtime folder and session bus, a PipeWire
daemon and WirePlumber (the session manager that links clients to nodes), stopped at the end; and a
client that reads a camera node's frames as RGB, the way a call app would read a camera.

    with PipeWireSession(tmp_path) as pw:          # pw.env: the environment to run clients in
        with CameraClient(pw.env, 640, 360) as client:
            ...                                    # client.frames: (monotonic time, crc32, RGB)
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import zlib
from pathlib import Path

import numpy as np

from .polling import wait_for

NEEDED = ("pipewire", "wireplumber", "dbus-daemon", "gst-launch-1.0", "pw-cli")


def missing_programs() -> list[str]:
    return [p for p in NEEDED if shutil.which(p) is None]


def _stop(proc: subprocess.Popen, timeout: float = 3.0) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class PipeWireSession:
    """Starts dbus-daemon, pipewire and wireplumber in ``folder``; ``env`` reaches them."""

    def __init__(self, folder: Path):
        self.runtime = folder / "runtime"
        self.procs: list[subprocess.Popen] = []
        self.env = dict(os.environ)

    def __enter__(self) -> PipeWireSession:
        self.runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        bus = f"unix:path={self.runtime}/bus"
        self.env.update(XDG_RUNTIME_DIR=str(self.runtime), DBUS_SESSION_BUS_ADDRESS=bus,
                        PIPEWIRE_RUNTIME_DIR=str(self.runtime))
        self.env.pop("PIPEWIRE_REMOTE", None)
        try:
            self._start(["dbus-daemon", "--session", "--nofork", f"--address={bus}"], self.runtime / "bus")
            self._start(["pipewire"], self.runtime / "pipewire-0")
            self._start(["wireplumber"], None)
            self.wait_for(lambda: "Dummy-Driver" in self.nodes() or "Freewheel" in self.nodes(), 10, "PipeWire's drivers")
            time.sleep(1.0)  # WirePlumber finds the graph
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self, cmd: list[str], ready: Path | None) -> None:
        log = open(self.runtime / f"{cmd[0]}.log", "wb")
        self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log, start_new_session=True))
        if ready is not None:
            self.wait_for(ready.exists, 10, f"{cmd[0]} to start")

    def nodes(self) -> str:
        """``pw-cli ls Node``: every node and its properties, as text."""
        run = subprocess.run(["pw-cli", "ls", "Node"], env=self.env, capture_output=True, text=True, timeout=10)
        return run.stdout

    wait_for = staticmethod(wait_for)

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            _stop(proc)
        self.procs.clear()


class CameraClient:
    """A separate PipeWire client process (GStreamer's pipewiresrc) that finds the node by name and
    reads its frames as RGB; each frame is kept as (monotonic time of receipt, crc32, picture)."""

    def __init__(self, env: dict, width: int, height: int, node: str = "stylecast", keep_pictures: int = 5):
        self.env, self.width, self.height, self.node = env, width, height, node
        self.frames: list[tuple[float, int]] = []   # (received at, crc32)
        self.pictures: list[np.ndarray] = []        # the last ``keep_pictures`` frames
        self.keep = keep_pictures
        self.proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> CameraClient:
        cmd = ["gst-launch-1.0", "-q", "pipewiresrc", f"target-object={self.node}", "always-copy=true", "!",
               f"video/x-raw,format=RGB,width={self.width},height={self.height}", "!", "fdsink", "fd=1", "sync=false"]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True, bufsize=0)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        size = self.width * self.height * 3
        buffer = bytearray(size)
        view = memoryview(buffer)
        while True:
            got = 0
            while got < size:
                n = self.proc.stdout.readinto(view[got:])
                if not n:
                    return
                got += n
            self.frames.append((time.monotonic(), zlib.crc32(buffer)))
            self.pictures = (self.pictures + [np.frombuffer(bytes(buffer), np.uint8).reshape(self.height, self.width, 3)])[-self.keep:]

    @property
    def ended(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self._reader.join(timeout=3)
