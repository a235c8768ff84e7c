"""A whole film through ``stylecast render`` (issue #8): every frame out, the sound copied packet for
packet, picture and sound still together at the end, and memory flat from start to end.

The default run renders half a minute, ``python -m pytest -m slow`` twenty minutes (where memory
flatness is checked), and ``STYLECAST_FILM_MINUTES=120`` (``python -m tools.reliability film --minutes 120``)
a generated two-hour film. The film is small (64x36) so two hours fit in
minutes on two cores: what is tested is the length, not the picture size."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from stream.media.testsrc import write_test_clip
from stream.serve.diagnostics import resident_mb

MINUTES = float(os.environ.get("STYLECAST_FILM_MINUTES", "0.5"))
FPS = 25


def summary(path: Path) -> dict:
    """Frame count, a digest of the audio packets (time and bytes), and where each stream ends (s)."""
    digest, ends, frames, audio = hashlib.sha256(), {}, 0, 0
    with av.open(str(path)) as c:
        for packet in c.demux():
            if not packet.size or packet.pts is None:
                continue
            kind = packet.stream.type
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            ends[kind] = max(ends.get(kind, 0.0), end)
            if kind == "video":
                frames += 1
            elif kind == "audio":
                audio += 1
                digest.update(round(float(packet.pts * packet.time_base), 4).hex().encode() + bytes(packet))
    return {"frames": frames, "audio_packets": audio, "audio_sha256": digest.hexdigest(), "ends": ends}


@pytest.mark.parametrize("minutes", [MINUTES, pytest.param(20.0, marks=pytest.mark.slow)])
def test_a_whole_film_keeps_every_frame_its_sound_and_flat_memory(tmp_path, minutes):
    film, out = tmp_path / "film.mp4", tmp_path / "film-styled.mp4"
    write_test_clip(film, seconds=minutes * 60, width=64, height=36, fps=FPS)
    source = summary(film)
    assert source["frames"] == round(minutes * 60 * FPS)
    proc = subprocess.Popen([sys.executable, "-m", "stream.cli", "render", str(film), "-o", str(out), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = []  # (seconds, MiB) every half second
    started = time.monotonic()
    while proc.poll() is None:
        if (mb := resident_mb(proc.pid)) is not None:
            memory.append((time.monotonic() - started, mb))
        time.sleep(0.5)
    result, err = proc.communicate()
    assert proc.returncode == 0, err
    rendered = json.loads(result)
    assert rendered["fragmented"] is (minutes > 30)  # a film this long is written in fragments
    styled = summary(out)
    assert rendered["frames"] == styled["frames"] == source["frames"]  # every frame
    assert styled["audio_packets"] == source["audio_packets"] and styled["audio_sha256"] == source["audio_sha256"]
    offset_in = source["ends"]["video"] - source["ends"]["audio"]
    offset_out = styled["ends"]["video"] - styled["ends"]["audio"]
    assert abs(offset_out - offset_in) <= 1 / FPS  # still together at the end
    seconds = time.monotonic() - started
    early = [mb for t, mb in memory if 0.1 * seconds <= t <= 0.2 * seconds]
    late = [mb for t, mb in memory if t >= 0.9 * seconds]
    print(f"\nfilm {minutes:g} min ({source['frames']} frames, {source['audio_packets']} audio packets): rendered in "
          f"{seconds:.0f} s ({rendered['fps']:.0f} frames/s); A/V end offset {offset_in * 1000:+.1f} ms in, "
          f"{offset_out * 1000:+.1f} ms out")
    if minutes >= 10:  # too short a run says nothing about flatness
        growth = (max(late) - max(early)) / max(early)
        print(f"resident memory {max(early):.0f} MiB at 10-20% of the run, {max(late):.0f} MiB at 90-100% ({growth:+.1%})")
        assert growth < 0.05
