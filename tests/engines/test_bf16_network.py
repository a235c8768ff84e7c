"""The CPU engine's bf16 path (torch + AMX) against ONNX Runtime's fp32: same look, chosen only where
the CPU runs bf16 natively, and the fp32 path kept on request."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import run_cli
from support.temporal_metrics import ssim_quarter

from engines.errors import EngineUnavailable
from engines.networks.onnx_networks import BuiltinNetwork
from engines.runtimes.cpu import CpuEngine
from engines.runtimes.cpu_features import cpu_has_bf16
from stream.media.testsrc import TestScene

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

needs_bf16 = pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no AMX or AVX-512 BF16 instructions")


@needs_bf16
@pytest.mark.parametrize("spec", ["starry-night", "mosaic", "3:0.5,mosaic:0.5"])
def test_bf16_keeps_the_fp32_look(spec):
    fp32, bf16 = CpuEngine(spec, precision="fp32"), CpuEngine(spec, precision="bf16")
    scene = TestScene(320, 180)
    for t in (0.3, 1.7, 3.1):
        frame = scene.frame(t)
        a, b = fp32.stylize_one(frame), bf16.stylize_one(frame)
        assert ssim_quarter(a, b) >= 0.98  # the bar is 0.90
        assert np.abs(a.astype(int) - b).mean() < 3  # levels of 255
        assert np.abs(a.astype(int) - frame).mean() > 20  # and it is stylized, not passed through


@needs_bf16
def test_odd_sizes_and_concurrent_frames():
    engine = CpuEngine("starry-night", precision="bf16", threads=1)
    frames = [TestScene(203, 117, seed=s).frame(0.5) for s in range(4)]
    alone = [engine.stylize_one(f) for f in frames]
    assert all(out.shape == (117, 203, 3) and out.dtype == np.uint8 for out in alone)
    together: dict[int, np.ndarray] = {}
    workers = [threading.Thread(target=lambda i=i: together.__setitem__(i, engine.stylize_one(frames[i])))
               for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for i in range(4):  # two threads at once give each frame exactly its own result
        assert np.array_equal(together[i], alone[i])


@needs_bf16
@pytest.mark.parametrize("name", ["contract.0", "res.0.0", "expand.1"])
def test_each_layer_input_is_written_with_its_border(name):
    """The fused ReLU/add + border equals torch's own ops, value for value: reflected (the 9x9's 4 and
    a 3x3's 1), or for a layer run at the small size after an enlargement, the edge repeated."""
    import torch
    from torch.nn import functional as F

    network = CpuEngine("starry-night", precision="bf16")._network
    pad, mode = {"contract.0": (4, "reflect"), "res.0.0": (1, "reflect"), "expand.1": (1, "replicate")}[name]
    assert network.layers[name].pad == pad
    generator = torch.Generator().manual_seed(pad)
    x, other = (torch.randn((1, 8, 13, 22), generator=generator).to(torch.bfloat16)
                .contiguous(memory_format=torch.channels_last) for _ in range(2))
    with torch.inference_mode():
        cases = {"relu": (dict(relu=True), F.relu(x)), "add": (dict(add=other), x + other), "copy": ({}, x)}
        for case, (options, inside) in cases.items():
            padded, view = network._padded_for(name, x, **options)
            assert torch.equal(padded, F.pad(inside, (pad,) * 4, mode=mode)), case
            assert torch.equal(view, inside) and padded.is_contiguous(memory_format=torch.channels_last), case


@pytest.mark.parametrize("k, cin, out", [(9, 4, 3), (9, 3, 2), (5, 8, 4), (3, 5, 1)])
def test_a_layer_on_the_folded_picture_is_the_same_convolution(k, cin, out):
    """The last layer (few outputs) runs on the picture folded 2x2 into channels: the same sums."""
    import torch
    from torch.nn import functional as F

    from engines.networks.folded_net import folded_weights

    generator = torch.Generator().manual_seed(k * cin)
    x = torch.randn((1, cin, 2 * 7 + k - 1, 2 * 10 + k - 1), generator=generator, dtype=torch.float64)
    weight = torch.randn((out, cin, k, k), generator=generator, dtype=torch.float64)
    folded = F.pixel_shuffle(F.conv2d(F.pixel_unshuffle(x, 2), folded_weights(weight)), 2)
    assert folded.shape == (1, out, 14, 20)
    assert torch.allclose(folded, F.conv2d(x, weight), atol=1e-10)


def test_precision_choice(monkeypatch):
    fp32 = CpuEngine("mosaic", precision="fp32")
    assert fp32.precision == "fp32" and isinstance(fp32._network, BuiltinNetwork)
    auto = CpuEngine("mosaic")
    assert auto.precision == ("bf16" if cpu_has_bf16() else "fp32")
    monkeypatch.setattr("engines.runtimes.cpu.cpu_has_bf16", lambda: False)
    monkeypatch.setattr("engines.runtimes.cpu.bf16_usable", lambda: False)
    assert CpuEngine("mosaic").precision == "fp32"  # auto on a CPU without bf16
    with pytest.raises(EngineUnavailable, match="AMX or AVX-512 BF16"):
        CpuEngine("mosaic", precision="bf16")


def test_precision_flag(make_clip, tmp_path):
    clip = make_clip(seconds=1.0)
    code, out, err = run_cli("render", str(clip), "-o", str(tmp_path / "a.mp4"), "--precision", "fp32", "--json")
    assert code == 0 and '"precision": "fp32"' in out
    code, _, err = run_cli("render", str(clip), "-o", str(tmp_path / "b.mp4"), "--precision", "fp64")
    assert code == 2 and "--precision" in err and not (tmp_path / "b.mp4").exists()
