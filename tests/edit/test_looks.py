"""Looks over time (issue #16): the shot list, a look per shot or time range with keyframes, the
short form per shot, and a live look that moves over seconds through the control endpoint."""
from __future__ import annotations

import csv
import json
import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from conftest import (
    control_stats,
    free_port,
    live,
    one_error_line,
    run_cli,
    stop_live,
    video_frames,
    wait_for,
)
from support.temporal_metrics import ssim_quarter

from engines import open_engine, resolve
from engines.catalog import BUILTIN_NAMES
from stream.edit.looks import split_per_shot
from stream.media.testsrc import TestScene, write_test_clip
from stream.styling.controls import Controls
from stream.styling.stylist import Stylist

W, H, FPS = 192, 108, 25
CUT_S = 2.0  # the clip's cut: frame 50 starts the second shot


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("looks") / "cut.mov"
    write_test_clip(path, seconds=4.0, width=W, height=H, fps=FPS, cuts=(CUT_S,), timecode="01:00:00:00")
    return path


def _looks(tmp_path, entries, name="looks.json"):
    path = tmp_path / name
    path.write_text(json.dumps(entries))
    return path


@pytest.mark.quick
def test_the_shot_list_finds_each_cut_within_a_frame_and_carries_timecode(tmp_path):
    path = tmp_path / "three.mp4"
    write_test_clip(path, seconds=4.0, width=320, height=180, fps=FPS, cuts=(1.52, 2.8))
    code, out, err = run_cli("shots", path, "-o", tmp_path / "shots.csv")
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "shots.csv").open()))
    assert [int(r["first_frame"]) for r in rows] == [0, 38, 70]  # 1.52 s and 2.8 s at 25 frames/s
    assert [int(r["last_frame"]) for r in rows] == [37, 69, 99]
    assert rows[1]["timecode_in"] == "00:00:01:13" and rows[1]["timecode_out"] == "00:00:02:20"
    assert float(rows[2]["start"]) == pytest.approx(2.8) and float(rows[2]["end"]) == pytest.approx(4.0)
    code, out, _ = run_cli("shots", path, "--json")
    listed = json.loads(out)
    assert listed["frames"] == 100 and [s["shot"] for s in listed["shots"]] == [1, 2, 3]


def test_a_source_timecode_numbers_the_shots(clip):
    code, out, err = run_cli("shots", clip, "--json")
    assert code == 0, err
    shots = json.loads(out)["shots"]
    assert [(s["first_frame"], s["timecode_in"]) for s in shots] == [(0, "01:00:00:00"), (50, "01:00:02:00")]


@pytest.mark.quick
def test_two_shots_in_two_looks_each_match_a_whole_render_in_that_look(clip, tmp_path):
    looks = _looks(tmp_path, [{"shot": 1, "style": "mosaic"}, {"shot": 2, "style": "red-flame", "strength": 0.8}])
    code, out, err = run_cli("render", clip, "-o", tmp_path / "looks.mp4", "--looks", looks, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["looks"], summary["shots"], summary["frames"]) == (2, 2, 100)
    _, both = video_frames(tmp_path / "looks.mp4")
    for style, args, frames in (("mosaic", (), range(10, 45)), ("red-flame", ("--strength", "0.8"), range(60, 100))):
        assert run_cli("render", clip, "-o", tmp_path / f"{style}.mp4", "--style", style, *args)[0] == 0
        _, whole = video_frames(tmp_path / f"{style}.mp4")
        scores = [ssim_quarter(both[i], whole[i]) for i in frames]
        assert min(scores) >= 0.95, (style, min(scores))
    _, mosaic = video_frames(tmp_path / "mosaic.mp4")
    assert ssim_quarter(both[80], mosaic[80]) < 0.9  # the second shot really is in another look


@pytest.mark.quick
def test_a_keyframed_strength_grows_the_style_monotonically(clip, tmp_path):
    looks = _looks(tmp_path, [{"from": 0, "to": CUT_S, "strength": 0, "keyframes": [
        {"at": 0.2, "strength": 0}, {"at": 1.8, "strength": 1, "ease": "ease"}]}])
    code, _, err = run_cli("render", clip, "-o", tmp_path / "grow.mp4", "--looks", looks, "--no-stabilize")
    assert code == 0, err
    _, source = video_frames(clip)
    _, out = video_frames(tmp_path / "grow.mp4")
    change = np.array([np.abs(o.astype(np.int16) - s).mean() for o, s in zip(out[:50], source[:50])])
    assert change[:5].max() < 3  # strength 0: the source (through two encodes)
    windows = change[5:45].reshape(8, 5).mean(axis=1)
    assert np.all(np.diff(windows) > 0), windows
    assert change[46:50].min() > 5 * change[:5].max()


def test_a_style_change_inside_a_shot_crossfades_inside_the_network(clip, tmp_path):
    looks = _looks(tmp_path, [{"shot": 1, "style": "mosaic", "keyframes": [
        {"at": 0.4, "style": "mosaic"}, {"at": 1.6, "style": "starry-night"}]}])
    code, _, err = run_cli("render", clip, "-o", tmp_path / "fade.mp4", "--looks", looks, "--no-stabilize", "--crf", "0")
    assert code == 0, err
    _, out = video_frames(tmp_path / "fade.mp4")
    _, source = video_frames(clip)
    middle = 25  # 1.0 s: half way from 0.4 to 1.6 s
    engine = open_engine("cpu", "mosaic", precision="fp32")
    blend = engine.stylize_one(source[middle], engine.network(resolve("mosaic:0.5,starry-night:0.5")))
    dissolve = (engine.stylize_one(source[middle]).astype(np.float32)
                + engine.stylize_one(source[middle], engine.network(resolve("starry-night")))) / 2
    got = out[middle].astype(np.float32)
    assert np.abs(got - blend).mean() < 0.5 * np.abs(got - dissolve).mean()


def test_style_per_shot_gives_each_shot_its_style(clip, tmp_path):
    assert split_per_shot("starry-night,mosaic,3:0.5,mosaic:0.5") == ["starry-night", "mosaic", "3:0.5,mosaic:0.5"]
    assert split_per_shot("1:0.5,2:0.5;3:0.5,4:0.5") == ["1:0.5,2:0.5", "3:0.5,4:0.5"]
    code, out, err = run_cli("render", clip, "-o", tmp_path / "per.mp4", "--style-per-shot", "mosaic,red-flame",
                             "--json")
    assert code == 0, err
    assert json.loads(out)["looks"] == 2
    _, per = video_frames(tmp_path / "per.mp4")
    run_cli("render", clip, "-o", tmp_path / "flame.mp4", "--style", "red-flame")
    _, flame = video_frames(tmp_path / "flame.mp4")
    assert ssim_quarter(per[90], flame[90]) >= 0.95 and ssim_quarter(per[20], flame[20]) < 0.9


def test_an_edited_shot_list_is_the_one_looks_count_in(clip, tmp_path):
    shots = tmp_path / "shots.csv"
    shots.write_text("shot,first_frame,last_frame\n1,0,29\n2,30,99\n")  # the cut moved to frame 30 by hand
    looks = _looks(tmp_path, {"shots": "shots.csv", "looks": [{"shot": 2, "style": "mosaic"}]})
    code, out, err = run_cli("render", clip, "-o", tmp_path / "edit.mp4", "--looks", looks, "--json")
    assert code == 0, err
    assert json.loads(out)["shots"] == 2 and "found" not in err  # read, not found again
    _, edited = video_frames(tmp_path / "edit.mp4")
    _, source = video_frames(clip)
    assert np.abs(edited[35].astype(np.int16) - source[35]).mean() > 20  # frame 35 is shot 2 now: mosaic


@pytest.mark.parametrize("entries,message", [
    ([{"shot": 1, "style": "no-such-style"}], 'entry 1 (shot 1): "style": unknown style'),
    ([{"shot": 3}], "entry 1: shot 3 does not exist; the clip has shots 1 to 2"),
    ([{"shot": 1}, {"from": 1.0, "to": 3.0}], "entry 2 (1-3 s) overlaps entry 1 (shot 1)"),
    ([{"shot": 1, "keyframes": [{"at": 2.5, "strength": 0.5}]}], 'entry 1 (shot 1), keyframe 1: "at" 2.5 is outside shot 1'),
    ([{"shot": 2, "keyframes": [{"at": 0.5, "strength": 1.5}]}], '"strength": strength must be between 0 and 1'),
    ([{"shot": 2, "stability": -1}], 'entry 1 (shot 2): "stability": stability must be between 0 and 1'),
    ([{"shot": 2, "keyframes": [{"at": 1, "strength": 0.5}, {"at": 0.5, "strength": 1}]}], "in time order"),
    ([{"shot": 2, "keyframes": [{"at": 0.5, "ease": "bounce", "strength": 1}]}], '"ease" must be one of'),
    ([{"shot": 1, "colour": "red"}], "entry 1: unknown field 'colour'"),
    ([{"style": "mosaic"}], 'entry 1: give either "shot"'),
    ([{"from": 9, "to": 10}], 'entry 1: "from" 9 (9 s) is past the end'),
    ({"looks": "x", "extra": 1}, "write a list of entries"),
])
@pytest.mark.quick
def test_each_error_in_a_looks_file_is_one_line_naming_the_entry_and_field(clip, tmp_path, entries, message):
    looks = _looks(tmp_path, entries)
    code, _, err = run_cli("render", clip, "-o", tmp_path / "never.mp4", "--looks", looks)
    assert code == 2
    assert message in one_error_line([line for line in err.splitlines() if "note:" not in line][0]), err
    assert not (tmp_path / "never.mp4").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["looks.json"]


def test_looks_that_cannot_go_together_are_refused(clip, tmp_path):
    for args, message in [(("--looks", tmp_path / "l.yaml"), "a looks file is a .json file"),
                          (("--looks", tmp_path / "a.json", "--style-per-shot", "mosaic"), "not both"),
                          (("--looks", tmp_path / "missing.json"), "looks file not found"),
                          (("--style-per-shot", "mosaic,nope"), "--style-per-shot, shot 2: unknown style")]:
        code, _, err = run_cli("render", clip, "-o", tmp_path / "x.mp4", *args)
        assert code == 2 and message in err.splitlines()[-1], err


def test_a_live_look_moves_over_its_span_and_a_crossfade_passes_through_blends():
    engine = open_engine("cpu", "mosaic", precision="fp32")
    stylist = Stylist(engine, Controls(style="mosaic", strength=0.0))
    state = stylist.control(strength=1.0, style="starry-night", span=0.6)
    assert state["strength"] == 1.0 and state["moving"]["seconds_left"] > 0.4
    picture, seen, strengths = TestScene(W, H).frame(0.3), [], []
    for _ in range(12):
        stylist.stylize(picture)
        moving = stylist.state().get("moving")
        if moving:
            seen.append(moving["style"])
            strengths.append(moving["strength"])
        time.sleep(0.06)
    assert strengths == sorted(strengths) and strengths[0] < 0.5 < strengths[-1]
    assert any("mosaic:" in name and "starry-night:" in name for name in seen)  # a blend of the two, inside the net
    assert "moving" not in stylist.state() and stylist.state()["style"] == "starry-night"
    weights = resolve(seen[len(seen) // 2]).weights
    assert weights[BUILTIN_NAMES.index("mosaic")] + weights[BUILTIN_NAMES.index("starry-night")] == pytest.approx(1)


def test_the_live_control_endpoint_moves_a_look_over_seconds():
    port = free_port(socket.SOCK_STREAM)
    proc = live("--duration", "60", "--control", f"127.0.0.1:{port}", "--json", "--max-side", "160",
                "--strength", "0.1")
    try:
        wait_for(lambda: control_stats(port), 30, "the control endpoint answering")
        body = json.dumps({"strength": 0.9, "span": 2, "ease": "linear"}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/style", data=body, method="POST")
        state = json.load(urllib.request.urlopen(request, timeout=5))
        assert state["strength"] == 0.9 and 1.5 < state["moving"]["seconds_left"] <= 2
        samples = []
        for _ in range(4):
            time.sleep(0.3)
            samples.append(control_stats(port)["moving"]["strength"])
        assert samples == sorted(samples) and 0.1 < samples[0] < samples[-1] < 0.9
        wait_for(lambda: "moving" not in control_stats(port), 5, "the move to end")
        bad = urllib.request.Request(f"http://127.0.0.1:{port}/style", data=b'{"strength": 1, "span": -2}',
                                     method="POST")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(bad, timeout=5)
        assert info.value.code == 400 and "span must be seconds" in json.load(info.value)["error"]
    finally:
        out, err = stop_live(proc)
    assert proc.returncode == 0, err
    assert json.loads(out)["strength"] == 0.9
