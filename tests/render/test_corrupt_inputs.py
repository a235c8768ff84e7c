"""Damaged inputs and killed renders (issue #8, media rows).

Corrupted inputs: random byte bursts and truncations (10%, 50%, 90%) in MP4, MKV, MPEG-TS, WebM
and MOV. Each render finishes within twice the clean render's time, and it either completes (with
the lost frames counted under --ignore-errors) or exits 2 with one line naming where decoding
broke. No partial file is ever left at the output path. STYLECAST_CORRUPT_SEEDS sets the seeds per
case (1 by default; 100 in the long run, see docs/reliability.md).

Killed renders: SIGKILL at a random moment leaves nothing or a playable file at the output path,
and the next run cleans up the temporary file."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import av
import numpy as np
import pytest

from stream.media.testsrc import write_test_clip

FORMATS = ("mp4", "mkv", "ts", "webm", "mov")
SEEDS = int(os.environ.get("STYLECAST_CORRUPT_SEEDS", "1"))
KILLS = int(os.environ.get("STYLECAST_KILL_RUNS", "3"))
DAMAGE = ("burst", 0.5) if SEEDS == 1 else ("burst", 0.1, 0.5, 0.9)
OUTCOMES: Counter = Counter()  # (format, "rendered"|"exit 2") -> runs; printed at the end (pytest -s)
SLOWEST = [0.0]                # the largest damaged/clean time ratio


def render(src, out, *extra, timeout: float = 120) -> tuple[int, str, str, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "stream.cli", "render", str(src), "-o", str(out), "--json",
                           "--max-side", "160", *extra], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """Per format: the clean clip's bytes and how long its render takes."""
    folder = tmp_path_factory.mktemp("clean")
    found = {}
    for fmt in FORMATS:
        path = folder / f"clip.{fmt}"
        write_test_clip(path, 2.0, 192, 108, fmt="mpegts" if fmt == "ts" else None)
        code, _, err, seconds = render(path, folder / f"out-{fmt}.mp4")
        assert code == 0, err
        found[fmt] = (path.read_bytes(), seconds)
    return found


def damaged(data: bytes, damage, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    if damage == "burst":
        out = bytearray(data)
        for _ in range(3):
            at, n = int(rng.integers(0, len(out))), int(rng.integers(16, 512))
            out[at:at + n] = rng.bytes(n)[: len(out) - at]
        return bytes(out)
    return data[: int(len(data) * damage)]


def playable_frames(path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


@pytest.mark.alone  # it measures time
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_input_completes_or_fails_cleanly(clean, tmp_path, fmt, damage):
    data, clean_seconds = clean[fmt]
    for seed in range(SEEDS):
        src, out = tmp_path / f"bad-{seed}.{fmt}", tmp_path / f"out-{seed}.mp4"
        src.write_bytes(damaged(data, damage, seed))
        extra = ("--ignore-errors",) if seed % 2 == 0 else ()
        code, stdout, stderr, seconds = render(src, out, *extra, timeout=max(60, 4 * clean_seconds))
        case = f"{fmt} {damage} seed {seed} {extra}"
        OUTCOMES[fmt, "rendered" if code == 0 else f"exit {code}"] += 1
        SLOWEST[0] = max(SLOWEST[0], seconds / clean_seconds)
        assert seconds < 2 * clean_seconds + 1.0, f"{case}: {seconds:.1f} s against {clean_seconds:.1f} s clean"
        assert code in (0, 2), f"{case}: exit {code}: {stderr[-500:]}"
        assert "Traceback" not in stderr, case
        leftovers = [p.name for p in tmp_path.iterdir() if "stylecast-partial" in p.name]
        assert not leftovers, f"{case}: {leftovers}"
        if code == 0:
            summary = json.loads(stdout)
            assert summary["lost_frames"] >= 0 and playable_frames(out) == summary["frames"] >= 1, case
        else:
            line = stderr.strip()
            assert "\n" not in line and line.startswith("stylecast: error:"), f"{case}: {stderr}"
            assert not out.exists(), case


def test_killed_render_leaves_nothing_or_a_playable_file(tmp_path):
    src = tmp_path / "clip.mp4"
    write_test_clip(src, 6.0, 192, 108)
    rng = np.random.default_rng(1)
    for run in range(KILLS):
        out = tmp_path / f"out-{run}.mp4"
        proc = subprocess.Popen([sys.executable, "-m", "stream.cli", "render", str(src), "-o", str(out),
                                 "--max-side", "160"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        mine = tmp_path / f".{out.name}.{proc.pid}.stylecast-partial"  # output_file.py's naming
        while not mine.exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "the render never started writing"
            time.sleep(0.02)
        time.sleep(float(rng.uniform(0.0, 1.0)))  # somewhere in the middle of writing
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not out.exists() or playable_frames(out) == 150, f"run {run}: a partial file at the output path"
    partials = [p for p in tmp_path.iterdir() if "stylecast-partial" in p.name]
    assert partials, "no kill landed while the render was writing"
    code, _, err, _ = render(src, tmp_path / "after.mp4")
    assert code == 0, err
    assert not any(p.exists() for p in partials)  # the next run removed what the killed ones left
    print(f"\ndamaged inputs: {dict(sorted(OUTCOMES.items()))}; slowest {SLOWEST[0]:.2f}x the clean render; "
          f"{KILLS} kills while writing: {sum(out.exists() for out in tmp_path.glob('out-*.mp4'))} files at the "
          f"output path; each run removed the temporary file the killed one before it left")
