"""Users bring their own networks: ONNX files, and fast_neural_style .pth checkpoints loaded safely."""
import os
import pickle

import numpy as np
import onnx
import pytest
from conftest import H, W, one_error_line, run_cli, video_frames
from onnx import TensorProto, helper

from engines import open_engine
from engines.cache_dir import cache_dir
from engines.errors import StyleError
from stream.media.testsrc import TestScene

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


def _invert_model(path, layout="nchw", pixel_range=1.0, fixed=None):
    """A real ONNX graph: out = range - in (an easily checked 'style')."""
    dims = ["n", 3, "h", "w"] if layout == "nchw" else ["n", "h", "w", 3]
    if fixed:
        dims = [1, 3, *fixed] if layout == "nchw" else [1, *fixed, 3]
    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info("styled", TensorProto.FLOAT, dims)
    k = helper.make_tensor("k", TensorProto.FLOAT, [], [pixel_range])
    graph = helper.make_graph([helper.make_node("Sub", ["k", "pixels"], ["styled"])], "invert", [x], [y], [k])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.mark.parametrize("layout,pixel_range", [("nchw", 1.0), ("nhwc", 1.0), ("nchw", 255.0)])
def test_onnx_model_as_style(tmp_path, layout, pixel_range):
    model = _invert_model(tmp_path / "invert.onnx", layout, pixel_range)
    picture = TestScene(W, H).frame(0.2)
    out = open_engine("cpu", str(model)).stylize_one(picture)
    assert np.abs(out.astype(int) - (255 - picture.astype(int))).max() <= 1


def test_fixed_size_onnx_model_is_resized_in_and_out(tmp_path):
    model = _invert_model(tmp_path / "fixed.onnx", fixed=(64, 64))
    picture = TestScene(W, H).frame(0.2)
    out = open_engine("cpu", str(model)).stylize_one(picture)
    assert out.shape == picture.shape
    assert np.abs(out.astype(int) - (255 - picture.astype(int))).mean() < 25


def test_onnx_model_renders_a_clip(make_clip, tmp_path):
    model = _invert_model(tmp_path / "invert.onnx")
    out = tmp_path / "out.mp4"
    assert run_cli("render", make_clip(), "-o", out, "--style", model)[0] == 0
    assert len(video_frames(out)[1]) == 25


def test_pth_checkpoint_is_converted_once_and_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from engines.networks.transformer_net import TransformerNet

    torch.manual_seed(0)
    net = TransformerNet().eval()
    state = net.state_dict()
    state["in1.running_mean"] = torch.zeros(32)  # old checkpoints carry these; they are dropped
    path = tmp_path / "candy.pth"
    torch.save(state, path)
    picture = TestScene(W, H).frame(0.3)
    out = open_engine("cpu", str(path)).stylize_one(picture)
    with torch.no_grad():
        x = torch.from_numpy(np.pad(picture, ((0, 4), (0, 0), (0, 0)), mode="reflect")).permute(2, 0, 1)[None].float()
        expected = net(x)[0, :, :H].permute(1, 2, 0).clamp(0, 255).numpy()
    assert np.abs(out.astype(float) - expected).max() <= 2
    cached = list(cache_dir("models").glob("transformernet-*.onnx"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    open_engine("cpu", str(path))
    assert cached[0].stat().st_mtime_ns == mtime  # not converted again


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_runs_code_is_refused(tmp_path):
    pytest.importorskip("torch")
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    with open(evil, "wb") as f:
        pickle.dump({"conv1.conv2d.weight": _Payload(marker)}, f)
    with pytest.raises(StyleError, match="refused"):
        open_engine("cpu", str(evil))
    code, _, err = run_cli("render", "-o", tmp_path / "x.mp4", "--style", evil)
    assert code == 2 and "refused" in one_error_line(err)
    assert not marker.exists() and not (tmp_path / "x.mp4").exists()


def test_wrong_checkpoint_and_broken_onnx_are_clear_errors(tmp_path):
    torch = pytest.importorskip("torch")
    wrong = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, wrong)
    with pytest.raises(StyleError, match="not a fast_neural_style TransformerNet"):
        open_engine("cpu", str(wrong))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(StyleError, match="cannot load ONNX model broken.onnx"):
        open_engine("cpu", str(broken))


def _external_model(folder, location="weights.bin"):
    """An ONNX 'style' whose constant lives in an external data file, then pointed at ``location``."""
    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["n", 3, "h", "w"])
    y = helper.make_tensor_value_info("styled", TensorProto.FLOAT, ["n", 3, "h", "w"])
    k = helper.make_tensor("k", TensorProto.FLOAT, [3, 1, 1], np.ones(3, np.float32).tobytes(), raw=True)
    graph = helper.make_graph([helper.make_node("Sub", ["k", "pixels"], ["styled"])], "invert", [x], [y], [k])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = folder / "model.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, location="weights.bin", size_threshold=0)
    if location != "weights.bin":
        model = onnx.load(str(path), load_external_data=False)
        for entry in model.graph.initializer[0].external_data:
            if entry.key == "location":
                entry.value = location
        onnx.save_model(model, str(path))
    return path


def test_external_data_inside_the_folder_is_used(tmp_path):
    from engines.networks.external_data import external_locations

    assert external_locations(_external_model(tmp_path)) == ["weights.bin"]  # the case below is real
    engine = open_engine("cpu", str(_external_model(tmp_path)))
    frame = TestScene(64, 48).frame(0.0)
    assert np.abs(engine.stylize_one(frame).astype(int) - (255 - frame.astype(int))).max() <= 1


@pytest.mark.parametrize("where", ["../outside.bin", "/tmp/../etc/outside.bin", "link.bin", "sub/../../outside.bin"])
def test_external_data_outside_the_folder_is_refused_before_any_read(tmp_path, where):
    folder = tmp_path / "model"
    folder.mkdir()
    outside = tmp_path / "outside.bin"
    os.mkfifo(outside)  # anything that opened it for reading would hang the test
    (folder / "link.bin").symlink_to(outside)
    path = _external_model(folder, where)
    with pytest.raises(StyleError, match="outside its folder"):
        open_engine("cpu", str(path))
    code, _, err = run_cli("render", "--style", str(path), "-o", str(tmp_path / "out.mp4"))
    assert code == 2 and "outside its folder" in one_error_line(err)
    assert not (tmp_path / "out.mp4").exists()
