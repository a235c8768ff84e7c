"""Colour on the device (stream/media/colour.py's DeviceColour) against the host's swscale (its Colour),
on frames decoded from H.264 with chroma edges, in each matrix and range a source may carry: the
torch conversion runs here on the CPU, as it runs on a GPU."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the device path runs on torch")

from stream.core.frame import Frame  # noqa: E402
from stream.media.colour import BT709, FULL, LIMITED, Colour, DeviceColour  # noqa: E402
from stream.media.decode import FileDecoder  # noqa: E402
from stream.media.testsrc import write_test_clip  # noqa: E402

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

CASES = {"untagged BT.601": {}, "BT.709": {"bt709": True}, "BT.709 full range": {"bt709": True, "full_range": True}}


def planes_and_rgb(path):
    """Each frame as the device path gets it (4:2:0) and as the host path converts it (RGB)."""
    with FileDecoder(path, yuv=True) as raw, FileDecoder(path) as host:
        yuv = [f for f in raw if isinstance(f, Frame)]
        rgb = [f.image for f in host if isinstance(f, Frame)]
        return yuv, rgb, raw.colour


@pytest.mark.parametrize("case", CASES)
def test_4_2_0_into_rgb_is_swscales_to_one_level(tmp_path, case):
    clip = tmp_path / "clip.mp4"
    write_test_clip(clip, seconds=0.4, width=320, height=180, cuts=(0.2,), **CASES[case])
    frames, rgb, colour = planes_and_rgb(clip)
    device = DeviceColour(colour, "cpu")
    assert len(frames) == len(rgb) == 10
    worst = []
    for frame, expected in zip(frames, rgb):
        got = device.to_rgb(torch.from_numpy(frame.yuv.data), frame.yuv.width, frame.yuv.height).numpy()
        diff = np.abs(got.astype(int) - expected)
        worst.append(diff.max())
        assert diff.mean() < 0.05, case
    assert max(worst) <= 1 and np.abs(expected.astype(int) - 128).mean() > 20  # colourful pictures, not grey


@pytest.mark.parametrize("case", CASES)
def test_rgb_out_to_4_2_0_is_swscales_to_one_level(tmp_path, case):
    clip = tmp_path / "clip.mp4"
    write_test_clip(clip, seconds=0.2, width=320, height=180, **CASES[case])
    _, rgb, colour = planes_and_rgb(clip)
    device = DeviceColour(colour, "cpu")
    for picture in rgb:
        expected = colour.from_rgb(picture, "yuv420p").to_ndarray()   # I420, [H*3/2, W]
        got = device.to_yuv420(torch.from_numpy(picture)).numpy()
        assert got.shape == expected.shape == (270, 320)
        diff = np.abs(got.astype(int) - expected)
        assert diff.max() <= 1 and diff.mean() < 0.02, case


def test_nv12_as_nvdec_gives_it_is_the_same_picture():
    rng = np.random.default_rng(1)
    y = rng.integers(16, 236, (8, 12), dtype=np.uint8)
    u, v = rng.integers(16, 241, (2, 4, 6), dtype=np.uint8)
    i420 = np.concatenate([y.ravel(), u.ravel(), v.ravel()])
    nv12 = np.concatenate([y.ravel(), np.stack([u, v], -1).ravel()])
    device = DeviceColour(Colour(BT709, LIMITED, BT709, BT709), "cpu")
    a = device.to_rgb(torch.from_numpy(i420), 12, 8)
    b = device.to_rgb(torch.from_numpy(nv12), 12, 8, "nv12")
    assert torch.equal(a, b) and a.shape == (8, 12, 3)
    full = DeviceColour(Colour(BT709, FULL, BT709, BT709), "cpu").to_rgb(torch.from_numpy(i420), 12, 8)
    assert not torch.equal(a, full)  # the range is read
