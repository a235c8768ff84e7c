"""What each PyAV the project allows does with what users' files carry: a title that is not UTF-8
(a camera's Latin-1 tag) still opens, renders with every frame and its sound, and comes back out.
PyAV 18 reads such a tag with replacement characters; PyAV 19 reads it byte for byte."""
from __future__ import annotations

import json

import av
import pytest
from conftest import packets, run_cli, video_frames

from stream.media.decode import PYAV_MAJOR

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

MARK = b"stylecast-title-"
PLAIN, LATIN1 = b"ABCDE", b"caf\xe9\xff"  # same length: patched in place, the file stays whole


def clip_with_latin1_title(make_clip, tmp_path):
    """The test scene remuxed into MKV with a title tag, whose bytes are then made invalid UTF-8; and
    the clip it came from (the same packets: PyAV 18 opens the tagged one only as stylecast does)."""
    source = make_clip("plain.mp4")
    tagged = tmp_path / "tagged.mkv"
    with av.open(str(source)) as src, av.open(str(tagged), "w") as out:
        out.metadata["title"] = (MARK + PLAIN).decode()
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
        for packet in src.demux(*[s for s in src.streams if s.index in streams]):
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    data = tagged.read_bytes()
    assert data.count(MARK + PLAIN) == 1
    tagged.write_bytes(data.replace(MARK + PLAIN, MARK + LATIN1))
    return tagged, source


def test_a_clip_whose_title_is_not_utf8_renders_whole_and_keeps_its_title(make_clip, tmp_path):
    clip, same_packets = clip_with_latin1_title(make_clip, tmp_path)
    out = tmp_path / "styled.mkv"
    code, stdout, err = run_cli("render", clip, "-o", out, "--json", "--max-side", "96")
    assert code == 0, err
    summary = json.loads(stdout)
    source_times, _ = video_frames(same_packets)
    times, _ = video_frames(out)
    assert summary["frames"] == len(times) == len(source_times) == 25
    assert [p for _, p in packets(out, "audio")] == [p for _, p in packets(same_packets, "audio")]
    written = out.read_bytes()
    if PYAV_MAJOR >= 19:  # surrogateescape: the very bytes the camera wrote
        assert MARK + LATIN1 in written
    else:  # replaced: the readable part survives, the bad bytes become U+FFFD
        assert MARK + b"caf" + "\ufffd".encode() in written
