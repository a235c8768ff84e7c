"""A render on the device path (``--frame-path device``: 4:2:0 up, colour, network, mix, stabilizer
in torch, the motion and flicker readout from host greys, 4:2:0 down) against the same render on
the host, here on the CPU, with every look control and a painted shot:
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
    # both in fp32 (the device path on the CPU runs fp32; the host path runs bf16 where the CPU has it)
    code, stdout, err = run_cli("render", clip, "-o", out, "--style", "mosaic", "--json", "--crf", "0",
                                "--precision", "fp32", *args)
    assert code == 0, err
    return json.loads(stdout)


@pytest.mark.parametrize("extra", [[], ["--strength", "0.6", "--keep-colors"], ["--style-scale", "0.5"]],
                         ids=["plain", "mix", "style-scale"])
@pytest.mark.quick
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


@pytest.mark.quick
def test_a_rotated_phone_clip_comes_out_upright_on_the_device_path(make_clip, tmp_path):
    clip = make_clip("phone.mp4", seconds=0.4, width=320, height=180, rotation=90)
    host = render(clip, tmp_path / "host.mp4", "--frame-path", "host", "--max-side", "160")
    device = render(clip, tmp_path / "device.mp4", "--frame-path", "device", "--max-side", "160")
    (_, a), (_, b) = video_frames(tmp_path / "host.mp4"), video_frames(tmp_path / "device.mp4")
    assert a[0].shape == b[0].shape == (160, 90, 3) and host["frames"] == device["frames"]
    # the host scales as it converts (swscale, chroma at its own size), the device after: about 2 levels
    assert np.mean([np.abs(x.astype(int) - y).mean() for x, y in zip(a, b)]) < 4.0


def test_a_painted_shot_is_carried_on_the_device_path_as_on_the_host(tmp_path):
    """The painting carried along the motion (stream/edit/carry.py) reaches the output on both paths:
    the device path once computed the carried frames and threw them away (22 dB from the host's)."""
    from PIL import Image
    from support.painted_canvas import PaintedCanvas

    from stream.media.testsrc import write_test_clip

    canvas = PaintedCanvas(192, 108, 40, 25)
    clip = tmp_path / "pan.mp4"
    write_test_clip(clip, seconds=1.6, width=192, height=108, fps=25, scene=canvas, seed=5)
    Image.fromarray(canvas.answer(20)).save(tmp_path / "painted.png")
    args = ["--keyframe", f"20={tmp_path / 'painted.png'}", "--keyframe-steps", "4"]
    host = render(clip, tmp_path / "host.mp4", "--frame-path", "host", *args)
    device = render(clip, tmp_path / "device.mp4", "--frame-path", "device", *args)
    assert host["painted"][0]["cached"] is False and device["painted"][0]["cached"] is True  # trained once
    (_, a), (_, b) = video_frames(tmp_path / "host.mp4"), video_frames(tmp_path / "device.mp4")
    psnr = [10 * np.log10(255 ** 2 / max(1e-9, np.mean((x.astype(float) - y) ** 2))) for x, y in zip(a, b)]
    assert min(psnr) > 40, psnr  # the same carried painting, to the encoder's rounding
    source = video_frames(clip)[1]
    for i in (5, 20, 35):  # the painting, carried (4:2:0 takes some of its fine colour), not the source
        assert np.abs(b[i].astype(int) - canvas.answer(i)).mean() < 0.6 * np.abs(source[i].astype(int) - canvas.answer(i)).mean()


@pytest.mark.parametrize("extra", [["--strength", "0"], ["--looks", "moving"]], ids=["strength-0", "moving-look"])
def test_every_look_control_is_the_same_on_the_device_path(make_clip, tmp_path, extra):
    clip = make_clip("clip.mp4", seconds=1.2, width=320, height=180)
    if extra[-1] == "moving":
        looks = tmp_path / "looks.json"
        looks.write_text(json.dumps([{"from": 0, "style": "mosaic", "keep_colors": True,
                                      "keyframes": [{"at": 0, "strength": 0.2}, {"at": 1.0, "strength": 1.0}]}]))
        extra = ["--looks", str(looks)]
    host = render(clip, tmp_path / "host.mp4", "--frame-path", "host", *extra)
    device = render(clip, tmp_path / "device.mp4", "--frame-path", "device", *extra)
    (_, a), (_, b) = video_frames(tmp_path / "host.mp4"), video_frames(tmp_path / "device.mp4")
    diffs = [np.abs(x.astype(int) - y).mean() for x, y in zip(a, b)]
    assert len(a) == len(b) == device["frames"] and np.mean(diffs) < 1.0, diffs
    if extra == ["--strength", "0"]:  # the source itself: neither network nor stabilizer
        assert max(diffs) < 1.0 and host["flicker"] == pytest.approx(host["source_flicker"], abs=0.05)
