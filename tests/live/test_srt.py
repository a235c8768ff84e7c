"""SRT for real (issue #18): ``srt://`` sources and sinks through Debian's srt-live-transmit, on
127.0.0.1, in both modes, with SRT's latency option passed through; a caller that goes away and
comes back."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time

import av
import pytest
from conftest import one_error_line, run_cli, stop_live, udp_bound, wait_for
from support.loopback import Receiver, publish

from stream.links.srt_relay import free_udp_port

pytestmark = [pytest.mark.skipif(shutil.which("srt-live-transmit") is None,
                                 reason="srt-live-transmit is not installed (srt-tools; .ci/run installs it)"),
              pytest.mark.alone]  # alone: frames through a real relay in real time
LATENCY = "latency=40"


def relay(source: str, target: str) -> subprocess.Popen:
    """A third party's SRT end, as a publisher or a receiver would run it."""
    return subprocess.Popen(["srt-live-transmit", "-q", source, target], stderr=subprocess.DEVNULL)


def live(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stream.cli", "live", "--json", "--max-side", "256", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_publisher_calls_in_goes_away_and_comes_back(tmp_path):
    listen, publisher_udp = free_udp_port(), free_udp_port()
    job = live("--source", f"srt://127.0.0.1:{listen}?mode=listener&{LATENCY}", "--sink", str(tmp_path / "out.ts"),
               "--duration", "60", "--trace", str(tmp_path / "trace.csv"))
    wait_for(lambda: udp_bound(listen), 30, "the job's SRT listener up")  # a slow start on a busy machine
    caller = relay(f"udp://127.0.0.1:{publisher_udp}", f"srt://127.0.0.1:{listen}?mode=caller&{LATENCY}")
    wait_for(lambda: udp_bound(publisher_udp), 10, "the caller's relay up")
    publish(publisher_udp, 2.5)  # the first call also opens the stream (its probe): a second of it goes there
    caller.terminate()
    caller.wait()
    gone_at = time.monotonic()
    time.sleep(1.5)  # the publisher is away: the job holds the picture
    caller = relay(f"udp://127.0.0.1:{publisher_udp}", f"srt://127.0.0.1:{listen}?mode=caller&{LATENCY}")
    wait_for(lambda: udp_bound(publisher_udp), 10, "the caller's relay up again")
    back_at = time.monotonic()
    publish(publisher_udp, 2.0)
    time.sleep(0.5)  # the last frames through the relay and the network
    out, err = stop_live(job)
    caller.terminate()
    assert job.returncode == 0, err
    with open(tmp_path / "trace.csv") as f:
        rows = [(float(r["emitted_at"]), r["held"] == "1") for r in csv.DictReader(f)]
    before = [t for t, held in rows if not held and t < gone_at]
    after = [t for t, held in rows if not held and t > back_at]
    assert len(before) >= 25 and len(after) >= 25  # pictures from both calls came through
    assert any(held for t, held in rows if gone_at < t < back_at)  # held while the caller was away
    with av.open(str(tmp_path / "out.ts")) as c:
        assert sum(1 for _ in c.decode(video=0)) == json.loads(out)["frames_out"] + json.loads(out)["held_frames"]


@pytest.mark.parametrize("mode", ["caller", "listener"])
def test_the_stylized_stream_goes_out_as_srt(mode):
    port, receiver_udp = free_udp_port(), free_udp_port()
    receiver = Receiver(receiver_udp)
    receiver.start()
    other = "listener" if mode == "caller" else "caller"
    far_end = f"srt://127.0.0.1:{port}?mode={other}&{LATENCY}"
    far = relay(far_end, f"udp://127.0.0.1:{receiver_udp}") if mode == "caller" else None
    job = live("--sink", f"srt://127.0.0.1:{port}?mode={mode}&{LATENCY}", "--duration", "60")
    if far is None:
        wait_for(lambda: udp_bound(port), 30, "the job's SRT listener up")
        far = relay(far_end, f"udp://127.0.0.1:{receiver_udp}")
    wait_for(lambda: len(receiver.frames) >= 45, 30, "45 frames at the far end")
    out, err = stop_live(job)
    receiver.settle()
    far.terminate()
    assert job.returncode == 0, err
    summary = json.loads(out)
    assert len(receiver.frames) >= 0.5 * summary["frames_out"] and len(receiver.frames) >= 40
    picture = receiver.frames[-1][1].astype(float)
    assert picture.shape == (144, 256, 3) and picture.std() > 20


def test_a_bad_srt_address_is_one_line():
    code, _, err = run_cli("live", "--sink", "srt://127.0.0.1:notaport?mode=caller", "--duration", "1")
    assert code == 2 and "srt://127.0.0.1:notaport" in one_error_line(err)
    port = free_udp_port()
    code, _, err = run_cli("live", "--source", f"srt://127.0.0.1:{port}?mode=listener", "--duration", "1")
    assert code == 2 and f"cannot open srt://127.0.0.1:{port}: nothing arrived within" in one_error_line(err)
    left = subprocess.run(["pgrep", "-f", f"srt-live-transmit.*127.0.0.1:{port}"], capture_output=True, text=True)
    assert left.stdout.strip() == ""  # the relay it started is stopped
