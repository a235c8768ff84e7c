"""Painted keyframes (issue #30): an artist paints one frame of a shot and the shot follows it.

The shot is a textured canvas panning under a painting (tests/support/painted_canvas.py): every frame's
right answer is known. A second shot (the test scene, after a cut) keeps the command line's look.
The networks train for a few steps here (tens of seconds on two cores without bf16): the painting
is carried where the keyframe saw the picture, and where the pan brought new canvas in, the
network trained this long already paints it nearer the painting than the source is (0.75-0.9 of
the source's error at 30 to 160 steps, measured; an untrained network is the source, 1.0).
bench/keyframe.py measures the full training against the issue's targets."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from conftest import one_error_line, run_cli, video_frames
from PIL import Image
from support.painted_canvas import PaintedCanvas
from support.temporal_metrics import ssim_quarter

from stream.media.testsrc import write_test_clip
from stream.render.job import RenderOptions, render

W, H, FPS = 192, 108, 25
SHOT = 50      # frames of the painted shot; the test scene follows from frame 50
KEY = 25       # the painted frame
STEPS = "30"   # training steps: enough to paint new canvas nearer the painting (22 s without bf16; cached after)
HAS_TORCH = importlib.util.find_spec("torch") is not None
trains = pytest.mark.skipif(not HAS_TORCH, reason="training a painted shot's network needs torch")


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("painted")
    canvas = PaintedCanvas(W, H, SHOT, FPS)
    clip = folder / "two-shots.mp4"
    # seed 5: the second shot's texture differs enough for the cut to be found (with the default seed's
    # the two textures are alike enough that the cut finder misses it)
    write_test_clip(clip, seconds=4.0, width=W, height=H, fps=FPS, cuts=(SHOT / FPS,), scene=canvas, seed=5)
    Image.fromarray(canvas.answer(KEY)).save(folder / "painted.png")
    return canvas, clip, folder


def _render(scene, tmp_path, *extra, name="out.mp4"):
    canvas, clip, folder = scene
    out = tmp_path / name
    code, stdout, err = run_cli("render", clip, "-o", out, "--style", "mosaic", "--keyframe-steps", STEPS,
                                "--json", *extra)
    assert code == 0, err
    return json.loads(stdout), video_frames(out)[1]


def _error_line(err: str) -> str:
    """The one error line (a note of the shots found may come before it)."""
    return one_error_line("\n".join(line for line in err.splitlines() if "note:" not in line))


def _mae(a, b) -> float:
    return float(np.abs(a.astype(np.int16) - b).mean())


def _new(i: int) -> slice:
    """Frame i's columns that came into view since the keyframe (the canvas pans 4 px a frame)."""
    s = min(W, 4 * abs(i - KEY))
    return slice(0, s) if i < KEY else slice(W - s, W)


@trains
def test_a_painted_frame_gives_its_shot_the_painting_and_the_next_shot_keeps_its_style(scene, tmp_path):
    canvas, clip, folder = scene
    summary, frames = _render(scene, tmp_path, "--keyframe", f"{KEY}={folder / 'painted.png'}")
    assert len(frames) == 2 * SHOT
    [row] = summary["painted"]
    assert row["keyframes"] == [KEY] and row["span"] == "shot 1" and row["steps"] == int(STEPS)
    assert row["cached"] is False and 0 < row["loss"] < 2
    sources = video_frames(clip)[1]
    # at the keyframe and a second away (new canvas has come in), nearer the painting than the source is
    for i, share in ((KEY, 0.55), (0, 0.75), (SHOT - 1, 0.75)):
        assert _mae(frames[i], canvas.answer(i)) < share * _mae(sources[i], canvas.answer(i)), i
        assert ssim_quarter(frames[i], canvas.answer(i)) > ssim_quarter(sources[i], canvas.answer(i)) + 0.1, i
    for i in (5, SHOT - 6):  # where the keyframe never saw the canvas: the trained network's own painting
        new, answer = _new(i), canvas.answer(i)
        assert _mae(frames[i][:, new], answer[:, new]) < 0.95 * _mae(sources[i][:, new], answer[:, new]), i
    # the second shot is rendered in the command line's style, as a render without the painting has it
    # (to the encoder's rounding: x264 spends its bits differently after another first shot)
    _, plain = video_frames(_plain_render(clip, tmp_path))
    for i in (SHOT + 5, 2 * SHOT - 1):
        assert _mae(frames[i], plain[i]) < 8.0, i
        assert _mae(frames[i], sources[i]) > 20, i


def _plain_render(clip, tmp_path):
    out = tmp_path / "plain.mp4"
    code, _, err = run_cli("render", clip, "-o", out, "--style", "mosaic")
    assert code == 0, err
    return out


@trains
def test_the_same_painting_trains_once_and_a_looks_file_entry_takes_it_too(scene, tmp_path):
    canvas, clip, folder = scene
    first, frames = _render(scene, tmp_path, "--keyframe", f"{KEY}={folder / 'painted.png'}")
    looks = folder / "looks.json"
    looks.write_text(json.dumps([{"shot": 1, "keyframe": {"frame": KEY, "image": "painted.png"}}]))
    again, same = _render(scene, tmp_path, "--looks", looks, name="again.mp4")
    assert again["painted"][0]["cached"] is True and again["painted"][0]["seconds"] == 0
    assert again["looks"] == 1 and again["shots"] == 2
    # the cached network, frame for frame: equal on the AVX2 EPYC; on an AVX-512 one two renders of the
    # same clip differ a little run to run (the painted shot at 45 dB or more, the rest at 34 or more,
    # where the shot without its painting scores 12.5), so the painted shot is held to 40 dB
    psnr = [10 * np.log10(255 ** 2 / max(1e-9, np.mean((a.astype(float) - b) ** 2))) for a, b in zip(frames, same)]
    assert min(psnr[:SHOT]) > 40 and min(psnr[SHOT:]) > 28, psnr


@trains
def test_two_paintings_in_a_shot_train_one_network_and_training_reports_its_loss(scene, tmp_path):
    canvas, clip, folder = scene
    for i in (10, 40):
        Image.fromarray(canvas.answer(i)).save(tmp_path / f"p{i}.png")
    heard = []

    def progress(total, label="render"):
        heard.append((label, total, []))
        return lambda n=1, info=None: heard[-1][2].append(info)

    result = render(RenderOptions(input=clip, output=tmp_path / "two.mp4", style="mosaic", keyframe_steps=20,
                                  keyframes=[f"10={tmp_path / 'p10.png'}", f"40={tmp_path / 'p40.png'}"]), progress)
    [row] = result.painted
    assert row["keyframes"] == [10, 40] and result.looks == 1
    training = [h for h in heard if h[0] == "painting shot 1"]
    assert len(training) == 1 and training[0][1] == 100  # in percent of its budget (here 20 steps)
    steps = [int(info.split()[1].rstrip(",")) for info in training[0][2]]  # "step 3, loss 0.412"
    losses = [float(info.split()[3]) for info in training[0][2]]
    assert steps == list(range(1, 21)) and losses[-1] < losses[0], losses  # a report every step (a page shows it), falling
    _, frames = video_frames(tmp_path / "two.mp4")
    sources = video_frames(clip)[1]
    for i in (10, 40):
        assert _mae(frames[i], canvas.answer(i)) < 0.9 * _mae(sources[i], canvas.answer(i)), i


@pytest.mark.quick
@pytest.mark.parametrize("case", ["missing", "shape", "past-the-end", "syntax", "not-a-picture"])
def test_a_bad_keyframe_is_one_clear_line_and_no_output(scene, tmp_path, case):
    canvas, clip, folder = scene
    painting = folder / "painted.png"
    if case == "shape":
        painting = tmp_path / "square.png"
        Image.new("RGB", (100, 100)).save(painting)
    if case == "not-a-picture":
        painting = tmp_path / "notes.png"
        painting.write_text("not a picture")
    spec = {"missing": f"{KEY}={tmp_path / 'nowhere.png'}", "shape": f"{KEY}={painting}",
            "past-the-end": f"500={painting}", "syntax": str(painting), "not-a-picture": f"{KEY}={painting}"}[case]
    out = tmp_path / "out.mp4"
    code, _, err = run_cli("render", clip, "-o", out, "--keyframe", spec)
    line = _error_line(err)
    assert code == 2 and not out.exists()
    assert {"missing": "not found", "shape": "paint the frame at 192x108", "past-the-end": "past the clip's last frame",
            "syntax": "FRAME=PAINTED.png", "not-a-picture": "cannot read"}[case] in line, line


@pytest.mark.parametrize("entry, words", [
    ({"shot": 1, "style": "mosaic", "keyframe": {"frame": KEY, "image": "painted.png"}}, "not both"),
    ({"shot": 2, "keyframe": {"frame": KEY, "image": "painted.png"}}, "outside shot 2"),
    ({"shot": 1, "keyframe": {"frame": KEY}}, '{"frame": 120, "image": "painted.png"}'),
    ({"shot": 1, "keyframe": {"frame": KEY, "image": "painted.png", "brush": 3}}, "unknown field 'brush'"),
    ({"shot": 1, "keyframe": {"frame": -3, "image": "painted.png"}}, "frame number"),
])
def test_a_bad_keyframe_in_a_looks_file_names_its_entry(scene, tmp_path, entry, words):
    canvas, clip, folder = scene
    looks = folder / f"bad-{abs(hash(json.dumps(entry)))}.json"
    looks.write_text(json.dumps([entry]))
    code, _, err = run_cli("render", clip, "-o", tmp_path / "out.mp4", "--looks", looks)
    line = _error_line(err)
    assert code == 2 and words in line and "entry 1" in line, line
    assert not (tmp_path / "out.mp4").exists()


@trains
def test_a_painted_shot_renders_in_chunks_as_on_one_machine(scene, tmp_path):
    """--cluster here: the driver trains the painted shot once, into the chunk folder every node
    reads; each chunk finds it there and carries the painting over the whole shot, so the chunks
    join without a seam and match the render on one machine."""
    canvas, clip, folder = scene
    args = ["--keyframe", f"{KEY}={folder / 'painted.png'}", "--keyframe-steps", "10", "--style", "mosaic", "--json"]
    code, stdout, err = run_cli("render", clip, "-o", tmp_path / "one.mp4", *args)
    assert code == 0, err
    code, chunked, err = run_cli("render", clip, "-o", tmp_path / "chunks.mp4", "--cluster", "here",
                                 "--chunk-seconds", "1", *args)
    assert code == 0, err
    summary = json.loads(chunked)
    assert summary["chunks"] >= 3 and summary["painted"][0]["keyframes"] == [KEY]
    # the render on one machine trained it: the driver finds it in the cache and puts it in the
    # chunk folder every node reads, rather than training it again
    assert json.loads(stdout)["painted"][0]["cached"] is False and summary["painted"][0]["cached"] is True
    one, many = video_frames(tmp_path / "one.mp4")[1], video_frames(tmp_path / "chunks.mp4")[1]
    assert len(one) == len(many) == 2 * SHOT
    for i in (0, KEY - 1, KEY, 30, SHOT - 1):  # across chunk boundaries inside the painted shot (to the
        assert _mae(one[i], many[i]) < 6.0, i  # encoder's rounding: x264 ends and starts each chunk anew)
    assert _mae(many[KEY], canvas.answer(KEY)) < 0.5 * _mae(video_frames(clip)[1][KEY], canvas.answer(KEY))


@pytest.mark.quick
@pytest.mark.skipif(HAS_TORCH, reason="what a user without torch meets")
def test_without_torch_a_painted_keyframe_is_one_line_that_says_what_to_install(scene, tmp_path):
    canvas, clip, folder = scene
    out = tmp_path / "out.mp4"
    code, _, err = run_cli("render", clip, "-o", out, "--keyframe", f"{KEY}={folder / 'painted.png'}")
    assert code == 2 and "torch, which is not installed (pip install torch" in _error_line(err)
    assert not out.exists()
