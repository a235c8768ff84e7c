"""``srt://`` sources and sinks through Debian's ``srt-tools``: PyAV's wheels are built without
libsrt (FFmpeg answers "Protocol not found"), so a ``srt-live-transmit`` child relays SRT to and
from a UDP port on 127.0.0.1, and stylecast reads or writes MPEG-TS on that port as it does for
``udp://``.

The SRT URL is passed as it was given: ``mode=listener`` or ``mode=caller``, ``latency`` (ms),
``passphrase`` and the rest of SRT's options are srt-live-transmit's own. The relay reconnects by
itself (``-a:yes``): a caller that goes away and comes back, or a listener that restarts, is
picked up again without stylecast reopening anything, while the live job holds the picture.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

from engines.errors import InputError, OutputError

INSTALL = "Debian/Ubuntu: sudo apt install srt-tools; Fedora: sudo dnf install srt; macOS: brew install srt"
_START_S = 0.3     # a relay that is still running this long after its start took its arguments
_STOP_S = 2.0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SrtRelay:
    """``srt-live-transmit`` between ``url`` and ``udp_url`` (udp://127.0.0.1:PORT): SRT in to UDP for
    a source (``into_udp``), UDP in to SRT for a sink."""

    def __init__(self, url: str, into_udp: bool):
        error = InputError if into_udp else OutputError
        program = shutil.which("srt-live-transmit")
        if program is None:
            raise error(f"{url.split('?')[0]} needs SRT's srt-live-transmit, which is not installed ({INSTALL})")
        self.url, self.port = url, free_udp_port()
        self.udp_url = f"udp://127.0.0.1:{self.port}"
        ends = [url, self.udp_url] if into_udp else [self.udp_url, url]
        self.proc = subprocess.Popen([program, "-q", "-a:yes", "-ll:error", *ends], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        time.sleep(_START_S)
        if self.proc.poll() is not None:
            why = self.proc.stderr.read().decode(errors="replace").strip().splitlines()
            raise error(f"cannot open {url}: {why[-1][:160] if why else 'srt-live-transmit refused it'}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(_STOP_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
