"""The stabilizer with its full-size work in torch (stream/temporal/stabilize.py's DeviceStabilizer)
against the host's (its Stabilizer), run here on the CPU on the same stylized frames of a panning clip
with a cut: the same steadiness (E_warp) and the same style kept, within 1% on this clip (5% allowed), and the same flicker readout from greys made in torch."""
from __future__ import annotations

import numpy as np
import pytest
from support.temporal_metrics import SourceFlow, read_frames, summary

torch = pytest.importorskip("torch", reason="the device path runs on torch")

from engines import open_engine  # noqa: E402
from engines.pictures import small_grey  # noqa: E402
from stream.media.testsrc import write_test_clip  # noqa: E402
from stream.temporal.flicker import FlickerMeter, flicker_size  # noqa: E402
from stream.temporal.stabilize import DeviceStabilizer, Stabilizer  # noqa: E402

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


@pytest.fixture(scope="module")
def stylized(tmp_path_factory):
    clip = tmp_path_factory.mktemp("stab") / "pan.mp4"
    write_test_clip(clip, seconds=1.6, width=320, height=180, cuts=(1.0,), pan_px_per_s=60)
    source = read_frames(clip)
    engine = open_engine("cpu", "mosaic")
    return source, [engine.stylize_one(f) for f in source]


@pytest.mark.parametrize("thorough", [True, False], ids=["render", "live"])
def test_the_device_stabilizer_is_as_steady_and_keeps_as_much_style(stylized, thorough):
    source, perframe = stylized
    host, device = Stabilizer(0.8, thorough), DeviceStabilizer(0.8, thorough, device="cpu")
    on_host = [host(s, p) for s, p in zip(source, perframe)]
    on_device = [device(torch.from_numpy(s), torch.from_numpy(p)).numpy() for s, p in zip(source, perframe)]
    assert device.stats.cuts == host.stats.cuts == 1
    flow = SourceFlow(source)
    a, b = summary(flow, source, on_host, perframe), summary(flow, source, on_device, perframe)
    base = summary(flow, source, perframe, perframe)["e_warp"]
    assert a["e_warp"] < 0.8 * base  # the stabilizer works here at all
    assert abs(b["e_warp"] / a["e_warp"] - 1) < 0.05 and abs(b["strength"] / a["strength"] - 1) < 0.05
    assert np.mean([np.abs(x.astype(int) - y).mean() for x, y in zip(on_host, on_device)]) < 1.0


def test_the_flicker_readout_from_device_greys_is_the_hosts(stylized):
    source, perframe = stylized
    host, device = FlickerMeter(), FlickerMeter()
    for s, p in zip(source, perframe):
        host.update(s, p)
        size = flicker_size(s.shape[1], s.shape[0])
        device.update_greys(small_grey(torch.from_numpy(s), *size).numpy(), small_grey(torch.from_numpy(p), *size).numpy())
    a, b = host.overall(), device.overall()
    assert a["flicker"] > 1 and abs(b["flicker"] / a["flicker"] - 1) < 0.05
    assert abs(b["source_flicker"] - a["source_flicker"]) < 0.2
