"""Bad input anywhere: one clear line on stderr, exit code 2, no traceback, nothing left behind."""
import json
import subprocess
import sys

import pytest
from conftest import one_error_line, run_cli, video_frames

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


def _no_output_left(folder):
    return [p.name for p in folder.iterdir() if p.suffix in (".mp4", ".mkv", ".mov") and p.name.startswith("out")
            or "stylecast-partial" in p.name]


@pytest.mark.parametrize("args,message", [
    (["render", "missing.mp4"], "input not found"),
    (["render", "notes.txt"], "not a video file"),
    (["render", "clip.mp4", "--style", "vangogh"], "unknown style"),
    (["render", "clip.mp4", "--style", "nothere.png"], "not found"),
    (["render", "clip.mp4", "--strength", "1.5"], "strength must be between 0 and 1"),
    (["render", "clip.mp4", "--max-side", "8"], "--max-side must be between"),
    (["render", "clip.mp4", "--crf", "60"], "--crf must be between 0 and 51"),
    (["render", "clip.mp4", "--preset", "warp"], "--preset must be one of"),
    (["render", "clip.mp4", "--engine", "cuda"], "engine 'cuda' is not available here"),
    (["render", "clip.mp4", "--engine", "tensorrt"], "engine 'tensorrt' is not available here"),
    (["render", "clip.mp4", "--strength", "lots"], "invalid float value"),
    (["render", "clip.mp4", "--keyframe-seconds", "0"], "--keyframe-seconds must be between 1 and 86400"),
    (["render", "clip.mp4", "--keyframe-steps", "0"], "--keyframe-steps must be between 1 and 100000"),
])
def test_bad_input_is_one_line_and_exit_2(make_clip, tmp_path, args, message):
    make_clip("clip.mp4")
    (tmp_path / "notes.txt").write_text("hello")
    argv = [tmp_path / a if a.endswith((".mp4", ".txt", ".png")) else a for a in args]
    code, out, err = run_cli(*argv, "-o", tmp_path / "out.mp4")
    assert code == 2
    assert message in one_error_line(err)
    assert _no_output_left(tmp_path) == []


@pytest.mark.parametrize("output,message", [("nofolder/out.mp4", "output folder does not exist"),
                                            ("out.avi", "must end in .mp4, .mkv, .mov or .mxf"),
                                            ("clip.mp4", "would replace the input")])
def test_bad_outputs(make_clip, tmp_path, output, message):
    clip = make_clip("clip.mp4")
    before = clip.read_bytes()
    code, _, err = run_cli("render", clip, "-o", tmp_path / output, "--overwrite")
    assert code == 2 and message in one_error_line(err)
    assert clip.read_bytes() == before


def test_a_video_stream_of_unknown_codec_is_one_line(make_clip, tmp_path):
    """Found by the 100-seed corruption run: a damaged header hid the video codec, and that was a traceback."""
    clip = make_clip("clip.mp4")
    clip.write_bytes(clip.read_bytes().replace(b"avc1", b"zzzz").replace(b"avcC", b"zzzz"))
    code, _, err = run_cli("render", clip, "-o", tmp_path / "out.mp4")
    assert code == 2 and "clip.mp4 is damaged: the codec of its video stream cannot be told" in one_error_line(err)
    assert _no_output_left(tmp_path) == []


def test_fragments_are_for_mp4_and_mov_only(make_clip, tmp_path):
    code, _, err = run_cli("render", make_clip(), "-o", tmp_path / "out.mkv", "--fragmented")
    assert code == 2 and "--fragmented applies to .mp4 and .mov outputs, not .mkv" in one_error_line(err)
    assert _no_output_left(tmp_path) == []


def test_unwritable_folder(make_clip, tmp_path):
    if hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0:
        locked = tmp_path / "ro"
        locked.mkdir()
        # root ignores permissions; a file where a folder should be fails for everyone
        target = tmp_path / "file-not-folder" / "out.mp4"
        (tmp_path / "file-not-folder").write_text("x")
    else:
        locked = tmp_path / "ro"
        locked.mkdir(mode=0o500)
        target = locked / "out.mp4"
    code, _, err = run_cli("render", make_clip(), "-o", target)
    assert code == 2 and ("cannot write" in err or "does not exist" in err)


def _truncate(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def test_truncated_file_names_where_it_broke_and_leaves_nothing(make_clip, tmp_path):
    clip = make_clip("cut.mkv", seconds=2)
    _truncate(clip, 0.6)
    out = tmp_path / "out.mp4"
    code, _, err = run_cli("render", clip, "-o", out)
    line = one_error_line(err)
    assert code == 2 and "damaged" in line and "00:00:01" in line and "frame" in line
    assert not out.exists() and _no_output_left(tmp_path) == []

    code, stdout, err = run_cli("render", clip, "-o", out, "--ignore-errors", "--json")
    result = json.loads(stdout)
    assert code == 0 and out.exists()
    assert 0 < result["frames"] < 50 and result["lost_frames"] > 0
    assert result["frames"] + result["lost_frames"] >= 45


def test_truncated_mp4_without_index_is_not_a_video(make_clip, tmp_path):
    clip = make_clip("cut.mp4", seconds=2)
    _truncate(clip, 0.5)
    code, _, err = run_cli("render", clip, "-o", tmp_path / "out.mp4")
    assert code == 2 and "cut.mp4 is not a video file or is damaged" in one_error_line(err)


@pytest.mark.parametrize("name", ["burst.mkv", "burst.mp4"])
def test_damaged_bytes_in_the_middle(make_clip, tmp_path, name):
    clip = make_clip(name, seconds=2)
    data = bytearray(clip.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4000] = bytes(range(256)) * 15 + bytes(160)
    clip.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    code, _, err = run_cli("render", clip, "-o", out)
    line = one_error_line(err)
    assert code == 2 and "is damaged" in line and "00:00:0" in line and not out.exists()

    code, stdout, err = run_cli("render", clip, "-o", out, "--ignore-errors", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["lost_frames"] > 0 and result["frames"] > 10
    assert result["frames"] + result["lost_frames"] >= 48  # every frame is rendered or counted as lost
    assert len(video_frames(out)[1]) == result["frames"]


def test_usage_errors_are_one_line_too():
    code, _, err = run_cli("render", "--no-such-flag")
    assert code == 2 and "unrecognized arguments" in one_error_line(err)


def test_installed_command_exits_2_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "stream.cli", "render", str(tmp_path / "nope.mp4")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"stylecast: error: input not found: {tmp_path / 'nope.mp4'}"


@pytest.mark.parametrize("args, message", [
    (["build-engine"], "engine 'tensorrt' is not available here"),
    (["build-engine", "--style", "nothere.png"], "not found"),
    (["build-engine", "--max-side", "10"], "--max-side must be between"),
])
def test_build_engine_without_tensorrt_is_one_line_and_exit_2(args, message):
    code, out, err = run_cli(*args)
    assert code == 2 and out == ""
    assert message in one_error_line(err)


def test_doctor_reports_every_engine():
    code, out, _ = run_cli("doctor", "--json")
    rows = {r["name"]: r for r in json.loads(out) if r["kind"] == "engine"}
    assert code == 0 and set(rows) == {"cpu", "cuda", "tensorrt", "openvino"}
    assert rows["cpu"]["available"] is True
    assert all(r["reason"] for r in rows.values())


def test_doctor_says_which_parts_of_the_frame_path_run_on_the_gpu():
    from engines.registry import engine_status

    code, out, _ = run_cli("doctor", "--json")
    rows = {r["name"]: r for r in json.loads(out) if r["kind"] == "frame path"}
    assert code == 0 and set(rows) == {"decode", "frames", "compile", "encode"}
    gpu = engine_status("cuda").available
    assert rows["frames"]["available"] is gpu and ("on the GPU" if gpu else "on the CPU") in rows["frames"]["reason"]
    assert "x264 on the CPU" in rows["encode"]["reason"]
