"""Helpers that make test media with PyAV and run the CLI, so every test reads like a user's story."""
from __future__ import annotations

import io
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import av
import numpy as np
import pytest
from support.alone import held
from support.polling import (
    wait_for as wait_for,  # re-exported: the tests import it from conftest
)

from stream.cli import main
from stream.media.testsrc import write_test_clip

W, H = 192, 108  # small frames keep the suite fast; the network runs at any size


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """A test marked ``alone`` (it measures time or a rate) runs with no other beside it when the
    suite runs in parallel, its fixtures' set-up and tear-down included (support/alone.py)."""
    shared = Path(item.config._tmp_path_factory.getbasetemp()).parent  # the run's folder, every worker's
    with held(shared, item.get_closest_marker("alone") is not None):
        yield


@pytest.fixture(autouse=True)
def _cpu_time(request):
    """With STYLECAST_TEST_CPU=FILE: each test's wall time and the CPU seconds it used, its own and its
    finished child processes' (a line of JSON a test), to find what costs the suite its time
    (tools/test_times.py reads the file beside the junit XML)."""
    where = os.environ.get("STYLECAST_TEST_CPU")
    if not where:
        yield
        return
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    yield
    own2, kids2 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = lambda a, b: round((b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime), 2)  # noqa: E731
    with open(where, "a") as f:
        f.write(json.dumps({"test": request.node.nodeid, "wall": round(time.monotonic() - started, 2),
                            "cpu": cpu(own, own2), "children": cpu(kids, kids2)}) + "\n")


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """The session's own cache, set before any fixture opens an engine (a module's engine included);
    and the CPU runtime pinned to ONNX Runtime and torch (no measured choice), so a test's pixels do
    not depend on whether OpenVINO is installed and measured faster (tests/engines/test_openvino.py
    lifts the pin to test the choice)."""
    before = {k: os.environ.get(k) for k in ("STYLECAST_CACHE", "STYLECAST_CPU_RUNTIME")}
    os.environ["STYLECAST_CACHE"] = str(tmp_path_factory.getbasetemp() / "cache")
    os.environ["STYLECAST_CPU_RUNTIME"] = "onnxruntime"
    yield
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def make_clip(tmp_path):
    """``make_clip("a.mp4", seconds=1, ...)`` writes the moving test scene (with a tone) and returns its path."""
    def make(name: str = "clip.mp4", **kw) -> Path:
        path = tmp_path / name
        kw.setdefault("seconds", 1.0)
        kw.setdefault("width", W)
        kw.setdefault("height", H)
        write_test_clip(path, **kw)
        return path
    return make


def run_cli(*args) -> tuple[int, str, str]:
    """Run ``stylecast ARGS`` in this process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def video_frames(path: Path) -> tuple[list[float], list[np.ndarray]]:
    """Presentation times (s) and RGB pictures of every frame of the first video stream."""
    times, images = [], []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            times.append(float(f.pts * f.time_base))
            images.append(f.to_ndarray(format="rgb24"))
    return times, images


def packets(path: Path, kind: str) -> list[tuple[float, bytes]]:
    """(time in s, payload) of every packet of the first stream of ``kind``."""
    with av.open(str(path)) as c:
        streams = [s for s in c.streams if s.type == kind]
        if not streams:
            return []
        return [(round(float(p.pts * p.time_base), 3), bytes(p)) for p in c.demux(streams[0]) if p.size]


def one_error_line(err: str) -> str:
    """The single line a failed command printed, after checking it is one line and no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="session")
def _servers():
    """``stylecast serve`` processes shared by the whole session, by their arguments: a module that
    asks for a server with the same arguments as another gets the same process (each start imports
    torch and aiortc and may time the network). Each must stop cleanly at the end."""
    from support.server_process import ServerProcess

    pool: dict[tuple[str, ...], ServerProcess] = {}
    yield pool, ServerProcess
    for srv in pool.values():
        srv.stop()
    for args, srv in pool.items():
        assert srv.returncode == 0, f"serve {' '.join(args)}: {srv.stderr}"  # SIGTERM is a clean stop


def serve_fixture(*args: str):
    """A ``stylecast serve`` process (tests/support/server_process.py) for a module's tests, shared with every
    other module that asks for the same arguments. A test that needs a server of its own (a fresh
    start, an option no other test uses) starts one itself and says why."""

    @pytest.fixture(scope="module")
    def server(_servers):
        pool, ServerProcess = _servers
        if args not in pool or pool[args].proc.poll() is not None:
            pool[args] = ServerProcess(*args)
        return pool[args]

    return server


# the server several modules share: small frames, one or two viewers, offers unlimited, a viewer let
# go 2 s after its camera stops (the watchdog's tests wait 2 s, not the 9 s default)
SMALL_SERVER = ("--offer-rate", "100000", "--max-side", "160", "--max-sessions", "2", "--idle-timeout", "2")


def free_port(kind=socket.SOCK_DGRAM) -> int:
    """A port on 127.0.0.1 that nothing holds now (UDP by default)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_bound(port: int) -> bool:
    """Something on this machine listens on UDP ``port`` (Linux's table of sockets)."""
    with open("/proc/net/udp") as f:
        return any(int(line.split()[1].split(":")[1], 16) == port for line in f.readlines()[1:])


def control_stats(port: int) -> dict | None:
    """A live job's ``GET /stats`` on its control port, or None while it is not answering yet."""
    try:
        return json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=2))
    except OSError:
        return None


def live(*args) -> subprocess.Popen:
    """``stylecast live ARGS`` in a process of its own, its output piped."""
    return subprocess.Popen([sys.executable, "-m", "stream.cli", "live", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_live(proc: subprocess.Popen, timeout: float = 30) -> tuple[str, str]:
    """End a live job now that its frames are in (SIGTERM: a clean stop that prints its summary,
    as a user's Ctrl+C does); its (stdout, stderr). Tests end a job when their check has what it
    needs, not after a fixed ``--duration``."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.communicate(timeout=timeout)
