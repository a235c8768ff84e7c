"""Stabilized video flickers less, leaves no ghosts, does not smear cuts, and can be turned off."""
import json

import cv2
import numpy as np
import pytest
from conftest import run_cli

from engines import open_engine
from stream.media.testsrc import TestScene
from stream.temporal.stabilize import DEFAULT_STABILITY, Stabilizer

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

W, H = 192, 112


@pytest.fixture(scope="module")
def engine():
    return open_engine("cpu", "starry-night")


def _noisy(frame, rng, sigma=4.0):
    return np.clip(frame + rng.normal(0, sigma, frame.shape), 0, 255).astype(np.uint8)


def _stylize(engine, frames, stability):
    stab = Stabilizer(stability)
    perframe = [engine.stylize_one(f) for f in frames]
    return perframe, [stab(src, out) for src, out in zip(frames, perframe)], stab


def _pan_error(frames, dx):
    """Exact warping error for a pan of ``dx`` pixels per frame (content moves left)."""
    return np.mean([((b[:, 8:-8 - dx].astype(float) - a[:, 8 + dx:-8].astype(float)) / 255) ** 2
                    for a, b in zip(frames, frames[1:])])


def test_textured_pan_flickers_less(engine):
    rng = np.random.default_rng(0)
    scene = TestScene(W + 200, H, seed=3)
    wide = scene.background[:H]
    frames = [_noisy(np.ascontiguousarray(wide[:, 3 * i:3 * i + W]), rng) for i in range(16)]
    perframe, stabilized, stab = _stylize(engine, frames, 0.95)
    assert stab.stats.cuts == 0 and stab.stats.mean_trust > 0.6
    assert _pan_error(stabilized, 3) < 0.6 * _pan_error(perframe, 3)


def _disc(scene, t, grow=0):
    """Where the scene's disc is at ``t`` (its geometry, not its colours)."""
    r = scene.radius
    cx = int((0.5 + 0.4 * np.sin(t * 1.3)) * (scene.width - 2 * r)) + r
    cy = int((0.5 + 0.4 * np.cos(t * 0.9)) * (scene.height - 2 * r)) + r
    yy, xx = np.mgrid[0:scene.height, 0:scene.width]
    return (xx - cx) ** 2 + (yy - cy) ** 2 < (r + grow) ** 2


def test_moving_object_leaves_no_ghost(engine):
    scene = TestScene(W, H, seed=1, pan_px_per_s=0)
    times = [4.83 - (11 - i) * 0.08 for i in range(12)]  # the disc speeds up to ~10 px a frame over a still background
    frames = [scene.frame(t) for t in times]
    perframe, stabilized, _ = _stylize(engine, frames, DEFAULT_STABILITY)
    # plain blending with the previous frame (EMA 0.7) for contrast: it does leave a trail
    ema, prev = [], None
    for out in perframe:
        prev = out.astype(np.float32) if prev is None else 0.7 * prev + 0.3 * out
        ema.append(prev)
    # where the disc was and is no more: where a ghost would linger
    vacated = (_disc(scene, times[-2]) | _disc(scene, times[-3])) & ~_disc(scene, times[-1], grow=3)
    assert vacated.sum() > 200

    def ghost(outs):
        """How far the coarse picture (colours, shapes) departs from the per-frame one where the disc was."""
        coarse = lambda f: cv2.GaussianBlur(np.asarray(f, np.float32), (0, 0), 3)
        return np.abs(coarse(outs[-1]) - coarse(perframe[-1])).mean(-1)[vacated].mean()

    assert ghost(ema) > 20                              # the measure sees a trail when there is one
    assert ghost(stabilized) < 0.2 * ghost(ema)         # nothing of the disc lingers


def test_a_still_camera_stays_calm(engine):
    """A locked-off shot: the same scene with sensor noise, frame after frame. The stabilizer keeps
    the texture still and stays the per-frame picture; fed its own output for 60 frames, it must
    not sharpen it into noise (it once did, within a second)."""
    rng = np.random.default_rng(2)
    still = TestScene(W, H, seed=4).frame(0)
    frames = [_noisy(still, rng, sigma=2.0) for _ in range(60)]
    perframe, stabilized, stab = _stylize(engine, frames, 0.9)
    assert stab.stats.cuts == 0
    jitter = lambda outs: np.mean([np.abs(b.astype(int) - a).mean() for a, b in zip(outs[-20:], outs[-19:])])
    assert jitter(stabilized) < 0.5 * jitter(perframe)  # steadier than the per-frame output
    departure = np.abs(stabilized[-1].astype(int) - perframe[-1]).mean()
    assert departure < 6  # grey levels, mean: still the per-frame picture (70 when it ran away)
    detail = lambda f: np.abs(cv2.Laplacian(f.astype(np.float32), cv2.CV_32F)).mean()
    assert detail(stabilized[-1]) < 1.1 * detail(perframe[-1])


def test_hard_cut_is_not_smeared(engine):
    a, b = TestScene(W, H, seed=1), TestScene(W, H, seed=9)
    frames = [a.frame(i / 25) for i in range(8)] + [b.frame(i / 25)[::-1].copy() for i in range(4)]
    perframe, stabilized, stab = _stylize(engine, frames, 0.95)
    assert stab.stats.cuts == 1
    assert np.array_equal(stabilized[8], perframe[8])  # the first frame after the cut carries nothing over
    assert not np.array_equal(stabilized[7], perframe[7])


def test_noise_burst_is_damped(engine):
    rng = np.random.default_rng(2)
    still = np.ascontiguousarray(TestScene(W, H, seed=4).background[:H, :W])
    frames = [still.copy() for _ in range(8)]
    frames[6] = _noisy(still, rng, sigma=6)  # one noisy frame in a still shot: all change is flicker
    perframe, stabilized, _ = _stylize(engine, frames, 0.95)
    jump = lambda out: np.abs(out[6].astype(float) - out[5]).mean()
    assert jump(perframe) > 3
    assert jump(stabilized) < 0.6 * jump(perframe)


def test_stability_zero_is_the_per_frame_output(engine):
    frame = TestScene(W, H).frame(0.3)
    out = engine.stylize_one(frame)
    stab = Stabilizer(0.0)
    assert stab(frame, out) is out and stab(frame, out) is out
    with pytest.raises(Exception, match="stability must be between 0 and 1"):
        Stabilizer(1.5)


def test_render_stabilizes_by_default_and_no_stabilize_is_the_per_frame_path(make_clip, tmp_path, monkeypatch):
    import stream.media.encode as encode
    from stream.core.frame import Frame
    from stream.media.decode import FileDecoder

    clip = make_clip("pan.mp4", seconds=0.8, audio=False)
    sent = {}
    real_write = encode.FileEncoder.write

    def spy(self, item):  # what reaches the encoder, before lossy (and threaded) H.264
        if isinstance(item, Frame):
            sent.setdefault(self.path, []).append(item.image.copy())
        return real_write(self, item)

    monkeypatch.setattr(encode.FileEncoder, "write", spy)
    results = {}
    for name, flags in (("default", []), ("off", ["--no-stabilize"])):
        code, stdout, err = run_cli("render", clip, "-o", tmp_path / f"{name}.mp4", "--json", *flags)
        assert code == 0, err
        results[name] = json.loads(stdout)
    assert results["default"]["stability"] == DEFAULT_STABILITY and results["off"]["stability"] == 0.0
    off, default = (next(v for k, v in sent.items() if f".{n}.mp4" in k.name) for n in ("off", "default"))
    engine = open_engine("cpu", "starry-night", throughput=True)  # as render runs it (one thread a frame)
    decoded = [f.image for f in FileDecoder(clip) if isinstance(f, Frame)]
    assert len(off) == len(decoded) == 20
    assert all(np.array_equal(o, engine.stylize_one(d)) for o, d in zip(off, decoded))  # bit for bit
    assert np.abs(default[-1].astype(int) - off[-1]).mean() > 1  # stabilization is on by default
    code, _, err = run_cli("render", clip, "-o", tmp_path / "x.mp4", "--stability", "2")
    assert code == 2 and "stability must be between 0 and 1" in err


def test_contrast_is_given_back_only_where_blending_took_it_and_at_most_ten_percent():
    from stream.temporal.stabilize import DETAIL_GAIN, restore_contrast

    stylized = open_engine("cpu", "starry-night").stylize_one(TestScene(W, H, seed=4).frame(1.0))
    assert np.array_equal(restore_contrast(stylized, stylized), stylized)  # nothing taken, nothing given
    coarse = cv2.GaussianBlur(stylized, (0, 0), 3).astype(np.float32)
    washed = np.clip(coarse + 0.6 * (stylized - coarse) + 0.5, 0, 255).astype(np.uint8)  # texture at 60%
    restored = restore_contrast(washed, stylized)

    def texture(image):
        return float(np.abs(image.astype(np.float32) - cv2.GaussianBlur(image, (0, 0), 3)).mean())

    gained = texture(restored) / texture(washed)
    assert 1.07 < gained <= DETAIL_GAIN + 0.02  # given back, up to the cap (rounding aside)
    assert np.abs(cv2.GaussianBlur(restored, (0, 0), 3).astype(int) - cv2.GaussianBlur(washed, (0, 0), 3)).mean() < 1
