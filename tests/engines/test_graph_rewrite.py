"""The fused 26-style graph gives the same pictures as the packaged one, for single styles and blends."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from engines.catalog import builtin_model
from engines.networks.graph_rewrite import fuse_instance_norms, fused_model

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


def test_every_instance_norm_is_fused_and_the_output_is_unchanged():
    original = onnx.load(str(builtin_model()))
    fused, count = fuse_instance_norms(original)
    assert count == 18
    ops = [n.op_type for n in fused.graph.node]
    assert ops.count("InstanceNormalization") == 18 and "Sqrt" not in ops and "Pow" not in ops
    a = ort.InferenceSession(original.SerializeToString(), providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(fused.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    x = rng.random((1, 3, 68, 124), np.float32)
    for weights in (np.eye(26, dtype=np.float32)[19], np.full(26, 1 / 26, np.float32)):
        ya = a.run(None, {"image": x, "style_weights": weights})[0]
        yb = b.run(None, {"image": x, "style_weights": weights})[0]
        assert np.abs(ya - yb).max() < 1e-4


def test_fused_model_is_cached_once():
    first = fused_model(builtin_model())
    stamp = first.stat().st_mtime_ns
    assert fused_model(builtin_model()) == first and first.stat().st_mtime_ns == stamp
    assert first != builtin_model()
