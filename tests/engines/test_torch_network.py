"""The PyTorch copy of the 26-style network (the GPU engines' network) against ONNX Runtime, on the CPU."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

from engines import resolve  # noqa: E402
from engines.catalog import builtin_model  # noqa: E402
from engines.networks.multistyle_net import MultistyleNet  # noqa: E402
from engines.networks.tensors import from_tensor, to_tensor  # noqa: E402
from engines.runtimes.cpu import CpuEngine  # noqa: E402
from stream.media.testsrc import TestScene  # noqa: E402

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


@pytest.fixture(scope="module")
def net():
    return MultistyleNet.from_onnx(builtin_model()).eval()


@pytest.mark.parametrize("spec", ["starry-night", "mosaic", "3:0.5,mosaic:0.5"])
def test_same_pictures_as_onnx_runtime(net, spec):
    frame = TestScene(200, 112).frame(0.7)
    style = resolve(spec)
    expected = CpuEngine(style, precision="fp32").stylize_one(frame)
    with torch.no_grad():
        y = net(torch.from_numpy(to_tensor(frame, multiple=4)), torch.from_numpy(style.weights)[None])
        folded = net.fold(style.weights)(torch.from_numpy(to_tensor(frame, multiple=4)))
    for out in (y, folded):
        got = from_tensor(out.numpy(), *frame.shape[:2])
        assert np.abs(got.astype(int) - expected).max() <= 1  # float rounding only
    other = CpuEngine("golden-pastel").stylize_one(frame)
    assert np.abs(other.astype(int) - expected).mean() > 10  # and the styles do differ


def test_half_precision_stays_close(net):
    """Half precision against fp32 on the CPU: bfloat16 here (CPU convolutions have no fp16), which
    keeps fewer mantissa bits than the fp16 the CUDA engine runs, so fp16 is at least this close."""
    frame = TestScene(160, 96).frame(1.3)
    style = resolve("starry-night")
    x = torch.from_numpy(to_tensor(frame, multiple=4))
    with torch.no_grad():
        full = net.fold(style.weights)(x)
        half = net.fold(style.weights).to(torch.bfloat16)(x.to(torch.bfloat16)).float()
    assert (full - half).abs().mean() < 0.02
