"""The device path never makes the host wait for the device but once a frame, at the download: run
here on the CPU (the same torch code a GPU runs) under torch's own hooks, counting every read of a
tensor's value on the host (``aten._local_scalar_dense``: ``.item()``, ``bool(t)``, ``if t.any()``)
and every way a tensor's values come to the host (``.numpy()``, ``.cpu()``, ``.tolist()``). On a GPU
each of those is a synchronization that stalls the frame's stage until the device has caught up.
Each stage of a render runs here in this thread, in order, on real decoded frames (4:2:0 up, the
fp32 torch network, the stabilizer with its motion measured ahead, 4:2:0 down)."""
from __future__ import annotations

from collections import Counter

import pytest

torch = pytest.importorskip("torch", reason="the device path runs on torch")

from torch.overrides import TorchFunctionMode  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

from engines.catalog import resolve  # noqa: E402
from engines.runtimes.cuda import CudaEngine  # noqa: E402
from stream.core.frame import Frame  # noqa: E402
from stream.edit.looks import LookTimeline  # noqa: E402
from stream.framepath.path import open_frame_path  # noqa: E402
from stream.media.colour import Colour  # noqa: E402
from stream.media.decoder import open_decoder  # noqa: E402
from stream.media.testsrc import write_test_clip  # noqa: E402
from stream.render.stages import FrameStages  # noqa: E402
from stream.styling.controls import Controls  # noqa: E402
from stream.temporal.flicker import FlickerMeter  # noqa: E402

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

TO_HOST = {"numpy", "cpu", "tolist", "item", "__bool__", "__int__", "__float__", "__index__"}


class HostReads(TorchFunctionMode):
    """Counts the tensor methods that bring values to the host."""

    def __init__(self):
        super().__init__()
        self.seen: Counter = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in TO_HOST:
            self.seen[name] += 1
        return func(*args, **(kwargs or {}))


class ScalarReads(TorchDispatchMode):
    """Counts ``aten._local_scalar_dense``: a tensor's value read as a Python number."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.count += 1
        return func(*args, **(kwargs or {}))


def _stages(clip, **look):
    engine = CudaEngine("mosaic", device="cpu", compile=False)  # the torch engine, its network on the device
    decoder = open_decoder(clip, yuv=True)
    path = open_frame_path(engine, torch.device("cpu"), decoder.colour, Colour(1, 1, 1, 1))
    timeline = LookTimeline(Controls(style="mosaic", **look), resolve("mosaic"))
    return decoder, FrameStages(decoder, engine, path, timeline, None, FlickerMeter(), lambda *a, **k: None)


@pytest.mark.parametrize("look", [{}, {"strength": 0.6, "keep_colors": True}], ids=["plain", "mix"])
def test_each_frame_reaches_the_host_once_and_never_reads_a_value_there(tmp_path, look):
    clip = tmp_path / "clip.mp4"
    write_test_clip(clip, seconds=0.6, width=192, height=108)
    decoder, stages = _stages(clip, **look)
    per_frame = []
    with decoder:
        frames = [f for f in decoder if isinstance(f, Frame)]
    for frame in frames:
        reads, scalars = HostReads(), ScalarReads()
        with reads, scalars:
            out = stages.download(stages.stabilize(stages.stylize(stages.measure(stages.upload(frame)))))
        per_frame.append((dict(reads.seen), scalars.count))
        assert out.yuv is not None and out.image is None  # down as the encoder's 4:2:0
    assert len(per_frame) == 15
    assert all(seen == ({"numpy": 1}, 0) for seen in per_frame), per_frame  # the one download, nothing else
    assert stages.flicker.overall()["flicker"] is not None  # the readout fed from host greys
    assert stages.stabilizer.stats.frames == 15 and stages.stabilizer.stats.mean_trust > 0.5


def test_the_count_would_see_a_value_read_on_the_host():
    """The counters themselves: a stray ``.item()`` or ``.cpu()`` in a stage is caught."""
    x = torch.ones(4)
    reads, scalars = HostReads(), ScalarReads()
    with reads, scalars:
        y = x * 2
        if (y > 1).any():
            y.cpu()
        y.sum().item()
    assert scalars.count == 2 and reads.seen["item"] == 1 and reads.seen["cpu"] == 1 and reads.seen["__bool__"] == 1
