"""Picture styles at the frame's own size, and the size of the brush strokes (issue #16)."""
from __future__ import annotations

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import run_cli, video_frames
from support.temporal_metrics import ssim_quarter

from engines import open_engine
from engines.mix import Mix
from engines.models import ARBITRARY_PREDICT, ARBITRARY_TRANSFORM, packaged_model
from engines.networks.any_size_model import any_size_model
from engines.networks.onnx_networks import style_vector
from engines.optional import torch
from engines.style_scale import (
    DETAIL_GAIN,
    add_lost_detail,
    grow,
    shrink,
    stylize_scaled,
)
from stream.media.testsrc import TestScene

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


def sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian of the luma: how much fine texture a picture holds."""
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


@pytest.fixture(scope="module")
def painting(tmp_path_factory):
    path = tmp_path_factory.mktemp("style") / "painting.png"
    cv2.imwrite(str(path), TestScene(320, 320, seed=11).frame(0.0))
    return path


@pytest.fixture(scope="module")
def blurred():
    """A frame with no fine detail left: whatever texture an output has, the network painted."""
    return cv2.GaussianBlur(TestScene(480, 272, seed=3).frame(0.4), (0, 0), 5)


def test_the_transformer_copy_takes_any_size_and_keeps_the_packaged_look():
    path = any_size_model(packaged_model(ARBITRARY_TRANSFORM))
    model = onnx.load(str(path))
    assert not any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in model.graph.node)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    free = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    packaged = ort.InferenceSession(str(packaged_model(ARBITRARY_TRANSFORM)), options, providers=["CPUExecutionProvider"])
    predict = ort.InferenceSession(str(packaged_model(ARBITRARY_PREDICT)), options, providers=["CPUExecutionProvider"])
    vector = style_vector(predict, TestScene(256, 256, seed=11).frame(0.0))  # a real picture's style
    square = TestScene(384, 384).frame(0.2)[None].astype(np.float32) / 255
    names = [i.name for i in free.get_inputs()]
    a = free.run(None, dict(zip(names, (square, vector))))[0]
    b = packaged.run(None, dict(zip(names, (square, vector))))[0]
    print(f"\nany-size float copy against the packaged int8 graph: mean |difference| {np.abs(a - b).mean():.4f}")
    # what differs is the int8 graph's rounding of every activation (its output alone is in steps of
    # 1/256): the same picture, a few levels apart
    to_uint8 = lambda y: (np.clip(y[0], 0, 1) * 255).astype(np.uint8)  # noqa: E731
    assert np.abs(a - b).mean() < 0.035 and ssim_quarter(to_uint8(a), to_uint8(b)) > 0.9
    wide = TestScene(200, 112).frame(0.2)[None].astype(np.float32) / 255
    assert free.run(None, dict(zip(names, (wide, vector))))[0].shape == (1, 112, 200, 3)


def test_a_picture_style_paints_fine_texture_at_full_size(painting, blurred):
    engine = open_engine("cpu", str(painting), precision="fp32")
    full = engine.stylize_one(blurred)
    assert full.shape == blurred.shape
    small = cv2.resize(blurred, (192, 108), interpolation=cv2.INTER_AREA)
    upscaled = cv2.resize(engine.stylize_one(small), blurred.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    assert sharpness(full) > 5 * sharpness(upscaled), (sharpness(full), sharpness(upscaled))


def test_style_scale_sets_the_size_of_the_strokes(blurred):
    engine = open_engine("cpu", "starry-night", precision="fp32")
    fine, one, coarse = (stylize_scaled(engine, blurred, scale=s) for s in (2.0, 1.0, 0.5))
    assert fine.shape == one.shape == coarse.shape == blurred.shape
    assert np.array_equal(one, engine.stylize_one(blurred))  # 1 is the engine's own call
    assert sharpness(fine) > 1.2 * sharpness(one) and sharpness(one) > 5 * sharpness(coarse)


def test_style_scale_on_the_command_line(make_clip, tmp_path):
    clip = make_clip(seconds=0.4)
    code, _, err = run_cli("render", clip, "-o", tmp_path / "half.mp4", "--style-scale", "0.5", "--no-stabilize")
    assert code == 0, err
    code, _, err = run_cli("render", clip, "-o", tmp_path / "one.mp4", "--no-stabilize")
    _, half = video_frames(tmp_path / "half.mp4")
    _, one = video_frames(tmp_path / "one.mp4")
    assert half[0].shape == one[0].shape and np.abs(half[5].astype(int) - one[5]).mean() > 5
    for bad in ("0.1", "3", "nan"):
        code, _, err = run_cli("render", clip, "-o", tmp_path / "bad.mp4", "--style-scale", bad)
        assert code == 2 and "--style-scale must be between 0.25 and 2" in err
    assert not (tmp_path / "bad.mp4").exists()


def test_the_detail_put_back_is_rounded_to_the_nearest_level_on_the_host_and_on_a_device():
    # the luminance detail the shrinking lost, put back at the frame's size: the exact sum rounded
    # (the float32 path it replaced truncated: 0.36 of a level darker on average, and 8x slower)
    frame = TestScene(480, 272, seed=3).frame(0.4)
    small = shrink(frame, 0.5)
    stylized = cv2.GaussianBlur(small, (0, 0), 1.5)  # a network's picture: smooth, at the small size
    upscaled = cv2.resize(stylized, frame.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    luma = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float64)
    blurred = cv2.resize(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), frame.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    exact = np.clip(np.rint(upscaled + DETAIL_GAIN * (luma - blurred)[..., None]), 0, 255)
    host = add_lost_detail(upscaled, frame, small)
    assert host.dtype == np.uint8 and np.array_equal(host, exact)
    if torch is None:
        return
    grown = grow(stylized, frame, small, Mix())
    device = grow(*(torch.from_numpy(x) for x in (stylized, frame, small)), Mix()).numpy()
    difference = device.astype(int) - grown
    assert np.abs(difference).mean() < 0.3 and abs(difference.mean()) < 0.1 and np.abs(difference).max() <= 2
