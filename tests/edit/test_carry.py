"""The painting carried along the motion (issue #39), on a canvas panning under a painting whose
every frame's answer is known (tests/support/painted_canvas.py). The shot network's part is played by a
built-in style here (no training): where it shows, the frame is not the painting's."""
from __future__ import annotations

import numpy as np
import pytest
from support.painted_canvas import MovingCanvas, PaintedCanvas

from engines import open_engine
from stream.edit.carry import carry_shot

W, H, FRAMES, FPS, STEP = 256, 144, 60, 25, 4


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255 ** 2 / max(1e-9, np.mean((a.astype(float) - b) ** 2))))


@pytest.fixture(scope="module")
def canvas():
    return PaintedCanvas(W, H, FRAMES, FPS, STEP)


@pytest.fixture(scope="module")
def network():
    return open_engine("cpu", "mosaic").stylize_one


def seen_and_new(i: int, key: int) -> tuple[slice, slice]:
    """Frame i's columns the keyframe showed, and those that came into view since (the pan's)."""
    s = min(W, STEP * abs(i - key))
    return (slice(0, W - s), slice(W - s, W)) if i > key else (slice(s, W), slice(0, s))


def test_one_painting_is_carried_both_ways_where_the_keyframe_saw_the_picture(canvas, network):
    key = 30
    frames = [canvas.source(i) for i in range(FRAMES)]
    result = carry_shot(frames, {key: canvas.answer(key)}, network)
    assert np.array_equal(result.frames[key], canvas.answer(key))
    for i in (key - 25, key - 12, key + 12, key + 25):  # 0.5 and 1 s away, before and after
        seen, new = seen_and_new(i, key)
        answer = canvas.answer(i)
        assert psnr(result.frames[i][:, seen], answer[:, seen]) >= 28, i  # the strokes where they were
        fill = network(frames[i])  # where it came into view: the network's painting, not the carried one
        assert np.abs(result.frames[i][:, new][:, 8:].astype(int) - fill[:, new][:, 8:]).mean() < 25, i
    assert canvas.temporal_error(result.frames) <= 1.0
    seen_share = np.mean([W - min(W, STEP * abs(i - key)) for i in range(FRAMES)]) / W
    assert abs(result.carried - seen_share) < 0.1  # the share carried is the share the keyframe saw


def test_two_paintings_blend_into_each_other_without_a_jump(canvas, network):
    first, second = 10, 50
    other = PaintedCanvas(W, H, FRAMES, FPS, STEP, style="mosaic")  # the second painting is another look
    frames = [canvas.source(i) for i in range(FRAMES)]
    result = carry_shot(frames, {first: canvas.answer(first), second: other.answer(second)}, network)
    assert np.array_equal(result.frames[first], canvas.answer(first))
    assert np.array_equal(result.frames[second], other.answer(second))
    # next to each keyframe its own painting rules; in between, both
    near_first, near_second = result.frames[first + 3], result.frames[second - 3]
    assert psnr(near_first, canvas.answer(first + 3)) > psnr(near_first, other.answer(first + 3)) + 5
    assert psnr(near_second, other.answer(second - 3)) > psnr(near_second, canvas.answer(second - 3)) + 5
    # no frame changes more than the blend's own step: the largest change between frames (pan undone)
    # is within 3x the typical one over the blend, and arriving at the second keyframe is no jump
    s = STEP
    changes = [np.abs(b[:, :W - s].astype(int) - a[:, s:]).mean() for a, b in zip(result.frames, result.frames[1:])]
    between = changes[first:second]
    assert max(between) <= 3 * np.median(between) + 1.0
    assert changes[second - 1] <= 3 * np.median(between) + 1.0


def test_a_moving_object_over_a_still_background_uncovers_the_painting_behind_it(network):
    """A still canvas with a square sliding over it. Registered straight to the keyframe, the background
    the square crosses after the keyframe is found again and keeps its painting (the chain of flows
    lost it for good); behind the square's place at the keyframe, never seen, the network paints."""
    still = PaintedCanvas(W, H, FRAMES, FPS, step=0)
    background, painted = still.source(0), still.answer(0)
    square = np.full((40, 40, 3), (230, 40, 40), np.uint8)

    def with_square(image, x):
        out = image.copy()
        out[50:90, x:x + 40] = square
        return out

    frames = [with_square(background, 20 + 3 * i) for i in range(FRAMES)]
    key_painting = with_square(painted, 20)
    result = carry_shot(frames, {0: key_painting}, network)
    last = result.frames[FRAMES - 1]
    untouched = np.ones((H, W), bool)
    untouched[40:100, :] = False  # the square's rows
    assert psnr(last[untouched], painted[untouched]) >= 30  # the background keeps the painting
    crossed = (slice(52, 88), slice(66, 190))  # under the square since the keyframe, shown again
    assert psnr(last[crossed], painted[crossed]) >= 28  # the painting found again, not the square dragged on
    hidden = (slice(54, 86), slice(24, 56))  # under the square at the keyframe: never seen
    fill = network(frames[FRAMES - 1])
    assert np.abs(last[hidden].astype(int) - fill[hidden]).mean() < 25
    assert np.abs(last[hidden].astype(int) - square[0, 0]).mean() > 60  # not the keyframe's square


@pytest.mark.parametrize("motion", ["zoom", "rotate"])
def test_under_a_zoom_or_a_turn_the_strokes_do_not_drift(motion, network):
    """Composed frame to frame, the flows' error adds up the same way under a zoom or a turn (1.5 px
    after a second at 640x360); registering against the keyframe's own frame holds the painting in place."""
    key = 25
    canvas = MovingCanvas(W, H, 50, motion, FPS)
    frames = [canvas.source(i) for i in range(50)]
    result = carry_shot(frames, {key: canvas.answer(key)}, network)
    for i in (1, 12, 37, 49):  # 1 s, 0.5 s away, either way
        seen = canvas.seen(i, key)
        seen[:8], seen[-8:], seen[:, :8], seen[:, -8:] = False, False, False, False  # the frame's edge
        assert psnr(result.frames[i][seen], canvas.answer(i)[seen]) >= 28, i  # without: 23-25 dB at 1 s
    # as steady as the answers themselves (undoing a turn or a zoom resamples the frame before)
    assert canvas.temporal_error(result.frames) <= canvas.temporal_error([canvas.answer(i) for i in range(50)]) + 0.5


def test_a_textured_object_moving_on_its_own_keeps_its_strokes(network):
    """A textured disc crossing a still canvas, 3 px a frame, 1.5 s either way of the keyframe: the
    disc gets a motion model of its own, fitted straight to the keyframe, so its strokes land where
    they belong (15-20 dB on the disc before, followed by the chain of flows alone; 22-29 now), and
    its edge is judged pixel by pixel (neither the disc's model nor the canvas's explains the band
    a blurred mismatch mixes)."""
    key = 10
    canvas = MovingCanvas(W, H, 50, "object", FPS)
    frames = [canvas.source(i) for i in range(50)]
    result = carry_shot(frames, {key: canvas.answer(key)}, network)
    for i in (0, 22, 34, 47):  # 0.4 s before the keyframe, 0.5, 1 and 1.5 s after
        disc, seen = canvas.object_mask(i), canvas.seen(i, key)
        assert psnr(result.frames[i][disc], canvas.answer(i)[disc]) >= 21, i  # before: 15-20
        assert psnr(result.frames[i][seen], canvas.answer(i)[seen]) >= 30.5, i  # before: 26-30
    assert canvas.temporal_error(result.frames) <= 0.65  # the still canvas beside it stays still (0.77 before)
