"""GPU engines on a real GPU (marker ``gpu``; skipped with the reason where there is no CUDA device)."""
from __future__ import annotations

import numpy as np
import pytest

from engines.registry import engine_status
from stream.media.testsrc import TestScene

CUDA = engine_status("cuda")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not CUDA.available, reason=f"no CUDA here: {CUDA.reason}")]


@pytest.mark.parametrize("w, h", [(640, 360), (1920, 1080), (642, 362)])
def test_cuda_engine_matches_the_cpu_engine(w, h):
    from engines.runtimes.cpu import CpuEngine
    from engines.runtimes.cuda import CudaEngine

    frame = TestScene(w, h).frame(0.4)
    gpu = CudaEngine("starry-night").stylize_one(frame).astype(int)
    cpu = CpuEngine("starry-night", precision="fp32").stylize_one(frame).astype(int)
    assert gpu.shape == cpu.shape
    assert np.abs(gpu - cpu).mean() < 2.0   # fp16 against fp32
    assert np.percentile(np.abs(gpu - cpu), 99.9) < 40


def test_a_picture_style_runs_on_the_gpu_at_the_frame_size(tmp_path):
    import cv2

    from engines.runtimes.cpu import CpuEngine
    from engines.runtimes.cuda import CudaEngine

    painting = tmp_path / "painting.png"
    cv2.imwrite(str(painting), TestScene(320, 320, seed=11).frame(0.0))
    frame = TestScene(960, 540).frame(0.4)
    gpu = CudaEngine(str(painting)).stylize_one(frame).astype(int)
    cpu = CpuEngine(str(painting), precision="fp32").stylize_one(frame).astype(int)
    assert gpu.shape == cpu.shape == frame.shape
    assert np.abs(gpu - cpu).mean() < 2.0 and np.abs(cpu - frame).mean() > 15


def test_graph_replay_matches_eager_and_keeps_up_with_new_frames():
    from engines.runtimes.cuda import CudaEngine

    scene = TestScene(640, 360)
    graphed, eager = CudaEngine("mosaic"), CudaEngine("mosaic", graphs=False)
    for t in (0.0, 0.5, 1.0):  # new frames through the same captured graph
        frame = scene.frame(t)
        assert np.abs(graphed.stylize_one(frame).astype(int) - eager.stylize_one(frame)).max() <= 1


def test_one_upload_and_one_download_per_frame():
    import torch
    from torch.profiler import ProfilerActivity, profile

    from engines.runtimes.cuda import CudaEngine

    engine = CudaEngine("starry-night")
    frame = TestScene(1280, 720).frame(0.2)
    engine.stylize_one(frame)  # buffers and graph made outside the count
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(5):
            engine.stylize_one(frame)
        torch.cuda.synchronize()
    names = [e.name for e in prof.events()]
    assert sum("HtoD" in n for n in names) == 5
    assert sum("DtoH" in n for n in names) == 5


def test_tensorrt_engine_is_cached_and_a_foreign_entry_is_rebuilt(tmp_path):
    status = engine_status("tensorrt")
    if not status.available:
        pytest.skip(f"no TensorRT here: {status.reason}")
    from engines.catalog import resolve
    from engines.runtimes.tensorrt import engine_for
    from engines.runtimes.tensorrt_cache import EngineCache

    cache = EngineCache(tmp_path)
    first, path = engine_for(resolve("mosaic"), 640, cache=cache)
    again, _ = engine_for(resolve("mosaic"), 640, cache=cache)
    assert again == first
    path.write_bytes(b"not an engine")
    rebuilt, _ = engine_for(resolve("mosaic"), 640, cache=cache)
    assert len(rebuilt) > 1000 and rebuilt != b"not an engine"


def test_a_batch_of_styles_on_the_gpu_gives_each_frame_its_own_style():
    """Serve's batcher (issue #38): frames in different styles in one CUDA graph (fp16, compiled
    where it finishes), each as its style alone, padded batches included (3 frames run as 4)."""
    from engines import resolve
    from engines.runtimes.cuda import CudaEngine

    engine = CudaEngine("mosaic")
    styles = [resolve(s) for s in ("mosaic", "cubist", "3:0.5,mosaic:0.5")]
    frames = np.stack([TestScene(640, 360, seed=i).frame(0.2) for i in range(3)])
    for _ in range(2):  # the second time, the captured graph replays
        out = engine.run_batch("builtin", frames, [engine.batch_key(s)[1] for s in styles])
    for frame, style, image in zip(frames, styles, out):
        alone = engine.stylize_one(frame, engine.network(style)).astype(int)
        diff = np.abs(image.astype(int) - alone)  # fp16 sums in another order at another batch size
        assert np.percentile(diff, 99.9) <= 1 and diff.max() <= 3


def test_a_painted_shot_trains_on_the_gpu():
    """Issue #39: the keyframe network trains on the GPU where there is one, and comes back to the
    CPU to be saved and run."""
    from engines.training import Budget
    from engines.training.keyframe_training import PaintedFrame, train_keyframe_net

    frame = TestScene(320, 180).frame(0.0)
    painted = 255 - frame  # any painting: the loss must fall towards it
    losses = []
    net, loss, steps = train_keyframe_net([PaintedFrame(frame, painted)], [], Budget(200), lambda h: losses.append(h.loss))
    assert steps == 200
    assert next(net.parameters()).device.type == "cpu"
    assert losses[-1] < 0.7 * losses[0]
