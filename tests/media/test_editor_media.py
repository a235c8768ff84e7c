"""A film crew's round trip: numbered frames and mezzanine files in and out, timecode, colour and
time ranges kept, every item checked through a real demux of what was written."""
from __future__ import annotations

import json
import os
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from av.video.reformatter import Interpolation
from conftest import H, W, one_error_line, run_cli, video_frames

from stream.media.testsrc import (
    TestScene,
    scene_alpha,
    write_test_clip,
    write_test_sequence,
)

PRECISE = Interpolation.BICUBIC | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT


def render(*args) -> dict:
    code, out, err = run_cli("render", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def stream_facts(path: Path) -> dict:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        cc = v.codec_context
        return {"codec": cc.name, "profile": cc.profile, "pix_fmt": cc.pix_fmt, "tag": v.codec_tag,
                "rate": v.average_rate, "frames": sum(1 for _ in c.decode(v)),
                "timecode": v.metadata.get("timecode") or c.metadata.get("timecode"),
                "colour": (cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc)}


def yuv420(path: Path) -> list[list[np.ndarray]]:
    """Every frame's Y, U and V planes at 8-bit 4:2:0 (converted with the frame's own tags)."""
    planes = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            g = f if f.format.name == "yuv420p" else f.reformat(format="yuv420p", interpolation=PRECISE)
            planes.append([np.frombuffer(p, np.uint8).reshape(p.height, -1)[:, :p.width].astype(float)
                           for p in g.planes])
    return planes


def psnr_yuv(a, b) -> float:
    """PSNR over all three planes, as FFmpeg's psnr filter reports "average"."""
    se = sum(float(np.sum((x - y) ** 2)) for fa, fb in zip(a, b) for x, y in zip(fa, fb))
    n = sum(x.size for fa in a for x in fa)
    return 10 * np.log10(255 ** 2 / (se / n))


def rgb_frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24", interpolation=PRECISE) for f in c.decode(video=0)]).astype(float)


# --- image sequences in and out ---------------------------------------------------------------

@pytest.mark.quick
def test_png_sequence_to_prores_hq_at_fps_with_timecode_from_first_number(tmp_path):
    write_test_sequence(tmp_path / "shot", range(101, 131))
    result = render(tmp_path / "shot" / "a_%04d.png", "-o", tmp_path / "out.mov", "--codec", "prores", "--fps", "25")
    facts = stream_facts(tmp_path / "out.mov")
    assert facts["frames"] == result["frames"] == 30
    assert (facts["codec"], facts["profile"], facts["pix_fmt"], facts["tag"]) == ("prores", "HQ", "yuv422p10le", "apch")
    assert facts["rate"] == 25
    assert facts["timecode"] == "00:00:04:01"  # frame 101 at 25 frames/s
    assert facts["colour"] == (1, 1, 1, 1)     # RGB pictures become BT.709 limited-range video, tagged
    with av.open(str(tmp_path / "out.mov")) as c:
        header = bytes(next(c.demux(video=0)))
    assert header[4:8] == b"icpf" and header[12:16] == b"apl0"  # the vendor editing programs expect


def test_sequence_out_keeps_the_input_numbers_and_stylizes(tmp_path):
    pictures = write_test_sequence(tmp_path / "shot", range(101, 121))
    result = render(tmp_path / "shot" / "a_%04d.png", "-o", tmp_path / "out" / "%04d.png")
    names = sorted(os.listdir(tmp_path / "out"))
    assert names == [f"{n:04d}.png" for n in range(101, 121)]
    assert (result["first_frame"], result["last_frame"]) == (101, 120)
    _, first = video_frames(tmp_path / "out" / "0101.png")
    assert np.abs(first[0].astype(float) - pictures[0]).mean() > 20  # stylized, not copied
    assert not [p for p in tmp_path.iterdir() if "stylecast" in p.name]  # no partial folder left


def test_folder_is_read_in_number_order_and_a_video_numbers_from_zero_or_start_number(tmp_path, make_clip):
    pictures = write_test_sequence(tmp_path / "shot", [1, 2, 3, 9, 10, 11], name="f{}.png")  # text order: 1 10 11 2 3 9
    (tmp_path / "shot" / "f4.png").write_bytes((tmp_path / "shot" / "f3.png").read_bytes())
    for n in range(5, 9):
        (tmp_path / "shot" / f"f{n}.png").write_bytes((tmp_path / "shot" / "f9.png").read_bytes())
    render(tmp_path / "shot", "-o", tmp_path / "out" / "%d.png", "--strength", "0")
    out = {n: video_frames(tmp_path / "out" / f"{n}.png")[1][0].astype(float) for n in (1, 3, 9, 10, 11)}
    for n, picture in zip((1, 3, 9, 10, 11), (pictures[0], pictures[2], pictures[3], pictures[4], pictures[5])):
        assert np.abs(out[n] - picture).mean() < 1.0, n
    clip = make_clip("clip.mp4", seconds=0.4)
    render(clip, "-o", tmp_path / "v" / "%04d.png")
    assert sorted(os.listdir(tmp_path / "v")) == [f"{n:04d}.png" for n in range(10)]
    render(clip, "-o", tmp_path / "w" / "%04d.tif", "--start-number", "86400")
    assert sorted(os.listdir(tmp_path / "w")) == [f"{n:04d}.tif" for n in range(86400, 86410)]


def test_a_gap_is_an_error_naming_the_missing_frame_unless_ignore_errors(tmp_path):
    write_test_sequence(tmp_path / "shot", [*range(1, 5), *range(6, 11)])
    code, out, err = run_cli("render", tmp_path / "shot" / "a_%04d.png", "-o", tmp_path / "out.mp4")
    assert code == 2 and out == ""
    assert "frame 5 (a_0005.png) is missing" in one_error_line(err)
    assert not (tmp_path / "out.mp4").exists()
    result = render(tmp_path / "shot" / "a_%04d.png", "-o", tmp_path / "out" / "%04d.png", "--ignore-errors")
    assert result["frames"] == 9 and result["lost_frames"] == 1
    assert "0005.png" not in os.listdir(tmp_path / "out") and "0006.png" in os.listdir(tmp_path / "out")


@pytest.mark.parametrize("name, deep", [("a_{:04d}.png", True), ("a_{:04d}.tif", False), ("a_{:04d}.tif", True),
                                        ("a_{:04d}.jpg", False)])
@pytest.mark.quick
def test_sixteen_bit_png_tiff_and_jpeg_are_read_in_their_true_colours(tmp_path, name, deep):
    pictures = write_test_sequence(tmp_path / "shot", range(1, 4), name=name, deep=deep)
    pattern = tmp_path / "shot" / name.replace("{:04d}", "%04d")
    render(pattern, "-o", tmp_path / "out" / "%04d.png", "--strength", "0")
    _, out = video_frames(tmp_path / "out" / "0001.png")
    tolerance = 3.0 if name.endswith(".jpg") else 0.01
    assert np.abs(out[0].astype(float) - pictures[0]).mean() < tolerance


def test_a_damaged_picture_leaves_no_half_sequence_and_stale_folders_are_cleared(tmp_path):
    write_test_sequence(tmp_path / "shot", range(1, 13))
    (tmp_path / "shot" / "a_0009.png").write_bytes(b"\x89PNG\r\n\x1a\n not a picture")
    stale = tmp_path / ".out.999999.stylecast-partial"   # a killed run's (no such process)
    stale.mkdir()
    (stale / "0001.png").write_bytes(b"half")
    code, _, err = run_cli("render", tmp_path / "shot" / "a_%04d.png", "-o", tmp_path / "out" / "%04d.png")
    assert code == 2 and "a_0009.png" in one_error_line(err)
    assert not (tmp_path / "out").exists()
    assert not [p.name for p in tmp_path.iterdir() if "stylecast" in p.name]


def test_overwrite_replaces_a_sequence_as_a_whole_and_never_a_folder_of_other_files(tmp_path, make_clip):
    clip = make_clip("clip.mp4", seconds=0.2)
    (tmp_path / "out").mkdir()
    for n in range(20):
        (tmp_path / "out" / f"{n:04d}.png").write_bytes(b"old")
    code, _, err = run_cli("render", clip, "-o", tmp_path / "out" / "%04d.png")
    assert code == 2 and "--overwrite" in one_error_line(err)
    render(clip, "-o", tmp_path / "out" / "%04d.png", "--overwrite")
    assert sorted(os.listdir(tmp_path / "out")) == [f"{n:04d}.png" for n in range(5)]  # the old 20 are gone
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, _, err = run_cli("render", clip, "-o", tmp_path / "mine" / "%04d.png", "--overwrite")
    assert code == 2 and "holds other files" in one_error_line(err)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_a_replaced_folder_whose_run_died_is_put_back(tmp_path, make_clip):
    old = tmp_path / ".out.999999.stylecast-old"  # renamed away, then the run was killed
    old.mkdir()
    (old / "0000.png").write_bytes(b"the editor's frame")
    render(make_clip("clip.mp4", seconds=0.2), "-o", tmp_path / "other" / "%04d.png")
    assert (tmp_path / "out" / "0000.png").read_bytes() == b"the editor's frame"


# --- mezzanine codecs, alpha ------------------------------------------------------------------

def test_prores_4444_keeps_the_alpha_channel_exactly(tmp_path):
    write_test_sequence(tmp_path / "shot", range(1, 6), alpha=True)
    render(tmp_path / "shot" / "a_%04d.png", "-o", tmp_path / "out.mov", "--codec", "prores4444")
    assert stream_facts(tmp_path / "out.mov")["profile"] == "4444"
    with av.open(str(tmp_path / "out.mov")) as c:
        alphas = [np.round(f.to_ndarray(format="rgba64le")[..., 3] / 257) for f in c.decode(video=0)]
    assert len(alphas) == 5
    for number, alpha in enumerate(alphas, start=1):
        assert np.array_equal(alpha, scene_alpha(W, H, number))


@pytest.mark.quick
def test_dnxhr_hqx_in_mov_and_mxf_with_timecode(tmp_path):
    clip = tmp_path / "clip.mov"
    write_test_clip(clip, seconds=0.4, width=256, height=144, audio=False, timecode="10:00:00:00")
    for suffix in (".mov", ".mxf"):
        render(clip, "-o", tmp_path / f"out{suffix}", "--codec", "dnxhr")
        facts = stream_facts(tmp_path / f"out{suffix}")
        assert (facts["codec"], facts["profile"], facts["pix_fmt"]) == ("dnxhd", "DNXHR HQX", "yuv422p10le")
        assert facts["frames"] == 10 and facts["timecode"] == "10:00:00:00"


# --- colour -----------------------------------------------------------------------------------

@pytest.mark.parametrize("codec, suffix, floor", [("prores", ".mov", 45.0), ("h264", ".mp4", 40.0)])
def test_strength_0_round_trip_of_bt709_limited_video_keeps_levels_and_colours(tmp_path, codec, suffix, floor):
    clip = tmp_path / "bt709.mov"
    write_test_clip(clip, seconds=0.6, width=320, height=180, bt709=True)
    out = tmp_path / f"out{suffix}"
    render(clip, "-o", out, "--codec", codec, "--strength", "0")
    assert stream_facts(out)["colour"] == (1, 1, 1, 1)
    assert psnr_yuv(yuv420(clip), yuv420(out)) >= floor
    shift = (rgb_frames(out) - rgb_frames(clip)).mean(axis=(0, 1, 2))
    assert np.all(np.abs(shift) < 0.5), shift


def test_the_network_sees_the_colours_the_camera_recorded(tmp_path):
    """Converted with the source's own matrix (BT.709 here), not only tagged: the pictures given
    to the style are the scene's own RGB; FFmpeg's default (BT.601) would shift them by several codes."""
    clip = tmp_path / "bt709.mov"
    write_test_clip(clip, seconds=0.2, width=320, height=180, bt709=True)
    render(clip, "-o", tmp_path / "out" / "%04d.png", "--strength", "0")
    _, out = video_frames(tmp_path / "out" / "0000.png")
    truth = TestScene(320, 180).frame(0.0)

    def blurred(image):  # colours, not the grain that 4:2:0 cannot hold
        return cv2.GaussianBlur(image.astype(np.float32), (0, 0), 3)

    assert np.abs(blurred(out[0]) - blurred(truth)).mean() < 1.5
    with av.open(str(clip)) as c:
        as_601 = next(c.decode(video=0)).to_ndarray(format="rgb24", src_colorspace="itu601")
    assert np.abs(blurred(as_601) - blurred(truth)).mean() > 2.5


def test_full_range_video_stays_full_range(tmp_path):
    """Full range is converted as full range and tagged so. swscale's RGB -> full-range Y'CbCr
    rounds chroma down (about 0.8 code values after the round trip, docs/benchmarks/editing.md); a range
    mix-up would shift levels by 8 to 16."""
    clip = tmp_path / "full.mp4"
    write_test_clip(clip, seconds=0.4, width=320, height=180, full_range=True)
    render(clip, "-o", tmp_path / "out.mp4", "--strength", "0")
    assert stream_facts(tmp_path / "out.mp4")["colour"][1] == 2  # JPEG (full) range
    assert psnr_yuv(yuv420(clip), yuv420(tmp_path / "out.mp4")) >= 40
    shift = (rgb_frames(tmp_path / "out.mp4") - rgb_frames(clip)).mean(axis=(0, 1, 2))
    assert np.all(np.abs(shift) < 1.0), shift


# --- timecode and time ranges -----------------------------------------------------------------

@pytest.fixture(scope="module")
def timecoded(tmp_path_factory) -> Path:
    clip = tmp_path_factory.mktemp("tc") / "tc.mov"
    write_test_clip(clip, seconds=6, width=W, height=H, timecode="01:00:10:00")
    return clip


def sound_seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        return sum(f.samples for f in c.decode(audio=0)) / c.streams.audio[0].rate


def test_start_timecode_is_carried_to_mov(timecoded, tmp_path):
    result = render(timecoded, "-o", tmp_path / "out.mov", "--codec", "prores")
    assert stream_facts(tmp_path / "out.mov")["timecode"] == result["timecode"] == "01:00:10:00"


@pytest.mark.quick
@pytest.mark.parametrize("start, end", [("2", "4"), ("01:00:12:00", "01:00:14:00")])
def test_a_range_keeps_its_timecode_frames_and_sound(timecoded, tmp_path, start, end):
    render(timecoded, "-o", tmp_path / "part.mov", "--from", start, "--to", end)
    facts = stream_facts(tmp_path / "part.mov")
    assert facts["timecode"] == "01:00:12:00" and facts["frames"] == 50
    times, _ = video_frames(tmp_path / "part.mov")
    assert times[0] == 0.0 and abs(times[-1] - 49 / 25) < 1e-6
    assert abs(sound_seconds(tmp_path / "part.mov") - 2.0) < 0.05


def test_a_range_starts_as_it_looks_inside_the_whole_render(timecoded, tmp_path):
    render(timecoded, "-o", tmp_path / "whole.mkv", "--codec", "ffv1")
    render(timecoded, "-o", tmp_path / "part.mkv", "--codec", "ffv1", "--from", "2", "--to", "3")
    _, whole = video_frames(tmp_path / "whole.mkv")
    _, part = video_frames(tmp_path / "part.mkv")
    assert len(part) == 25
    assert np.abs(part[0].astype(float) - whole[50]).mean() < 1.5  # warmed up: a cold start differs by ~15


def test_a_range_of_a_sequence_keeps_its_frame_numbers(tmp_path):
    write_test_sequence(tmp_path / "shot", range(1001, 1049))
    result = render(tmp_path / "shot" / "a_%04d.png", "-o", tmp_path / "out" / "%04d.png", "--from", "1", "--to", "1.5")
    assert sorted(os.listdir(tmp_path / "out")) == [f"{n:04d}.png" for n in range(1025, 1037)]
    assert result["timecode"] == "00:00:42:17"  # frame 1025 at 24 frames/s


# --- bad input: one line, exit 2, nothing written ---------------------------------------------

@pytest.mark.parametrize("args, message", [
    (("--codec", "prores", "-o", "{tmp}/x.mp4"), "cannot be stored in .mp4"),
    (("--codec", "ffv1", "-o", "{tmp}/x.mov"), "cannot be stored in .mov"),
    (("--from", "10", "-o", "{tmp}/x.mp4"), "past the end of the source"),
    (("--to", "99", "-o", "{tmp}/x.mp4"), "past the end of the source"),
    (("--from", "4", "--to", "2", "-o", "{tmp}/x.mp4"), "must come before --to"),
    (("--from", "00:59:00:00", "-o", "{tmp}/x.mp4"), "before the source's first frame"),
    (("--from", "two", "-o", "{tmp}/x.mp4"), "seconds (12.5) or a timecode"),
    (("--timecode", "1:2", "-o", "{tmp}/x.mov"), "HH:MM:SS:FF"),
    (("--start-number", "5", "-o", "{tmp}/x.mp4"), "image sequence outputs"),
    (("--codec", "prores", "-o", "{tmp}/f/%04d.png"), "--codec applies to video files"),
    (("-o", "{tmp}/f/%04d.exr"), "must end in %04d.png or %04d.tif"),
])
@pytest.mark.quick
def test_bad_editor_options(timecoded, tmp_path, args, message):
    code, out, err = run_cli("render", timecoded, *[a.format(tmp=tmp_path) for a in args])
    assert code == 2 and out == ""
    assert message in one_error_line(err)
    assert not any(tmp_path.iterdir())


def test_a_pattern_that_matches_nothing_and_a_folder_of_two_sequences(tmp_path):
    code, _, err = run_cli("render", tmp_path / "none_%04d.png", "-o", tmp_path / "x.mp4")
    assert code == 2 and "no frames match" in one_error_line(err)
    write_test_sequence(tmp_path / "two", range(1, 3), name="a_{:04d}.png")
    write_test_sequence(tmp_path / "two", range(1, 3), name="b_{:04d}.png")
    code, _, err = run_cli("render", tmp_path / "two", "-o", tmp_path / "x.mp4")
    assert code == 2 and "more than one sequence" in one_error_line(err)
    assert not (tmp_path / "x.mp4").exists()
