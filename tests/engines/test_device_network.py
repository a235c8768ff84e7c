"""The torch engine's network in the form a GPU runs fast, checked here on the CPU: the fast layers
(one float32 var_mean and one multiply-add per norm; each 2x enlargement inside its convolution)
against the reference (F.instance_norm, nearest enlargement), frames by the batch on the device
against one by one from the host, and torch.compile taking over without holding a frame back, or
told why not."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

from engines.catalog import resolve  # noqa: E402
from engines.networks.folded_net import FoldedNet  # noqa: E402
from engines.networks.style_layers import style_layers  # noqa: E402
from engines.runtimes.compiled import CompiledNetwork  # noqa: E402
from engines.runtimes.cuda import CudaEngine  # noqa: E402
from stream.media.testsrc import TestScene  # noqa: E402


def psnr(a, b) -> float:
    mse = float(((a.double() - b.double()) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(1 / mse)


@pytest.mark.quick
@pytest.mark.parametrize("style", ["starry-night", "mosaic", "3:0.5,mosaic:0.5"])
def test_the_fast_form_is_the_reference_network(style):
    layers = style_layers(resolve(style), "cuda")
    scene = TestScene(200, 120)
    frames = torch.from_numpy(np.stack([scene.frame(t) for t in (0.1, 0.9)])).permute(0, 3, 1, 2).float() / 255
    with torch.inference_mode():
        fast, reference = FoldedNet(layers)(frames), FoldedNet(layers, fast=False)(frames)
    assert psnr(fast, reference) > 40  # the bar; in float32 it is far above
    assert (fast - reference).abs().max() < 1e-3


@pytest.mark.quick
def test_frames_on_the_device_by_the_batch_are_the_frames_one_by_one():
    engine = CudaEngine("mosaic", device="cpu")
    scene = TestScene(160, 90)
    frames = np.stack([scene.frame(t) for t in (0.0, 0.4, 0.8)])
    one_by_one = np.stack([engine.stylize_one(f) for f in frames])
    batch = engine.network("mosaic").on_device(torch.from_numpy(frames)).numpy()
    assert batch.shape == frames.shape and np.abs(batch.astype(int) - one_by_one).max() <= 1
    assert np.abs(one_by_one.astype(int) - frames).mean() > 15  # stylized, not passed through


def test_a_compiled_network_takes_over_when_ready_and_equals_the_eager_one():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 3, 1)).eval()
    heard = []
    compiled = CompiledNetwork(net, heard.append)
    x = torch.rand(1, 3, 16, 24)
    with torch.inference_mode():
        first = compiled(x)                      # eager at once, the compile started aside
        assert torch.equal(first, net(x))
        assert compiled.wait(x, timeout=600) == "compiled", heard
        assert compiled.version == 1 and torch.allclose(compiled(x), net(x), atol=1e-5)
    assert any("compiled network ready" in line for line in heard)


@pytest.mark.quick
def test_a_network_that_will_not_compile_runs_eager_and_says_why():
    heard = []
    net = torch.nn.Conv2d(3, 3, 1).eval()
    broken = CompiledNetwork(net, heard.append, mode="no-such-mode")
    x = torch.rand(1, 3, 8, 8)
    with torch.inference_mode():
        assert broken.wait(x, timeout=120) == "eager" and torch.equal(broken(x), net(x))
    assert broken.failed and len(heard) == 1 and "runs uncompiled: torch.compile failed" in heard[0]
