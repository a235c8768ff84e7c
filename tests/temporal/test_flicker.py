"""The flicker readout (issue #18): the output's change where the picture barely moved, beside the
source's own, in render's summary, live's figures and every WebRTC viewer's."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from stream.temporal.flicker import FlickerMeter


@pytest.mark.quick
def test_a_steady_output_reads_zero_and_a_shimmering_one_reads_high():
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)
    steady, shimmer = FlickerMeter(), FlickerMeter()
    for _ in range(10):
        steady.update(picture, picture)
        shimmer.update(picture, rng.integers(0, 255, (90, 160, 3), dtype=np.uint8))
    assert steady.readout() == {"flicker": 0.0, "source_flicker": 0.0}
    assert shimmer.readout()["flicker"] > 30 and shimmer.readout()["source_flicker"] == 0.0
    assert FlickerMeter().readout()["flicker"] is None  # nothing to say before two frames


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    from stream.media.testsrc import write_test_clip

    folder = tmp_path_factory.mktemp("flicker")
    still, pan = folder / "still.mp4", folder / "pan.mp4"
    write_test_clip(still, seconds=2, width=256, height=144, pan_px_per_s=0)
    write_test_clip(pan, seconds=2, width=256, height=144, pan_px_per_s=40)
    return {"still": still, "pan": pan}


@pytest.mark.parametrize("clip", ["still", "pan"])
def test_stabilized_reads_lower_than_per_frame(clips, tmp_path, clip):
    figures = {}
    for name, extra in (("stabilized", ()), ("per-frame", ("--no-stabilize",))):
        code, out, err = run_cli("render", clips[clip], "-o", tmp_path / f"{name}.mp4", "--json", *extra)
        assert code == 0, err
        figures[name] = json.loads(out)
    stabilized, per_frame = figures["stabilized"], figures["per-frame"]
    assert stabilized["flicker"] < 0.9 * per_frame["flicker"]
    assert stabilized["source_flicker"] == per_frame["source_flicker"] < stabilized["flicker"]


@pytest.mark.quick
def test_live_reports_flicker(clips):
    code, out, err = run_cli("live", "--source", clips["still"], "--duration", "3", "--json", "--max-side", "256")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["flicker"] is not None and summary["source_flicker"] is not None
    assert summary["flicker"] >= summary["source_flicker"]
