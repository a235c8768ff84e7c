"""A user renders clips: every frame kept with its timestamp, sound copied bit for bit, style visible."""
import json

import numpy as np
import pytest
from conftest import H, W, one_error_line, packets, run_cli, video_frames

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


@pytest.mark.parametrize("src,dst,fragmented", [("in.mp4", "out.mp4", False), ("in.mkv", "out.mkv", False),
                                                ("in.mov", "out.mov", False), ("in.mp4", "out.mkv", False),
                                                ("in.mp4", "out.mp4", True), ("in.mov", "out.mov", True)])
def test_render_keeps_frames_timestamps_and_audio(make_clip, tmp_path, src, dst, fragmented):
    clip = make_clip(src, seconds=1.2)
    out = tmp_path / dst
    code, stdout, err = run_cli("render", clip, "-o", out, "--style", "mosaic", "--json",
                                *(["--fragmented"] if fragmented else []))
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["frames"] == 30 and summary["engine"] == "cpu" and summary["style"] == "mosaic"
    assert summary["output"] == str(out) and summary["fps"] > 0
    # a short film is written whole (one index at the end); fragments only when asked, or past 30 minutes
    assert summary["fragmented"] is fragmented and (b"moof" in out.read_bytes()) is fragmented

    src_times, src_images = video_frames(clip)
    out_times, out_images = video_frames(out)
    src_audio, out_audio = packets(clip, "audio"), packets(out, "audio")
    # a container that cannot start below 0 (MKV, with AAC's priming at -21 ms) moves every stream
    # by the same amount; the same container keeps the times as they were
    shift = out_audio[0][0] - src_audio[0][0]
    assert shift == 0 if src[-4:] == dst[-4:] else 0 <= shift < 0.03
    assert len(out_images) == len(src_images) == 30
    assert np.allclose(np.array(out_times) - shift, src_times, atol=1e-3)
    assert out_images[0].shape == (H, W, 3)
    # the style changes the picture a lot, not by compression noise
    diff = np.mean([np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(src_images, out_images)])
    assert diff > 25

    assert len(src_audio) > 20
    assert [p for _, p in out_audio] == [p for _, p in src_audio]
    assert np.allclose(np.array([t for t, _ in out_audio]) - shift, [t for t, _ in src_audio], atol=2e-3)
    assert not list(tmp_path.glob(".*stylecast-partial"))


def test_variable_frame_rate_survives(make_clip, tmp_path):
    times = [0.0, 0.04, 0.05, 0.2, 0.21, 0.5, 0.9, 0.933, 1.5]
    clip = make_clip("vfr.mkv", frame_times=times)
    for suffix in (".mkv", ".mp4"):
        out = tmp_path / f"out{suffix}"
        assert run_cli("render", clip, "-o", out)[0] == 0
        assert np.allclose(video_frames(out)[0], times, atol=1e-3)


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_is_respected(make_clip, tmp_path, rotation):
    clip = make_clip("rot.mp4", rotation=rotation, audio=False)
    out = tmp_path / "out.mp4"
    # strength 0 gives back the decoded picture, so orientation can be checked exactly
    assert run_cli("render", clip, "-o", out, "--strength", "0")[0] == 0
    _, images = video_frames(out)
    _, raw = video_frames(clip)  # PyAV does not rotate: these are the stored pixels
    k = round(rotation / 90)
    expected = np.rot90(raw[5], k)
    assert images[5].shape == expected.shape == ((W, H, 3) if rotation % 180 else (H, W, 3))
    right = np.abs(images[5].astype(int) - expected).mean()
    wrong = np.abs(images[5].astype(int) - np.rot90(raw[5], k + 2)).mean()
    assert right < 4 < wrong


def test_subtitles_and_metadata_are_copied(make_clip, tmp_path):
    clip = make_clip("sub.mkv", subtitles=True)
    out = tmp_path / "out.mkv"
    assert run_cli("render", clip, "-o", out)[0] == 0
    assert packets(out, "subtitle") == packets(clip, "subtitle") != []


def test_subtitles_the_container_cannot_hold_are_reported(make_clip, tmp_path):
    clip = make_clip("sub.mkv", subtitles=True)
    out = tmp_path / "out.mp4"
    code, _, err = run_cli("render", clip, "-o", out)
    assert code == 0 and "subtitle" in err and "not copied" in err
    assert packets(out, "audio") and not packets(out, "subtitle")


def test_a_stream_of_unknown_codec_is_left_out_and_said(make_clip, tmp_path):
    """A damaged header can leave a stream whose codec FFmpeg cannot tell (found by the 100-seed
    corruption run: it was a traceback). The picture renders; the stream is named as left out."""
    clip = make_clip("clip.mp4")
    clip.write_bytes(clip.read_bytes().replace(b"mp4a", b"zzzz").replace(b"esds", b"zzzz"))  # the sound's codec, gone
    out = tmp_path / "out.mp4"
    code, stdout, err = run_cli("render", clip, "-o", out, "--json")
    assert code == 0, err
    assert json.loads(stdout)["skipped_streams"] == ["audio #1 (its codec is unknown: a damaged header?)"]
    assert "audio #1 (its codec is unknown: a damaged header?) was not copied" in err
    assert len(video_frames(out)[1]) == len(video_frames(clip)[1]) > 0 and packets(out, "audio") == []


def test_max_side_scales_and_keeps_even_sizes(make_clip, tmp_path):
    clip = make_clip("in.mp4")
    out = tmp_path / "small.mp4"
    assert run_cli("render", clip, "-o", out, "--max-side", "101")[0] == 0
    _, images = video_frames(out)
    h, w = images[0].shape[:2]
    assert w == 100 and h == 56 and len(images) == 25  # at most 101, even, aspect kept


def test_existing_output_is_refused_then_replaced_with_overwrite(make_clip, tmp_path):
    clip = make_clip("in.mp4")
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    code, _, err = run_cli("render", clip, "-o", out)
    assert code == 2 and "--overwrite" in one_error_line(err)
    assert out.read_bytes() == b"precious"
    assert run_cli("render", clip, "-o", out, "--overwrite")[0] == 0
    assert len(video_frames(out)[1]) == 25


def test_default_output_name_never_overwrites(make_clip):
    clip = make_clip("trip.mp4")
    for expected in ("trip-charcoal.mp4", "trip-charcoal-1.mp4"):
        code, out, err = run_cli("render", clip, "--style", "2")
        assert code == 0, err
        assert (clip.parent / expected).is_file() and expected in out


def test_render_with_no_arguments_makes_the_demo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("render", "--max-side", "160", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["frames"] == 125 and result["output"].endswith("stylecast-demo-starry-night.mp4")
    times, images = video_frames(tmp_path / "stylecast-demo-starry-night.mp4")
    assert len(times) == 125 and images[0].shape == (90, 160, 3)
    assert len(packets(tmp_path / "stylecast-demo-starry-night.mp4", "audio")) > 200
