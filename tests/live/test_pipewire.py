"""The PipeWire camera, for real: a private PipeWire daemon and WirePlumber started by the test (its
own runtime folder and session bus, stopped at the end), ``stylecast live --sink pipewire`` in one
process, and a separate client process (GStreamer's pipewiresrc) that finds the node by name."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import time

import numpy as np
import pytest
from support.pipewire_session import (
    CameraClient,
    PipeWireSession,
    missing_programs,
)

from stream.links.pipewire_camera import pipewire_problem
from stream.media.testsrc import TestScene

W, H = 320, 180


def _why_not() -> str | None:
    missing = missing_programs()
    if missing:
        return f"PipeWire is not installed here ({', '.join(missing)} missing; .ci/run installs it)"
    problem = pipewire_problem()
    return problem if problem and "daemon" not in problem else None


pytestmark = [pytest.mark.skipif(_why_not() is not None, reason=_why_not() or ""),
              pytest.mark.alone]  # alone: the client gets the job's rate


@pytest.fixture(scope="module")
def pipewire(tmp_path_factory):
    with PipeWireSession(tmp_path_factory.mktemp("pipewire")) as session:
        yield session


def start_job(pipewire, tmp_path, seconds: float, *extra: str) -> subprocess.Popen:
    job = subprocess.Popen([sys.executable, "-m", "stream.cli", "live", "--sink", "pipewire", "--max-side", str(W),
                            "--fps", "25", "--duration", str(seconds), "--json", "--trace", str(tmp_path / "trace.csv"),
                            *extra], env=pipewire.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pipewire.wait_for(lambda: 'node.name = "stylecast"' in pipewire.nodes() or job.poll() is not None, 60,
                      "the stylecast node")
    assert job.poll() is None, job.communicate()[1]
    return job


def sent_frames(tmp_path) -> dict[int, float]:
    """crc32 -> when the job emitted that picture, from its trace."""
    with open(tmp_path / "trace.csv") as f:
        return {int(r["crc32"], 16): float(r["emitted_at"]) for r in csv.DictReader(f)}


def test_a_client_finds_the_node_and_receives_the_stylized_frames(pipewire, tmp_path):
    job = start_job(pipewire, tmp_path, 8)
    node = next(block for block in pipewire.nodes().split("\tid ") if 'node.name = "stylecast"' in block)
    assert 'media.class = "Video/Source"' in node and 'node.description = "Stylecast camera"' in node
    with CameraClient(pipewire.env, W, H) as client:
        out, err = job.communicate(timeout=60)  # the job stops while the client reads
        assert job.returncode == 0, err
        stopped_at = time.monotonic()
        PipeWireSession.wait_for(lambda: 'node.name = "stylecast"' not in pipewire.nodes(), 10, "the node to go")
        time.sleep(0.5)
        assert not [t for t, _ in client.frames if t > stopped_at]
    summary = json.loads(out)
    sent = sent_frames(tmp_path)
    received = client.frames
    assert len(received) >= 10
    assert sum(crc in sent for _, crc in received) >= 0.95 * len(received)  # the job's own pictures, exactly
    span = received[-1][0] - received[0][0]
    assert (len(received) - 1) / span >= 0.8 * summary["fps_out"]
    scene = TestScene(W, H)
    assert min(np.abs(p.astype(float) - scene.frame(0.0)).mean() for p in client.pictures) > 20  # stylized


def test_a_client_that_leaves_and_comes_back_gets_frames_again(pipewire, tmp_path):
    job = start_job(pipewire, tmp_path, 12)
    try:
        with CameraClient(pipewire.env, W, H) as first:
            PipeWireSession.wait_for(lambda: len(first.frames) >= 5, 20, "frames at the first client")
        time.sleep(1.0)
        with CameraClient(pipewire.env, W, H) as second:
            PipeWireSession.wait_for(lambda: len(second.frames) >= 5, 20, "frames at the client that came back")
        sent = sent_frames(tmp_path)
        assert all(crc in sent for _, crc in second.frames[:5])
        assert second.frames[0][0] > first.frames[-1][0]
    finally:
        out, err = job.communicate(timeout=60)
    assert job.returncode == 0, err
    assert json.loads(out)["frames_out"] > 0
