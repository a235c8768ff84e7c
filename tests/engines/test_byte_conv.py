"""The first convolution as int8 on the frame's bytes (engines/runtimes/byte_conv.py): its rounding,
its sums, and the network's look with it against fp32, beside the bf16 kernel's."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

from support.temporal_metrics import ssim_quarter  # noqa: E402

from engines.networks.folded_net import CONTRACT  # noqa: E402
from engines.networks.style_layers import style_layers  # noqa: E402
from engines.runtimes.byte_conv import (  # noqa: E402
    LEVELS,
    ByteConv,
    byte_conv_usable,
    patch_moments,
    rounded_int8,
)
from engines.runtimes.calibration import smooth_frames  # noqa: E402
from engines.runtimes.cpu import CpuEngine  # noqa: E402
from stream.media.testsrc import TestScene  # noqa: E402

pytestmark = pytest.mark.quick

has_int8_conv = pytest.mark.skipif(not hasattr(torch.ops.onednn, "qconv2d_pointwise"),
                                   reason="this torch has no oneDNN int8 convolution")


def _first_kernel() -> np.ndarray:
    return style_layers(CpuEngine("mosaic", precision="fp32").style, "cpu")[CONTRACT[0]].weight.numpy() / 255


def _energy(steps, scales, kernel, moments) -> np.ndarray:
    error = (steps.astype(np.float64) * scales[:, None, None, None] - kernel).reshape(len(kernel), -1)
    return np.einsum("oi,ij,oj->o", error, moments, error)


def test_the_steps_chosen_together_err_less_than_the_nearest_on_pictures():
    kernel = _first_kernel()
    moments = patch_moments(9, centred=True)
    steps, scales = rounded_int8(kernel, moments)
    nearest = np.round(kernel / scales[:, None, None, None])
    assert steps.dtype == np.int8 and np.abs(steps.astype(int)).max() <= LEVELS
    assert np.abs(steps - nearest).max() <= 2  # still a rounding: a step or two from the nearest at most
    chosen, plain = _energy(steps, scales, kernel, moments), _energy(nearest, scales, kernel, moments)
    assert np.all(chosen <= plain) and chosen.sum() < 0.2 * plain.sum()  # 0.04 measured


@has_int8_conv
@pytest.mark.parametrize("bias", [False, True])
def test_the_byte_convolution_sums_its_own_kernel_over_the_bytes(bias):
    generator = torch.Generator().manual_seed(int(bias))
    steps = torch.randint(-LEVELS, LEVELS + 1, (8, 3, 9, 9), generator=generator, dtype=torch.int8)
    scales = torch.rand(8, generator=generator) * 1e-3 + 1e-4
    shift = torch.randn(8, generator=generator) if bias else None
    frame = torch.randint(0, 256, (37, 51, 3), generator=generator, dtype=torch.uint8)
    x = frame.permute(2, 0, 1)[None]  # the HWC bytes as they are: a channels-last view
    got = ByteConv(steps, scales, shift)(x)
    expected = torch.nn.functional.conv2d(x.double(), steps.double() * scales.double()[:, None, None, None],
                                          None if shift is None else shift.double())
    assert got.dtype == torch.bfloat16 and got.shape == (1, 8, 29, 43)
    assert torch.allclose(got.double(), expected, rtol=2 ** -8, atol=1e-3)  # bf16's rounding, nothing else


@pytest.mark.skipif(not byte_conv_usable(), reason="the first layer reads bytes only on a CPU with AVX-512 BF16 "
                                                   "and VNNI and no AMX")
@pytest.mark.parametrize("spec", ["starry-night", "stained-glass", "bricks"])
def test_the_network_on_bytes_keeps_the_fp32_look_as_well_as_bf16(spec):
    """The styles whose look bf16 kept least on smooth colour fields (docs/benchmarks/cpu.md)."""
    fp32, engine = CpuEngine(spec, precision="fp32"), CpuEngine(spec, precision="bf16")
    network = engine._network
    assert network.first is not None
    frames = smooth_frames(320, 180, 2, seed=7) + [TestScene(320, 180).frame(1.1)]
    for frame in frames:
        reference = fp32.stylize_one(frame)
        on_bytes = ssim_quarter(network(frame), reference)
        first, network.first = network.first, None
        try:
            in_bf16 = ssim_quarter(network(frame), reference)
        finally:
            network.first = first
        assert on_bytes >= 0.99 and on_bytes >= in_bf16 - 0.001
