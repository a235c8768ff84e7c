"""Shots to and from editing software (issue #29, in part): OpenTimelineIO, CMX 3600 EDL and FCP 7
XML through OpenTimelineIO's adapters, and PySceneDetect's CSV, every cut kept on its frame at 24,
25, 23.976 and 29.97 (drop-frame and not), with the traps of EDLs handled and looks riding along."""
from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from conftest import one_error_line, run_cli, video_frames

from stream.edit.shots import ShotList
from stream.media.timecode import Timecode

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

CUTS, FRAMES = [0, 37, 90, 91, 250], 300  # a one-frame shot, and cuts across a drop-frame minute at 29.97
RATES = {"24": Fraction(24), "25": Fraction(25), "23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001)}


def _shots(rate: Fraction, first: Timecode | None) -> ShotList:
    return ShotList.from_cuts(CUTS, FRAMES, rate, first)


@pytest.mark.parametrize("suffix", [".edl", ".xml", ".otio"])
@pytest.mark.parametrize("rate_name,first_label", [("24", None), ("25", "10:00:00:00"), ("23.976", "00:59:58:00"),
                                                   ("29.97", "00:00:59;20"), ("29.97", "01:00:00:00")])
def test_a_round_trip_keeps_every_cut_on_its_frame(tmp_path, suffix, rate_name, first_label):
    rate = RATES[rate_name]
    first = Timecode.parse(first_label, rate) if first_label else None
    shots = _shots(rate, first)
    path = tmp_path / f"cut{suffix}"
    shots.write(path, media=tmp_path / "clip.mov")
    back = ShotList.read(path, rate, first, FRAMES)
    assert back.starts() == CUTS
    assert [s.timecode_in for s in back.shots] == [s.timecode_in for s in shots.shots]


def test_an_edl_says_how_it_counts_and_records_from_one_hour(tmp_path):
    rate = RATES["29.97"]
    for label, fcm, sep in (("00:00:59;20", "FCM: DROP FRAME", ";"), ("00:00:59:20", "FCM: NON-DROP FRAME", ":")):
        first = Timecode.parse(label, rate)
        path = tmp_path / f"cut-{sep == ';'}.edl"
        _shots(rate, first).write(path, media=tmp_path / "clip.mov")
        text = path.read_text()
        lines = text.splitlines()
        assert lines[0].startswith("TITLE:") and lines[1] == fcm
        events = [line.split() for line in lines if line[:3].isdigit()]
        assert len(events) == len(CUTS)
        assert events[0][-4] == label and events[0][-2] == f"01:00:00{sep}00"  # source in, record in
        assert all(f"{sep}" in e[-1][-3:] for e in events)
        # 37 frames after 00:00:59;20 is 00:01:00;29 dropping labels ;00 and ;01 (00:01:00:27 without)
        assert events[1][-4] == ("00:01:00;29" if sep == ";" else "00:01:00:27")


def test_an_avid_edl_with_a_comment_before_its_title_and_drop_frame_written_with_colons(tmp_path):
    rate = RATES["29.97"]
    path = tmp_path / "avid.edl"
    path.write_text("* exported by an editing system\n"
                    "TITLE: REEL A\nFCM: DROP FRAME\n\n"
                    "001  A001  V  C  00:00:59:20 00:01:00:29 01:00:00:00 01:00:01:07\n"
                    "002  A001  V  C  00:01:00:29 00:01:05:00 01:00:01:07 01:00:05:08\n")
    first = Timecode.parse("00:00:59;20", rate)
    shots = ShotList.read(path, rate, first, 200)
    assert shots.starts() == [0, 37]  # read as drop-frame, as its FCM line says (':' would give 39)


def test_looks_ride_along_in_metadata_and_markers(tmp_path):
    rate = RATES["24"]
    looks = {1: "mosaic", 3: {"style": "cubist", "strength": 0.6, "keep_colors": True}, 5: "3:0.5,mosaic:0.5"}
    whole = {1: {"style": "mosaic"}, 3: looks[3], 5: {"style": "3:0.5,mosaic:0.5"}}  # a style alone is a look
    for suffix in (".otio", ".xml", ".edl"):
        path = tmp_path / f"looks{suffix}"
        _shots(rate, None).write(path, media=tmp_path / "clip.mov", looks=looks)
        back = ShotList.read(path, rate, None, FRAMES)
        assert back.looks == whole, suffix
    edl = (tmp_path / "looks.edl").read_text()
    assert edl.count("* LOC:") == 3 and "LOOK:CUBIST" in edl  # the adapter writes markers in capitals
    otio_json = json.loads((tmp_path / "looks.otio").read_text())
    clip = otio_json["tracks"]["children"][0]["children"][2]
    assert clip["metadata"]["stylecast"]["look"] == whole[3] and clip["markers"][0]["name"] == "look:cubist"


def test_a_pyscenedetect_list_is_read(tmp_path):
    path = tmp_path / "clip-Scenes.csv"
    path.write_text("Timecode List:,00:00:01.542,00:00:03.750\n"
                    "Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,"
                    "End Time (seconds),Length (frames),Length (timecode),Length (seconds)\n"
                    "1,1,00:00:00.000,0.000,37,00:00:01.542,1.542,37,00:00:01.542,1.542\n"
                    "2,38,00:00:01.542,1.542,90,00:00:03.750,3.750,53,00:00:02.208,2.208\n"
                    "3,91,00:00:03.750,3.750,120,00:00:05.000,5.000,30,00:00:01.250,1.250\n")
    shots = ShotList.read(path, RATES["24"], None, None)
    assert shots.starts() == [0, 37, 90] and shots.frames == 120


def test_stylecast_shots_writes_a_timeline_and_render_takes_its_cuts_and_looks_back(make_clip, tmp_path):
    clip = make_clip("cuts.mov", seconds=2.0, width=320, height=180, cuts=(1.0,), timecode="01:00:00:00")
    code, out, err = run_cli("shots", str(clip), "-o", str(tmp_path / "cut.edl"))
    assert code == 0, err
    edl = (tmp_path / "cut.edl").read_text().splitlines()
    events = [line.split() for line in edl if line[:3].isdigit()]
    assert [e[-4] for e in events] == ["01:00:00:00", "01:00:01:00"]  # the clip's own timecode, cut at 1 s
    code, _, err = run_cli("shots", str(clip), "-o", str(tmp_path / "cut.otio"), "--style-per-shot", "mosaic,cubist")
    assert code == 0, err
    outputs = {}
    for name, extra in (("looks-from-the-timeline", ["--shots", str(tmp_path / "cut.otio")]), ("cubist", [])):
        target = tmp_path / f"{name}.mp4"
        # lossless: at CRF 18 the encoder carries the first shot's difference into the second's quantization
        code, _, err = run_cli("render", str(clip), "-o", str(target), "--style", "cubist", "--stability", "0",
                               "--crf", "0", *extra)
        assert code == 0, err
        outputs[name] = video_frames(target)[1]
    first, second = (np.abs(a.astype(int) - b).mean() for a, b in
                     ((outputs["looks-from-the-timeline"][5], outputs["cubist"][5]),
                      (outputs["looks-from-the-timeline"][40], outputs["cubist"][40])))
    assert first > 10 and second < 1  # shot 1 took mosaic from the timeline, shot 2 cubist


def test_a_broken_timeline_is_one_clear_line(tmp_path, make_clip):
    clip = make_clip("c.mp4", seconds=1.0)
    bad = tmp_path / "bad.xml"
    bad.write_text("<xmeml><nope")
    code, _, err = run_cli("render", str(clip), "-o", str(tmp_path / "o.mp4"), "--shots", str(bad))
    assert code == 2 and "bad.xml is not a readable XML file" in one_error_line(err)
    assert not (tmp_path / "o.mp4").exists()
