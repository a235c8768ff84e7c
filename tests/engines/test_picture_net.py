"""The picture-style transformer in torch (issue #16): the same pictures as ONNX Runtime's copy of the
packaged graph, in fp32 and in bf16, and the graph the TensorRT engine compiles for a picture.

bf16 runs here on any CPU (slowly where it has no BF16 instructions), so its look is checked even
where the engine would not choose it; the speed is only measured where the CPU has AMX."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

from support.temporal_metrics import ssim_quarter  # noqa: E402

from engines.catalog import builtin_model, resolve  # noqa: E402
from engines.errors import StyleError  # noqa: E402
from engines.networks.onnx_networks import ImageStyleNetwork  # noqa: E402
from engines.networks.picture_net import PictureNet, packaged_picture_net  # noqa: E402
from engines.networks.style_layers import layers_digest, picture_vector, style_layers  # noqa: E402
from engines.networks.tensors import from_tensor, to_tensor  # noqa: E402
from engines.runtimes.bf16_network import Bf16Network  # noqa: E402
from engines.runtimes.cpu import CpuEngine  # noqa: E402
from stream.media.testsrc import TestScene  # noqa: E402

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


@pytest.fixture(scope="module")
def paintings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paintings")
    stripes = np.zeros((300, 200, 3), np.uint8)
    stripes[::20] = (255, 40, 0)
    stripes[:, ::15] = (0, 80, 255)
    cv2.imwrite(str(folder / "stripes.png"), stripes)
    cv2.imwrite(str(folder / "scene.png"), TestScene(320, 320, seed=11).frame(0.0))
    return [resolve(str(folder / name)) for name in ("stripes.png", "scene.png")]


@pytest.mark.parametrize("w, h", [(200, 112), (163, 97)])
def test_same_pictures_as_onnx_runtime(paintings, w, h):
    frame = TestScene(w, h).frame(0.7)
    outputs = []
    for style in paintings:
        expected = CpuEngine(style, precision="fp32").stylize_one(frame)
        with torch.no_grad():
            y = packaged_picture_net().fold(picture_vector(style))(torch.from_numpy(to_tensor(frame, multiple=4)))
        got = from_tensor(y.numpy(), h, w)
        assert np.abs(got.astype(int) - expected).max() <= 1  # float rounding only
        assert np.abs(got.astype(int) - frame).mean() > 15  # stylized, not passed through
        outputs.append(got)
    assert np.abs(outputs[0].astype(int) - outputs[1]).mean() > 10  # and two pictures are two styles


def test_bf16_keeps_the_fp32_look_for_pictures_and_built_in_styles(paintings):
    frame = TestScene(160, 96).frame(1.3)
    for style in (*paintings, resolve("starry-night")):
        fp32 = CpuEngine(style, precision="fp32").stylize_one(frame)
        bf16 = Bf16Network(style_layers(style, "cpu"))(frame)
        assert bf16.shape == frame.shape and bf16.dtype == np.uint8
        assert ssim_quarter(fp32, bf16) >= 0.97, style.name
        assert np.abs(fp32.astype(int) - bf16).mean() < 3, style.name  # levels of 255


def test_the_cpu_engine_runs_pictures_in_bf16_where_it_runs_built_in_styles(paintings, monkeypatch):
    monkeypatch.setattr("engines.runtimes.cpu.bf16_usable", lambda: True)  # as on a CPU with AMX
    engine = CpuEngine(paintings[0], precision="bf16")
    assert isinstance(engine._network, Bf16Network) and engine.precision_for(engine.style) == "bf16"
    fp32 = CpuEngine(paintings[0], precision="fp32")
    assert isinstance(fp32._network, ImageStyleNetwork) and fp32.precision_for(fp32.style) == "fp32"
    frame = TestScene(120, 68).frame(0.2)
    assert np.abs(engine.stylize_one(frame).astype(int) - fp32.stylize_one(frame)).mean() < 3


def test_a_foreign_file_is_a_clear_error():
    with pytest.raises(StyleError, match="is not the picture-style network stylecast knows"):
        PictureNet.from_onnx(builtin_model())


def test_the_graph_compiled_for_a_picture_is_that_picture(paintings, tmp_path, monkeypatch):
    """What the TensorRT engine is given: the folded picture network exported to ONNX (run here in
    ONNX Runtime), named by its numbers so that two pictures never share a compiled engine."""
    import onnxruntime as ort

    from engines.runtimes import tensorrt

    monkeypatch.setenv("STYLECAST_CACHE", str(tmp_path))
    graphs = [tensorrt.style_graph(style) for style in paintings]
    assert graphs[0] != graphs[1] and tensorrt.style_graph(paintings[0]) == graphs[0]
    assert layers_digest(style_layers(paintings[0], "tensorrt")) != layers_digest(style_layers(resolve("mosaic"), "tensorrt"))
    session = ort.InferenceSession(str(graphs[1]), providers=["CPUExecutionProvider"])
    frame = TestScene(240, 136).frame(2.0)
    y = session.run(None, {tensorrt.INPUT: to_tensor(frame, multiple=4)})[0]
    expected = CpuEngine(paintings[1], precision="fp32").stylize_one(frame)
    assert np.abs(from_tensor(y, 136, 240).astype(int) - expected).max() <= 1
