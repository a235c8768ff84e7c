"""The device frame path on a real GPU (marker ``gpu``; skipped with the reason where there is no
CUDA device): what the CPU tests check of the same code, on CUDA, with the fp16 network, CUDA
graphs and the compiled form."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import packets, run_cli, video_frames

from engines.registry import engine_status
from stream.media.testsrc import TestScene

CUDA = engine_status("cuda")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not CUDA.available, reason=f"no CUDA here: {CUDA.reason}")]


def test_a_render_on_the_gpu_path_is_the_cpus_render(make_clip, tmp_path):
    clip = make_clip("clip.mp4", seconds=2.0, width=640, height=360, cuts=(1.0,))
    outs = {}
    for name, args in {"gpu": ["--engine", "cuda"], "cpu": ["--engine", "cpu", "--precision", "fp32",
                                                             "--frame-path", "host"]}.items():
        code, out, err = run_cli("render", clip, "-o", tmp_path / f"{name}.mp4", "--crf", "0", "--json", *args)
        assert code == 0, err
        outs[name] = json.loads(out)
    assert outs["gpu"]["frame_path"].startswith("cuda") and outs["gpu"]["precision"] == "fp16"
    (t1, a), (t2, b) = video_frames(tmp_path / "gpu.mp4"), video_frames(tmp_path / "cpu.mp4")
    assert t1 == t2 and len(a) == 50
    assert packets(tmp_path / "gpu.mp4", "audio") == packets(clip, "audio")
    diffs = [np.abs(x.astype(int) - y).mean() for x, y in zip(a, b)]
    assert np.mean(diffs) < 2.0, diffs  # fp16 against fp32, and the stabilizer carrying it on
    assert abs(outs["gpu"]["flicker"] - outs["cpu"]["flicker"]) < 0.1 * outs["cpu"]["flicker"] + 0.1


@pytest.mark.parametrize("w, h, n", [(1920, 1080, 1), (1920, 1080, 8), (640, 360, 32)])
def test_the_compiled_fp16_network_matches_fp32_on_fresh_frames(w, h, n):
    import torch

    from engines.catalog import resolve
    from engines.networks.folded_net import FoldedNet
    from engines.networks.style_layers import style_layers
    from engines.runtimes.compiled import CompiledNetwork

    layers = style_layers(resolve("starry-night"), "cuda")
    reference = FoldedNet(layers, fast=False).cuda().eval()
    fast = CompiledNetwork(FoldedNet(layers).to("cuda", torch.float16, memory_format=torch.channels_last).eval())
    scene = TestScene(w, h)
    frames = torch.from_numpy(np.stack([scene.frame(0.05 * i) for i in range(n)])).cuda()
    x = frames.permute(0, 3, 1, 2).float().div_(255)
    with torch.inference_mode():
        assert fast.wait(x.half().contiguous(memory_format=torch.channels_last), timeout=300) == "compiled", fast.failed
        y = fast(x.half().contiguous(memory_format=torch.channels_last)).float()
        expected = reference(x)
    mse = float(((y - expected) ** 2).mean())
    assert 10 * np.log10(1 / mse) >= 40


def test_the_device_stabilizer_on_cuda_is_the_cpus():
    import torch

    from stream.temporal.stabilize import DeviceStabilizer

    scene = TestScene(640, 360)
    sources = [scene.frame(t / 25) for t in range(12)]
    rng = np.random.default_rng(0)
    stylized = [np.clip(s.astype(int) + rng.integers(-30, 30, s.shape), 0, 255).astype(np.uint8) for s in sources]
    outs = {}
    for device in ("cpu", "cuda"):
        stab = DeviceStabilizer(0.8, device=device)
        outs[device] = [stab(torch.from_numpy(s).to(device), torch.from_numpy(p).to(device)).cpu().numpy()
                        for s, p in zip(sources, stylized)]
    assert np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(outs["cpu"], outs["cuda"])]) < 0.5
