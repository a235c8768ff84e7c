"""A render on the device path (``--frame-path device``: 4:2:0 up, colour, network, mix, stabilizer
and flicker readout in torch, 4:2:0 down) against the same render on the host, here on the CPU:
every frame with the same timestamps, the sound untouched, the pictures within a level on average
(the stabilizer carries each frame's few one-level differences into the next), the same flicker. The outputs are lossless H.264 (``--crf 0``): at CRF 18 x264 turns a one-level difference
here and there into 2-5 levels of different quantization noise on a stylized frame's fine texture."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import packets, run_cli, video_frames

pytest.importorskip("torch", reason="the device path runs on torch")


def render(clip, out, *args) -> dict:
    code, stdout, err = run_cli("render", clip, "-o", out, "--style", "mosaic", "--json", "--crf", "0", *args)
    assert code == 0, err
    return json.loads(stdout)


@pytest.mark.parametrize("extra", [[], ["--strength", "0.6", "--keep-colors"], ["--style-scale", "0.5"]],
                         ids=["plain", "mix", "style-scale"])
def test_the_device_path_renders_what_the_host_path_renders(make_clip, tmp_path, extra):
    clip = make_clip("clip.mp4", seconds=1.2, width=320, height=180, cuts=(0.6,))
    host = render(clip, tmp_path / "host.mp4", "--frame-path", "host", *extra)
    device = render(clip, tmp_path / "device.mp4", "--frame-path", "device", *extra)
    assert host["frame_path"] == "host" and device["frame_path"] == "cpu"
    (t1, a), (t2, b) = video_frames(tmp_path / "host.mp4"), video_frames(tmp_path / "device.mp4")
    assert t1 == t2 and len(a) == device["frames"] == 30
    assert packets(tmp_path / "device.mp4", "audio") == packets(clip, "audio")
    diffs = [np.abs(x.astype(int) - y).mean() for x, y in zip(a, b)]
    assert np.mean(diffs) < 1.0 and max(diffs) < 2.5, diffs
    assert device["scene_cuts"] == host["scene_cuts"] == 1
    assert abs(device["flicker"] - host["flicker"]) <= 0.05 * host["flicker"] + 0.05


def test_a_rotated_phone_clip_comes_out_upright_on_the_device_path(make_clip, tmp_path):
    clip = make_clip("phone.mp4", seconds=0.4, width=320, height=180, rotation=90)
    host = render(clip, tmp_path / "host.mp4", "--frame-path", "host", "--max-side", "160")
    device = render(clip, tmp_path / "device.mp4", "--frame-path", "device", "--max-side", "160")
    (_, a), (_, b) = video_frames(tmp_path / "host.mp4"), video_frames(tmp_path / "device.mp4")
    assert a[0].shape == b[0].shape == (160, 90, 3) and host["frames"] == device["frames"]
    # the host scales as it converts (swscale, chroma at its own size), the device after: about 2 levels
    assert np.mean([np.abs(x.astype(int) - y).mean() for x, y in zip(a, b)]) < 4.0
