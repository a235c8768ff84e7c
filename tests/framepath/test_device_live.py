"""``stylecast live`` on the device path (here the CPU's torch): a file source's 4:2:0 pictures go up
as they are, are stylized and stabilized there, and come down as the recording sink's 4:2:0."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli, video_frames

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

pytest.importorskip("torch", reason="the device path runs on torch")


def test_a_live_file_source_is_stylized_on_the_device_path_into_a_recording(make_clip, tmp_path):
    clip = make_clip("clip.mp4", seconds=2.0, width=320, height=180)
    out = tmp_path / "monitor.mkv"
    code, stdout, err = run_cli("live", "--source", clip, "--sink", out, "--frame-path", "device", "--style", "mosaic",
                                "--fps", "25", "--adapt", "off", "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["frame_path"] == "cpu" and summary["frames_out"] >= 10
    times, frames = video_frames(out)
    _, source = video_frames(clip)
    assert len(frames) == summary["frames_out"] and frames[0].shape == (180, 320, 3)
    assert times == sorted(times) and summary["flicker"] is not None
    assert np.mean([np.abs(f.astype(int) - source[0]).mean() for f in frames]) > 15  # stylized, not passed through
