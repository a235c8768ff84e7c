"""What a job's start costs: once the packaged networks' rewritten files and weights are in the
cache, opening an engine and painting a frame never imports onnx (its ml_dtypes alone is 0.4 s of
every start; engines/networks/initializers.py), and paints the same pictures as the start that
made the cache; the command line builds its help without a web server's imports."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from engines.runtimes.cpu_features import bf16_usable
from stream.media.testsrc import TestScene

pytestmark = pytest.mark.quick
ROOT = Path(__file__).resolve().parents[2]
PAINT = """
import json, sys
import numpy as np
from engines import open_engine
frame = np.load(sys.argv[1])
means = {}
for style, precision in json.loads(sys.argv[2]):
    engine = open_engine("cpu", style, precision=precision)
    means[f"{style} {precision}"] = float(engine.stylize_one(frame).astype(np.float64).mean())
print(json.dumps({"onnx": "onnx" in sys.modules, "means": means}))
"""


def test_a_start_with_the_networks_in_the_cache_never_imports_onnx(tmp_path):
    frame = tmp_path / "frame.npy"
    np.save(frame, TestScene(160, 96, seed=3).frame(0.5))
    cv2.imwrite(str(tmp_path / "painting.png"), TestScene(128, 128, seed=11).frame(0.0))
    wanted = [("starry-night", "fp32"), (str(tmp_path / "painting.png"), "fp32")]
    if bf16_usable():  # the torch networks, built from the weights in the cache
        wanted += [("starry-night", "bf16"), (str(tmp_path / "painting.png"), "bf16")]
    env = {**os.environ, "STYLECAST_CACHE": str(tmp_path / "cache"), "STYLECAST_CPU_RUNTIME": "onnxruntime"}

    def start() -> dict:
        proc = subprocess.run([sys.executable, "-c", PAINT, str(frame), json.dumps(wanted)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.splitlines()[-1])

    first, again = start(), start()
    assert first["onnx"], "the first start rewrites the packaged files through onnx"
    assert not again["onnx"], "a start with the cache filled imported onnx"
    assert again["means"] == first["means"] and len(again["means"]) == len(wanted)


def test_a_damaged_weights_file_in_the_cache_is_made_again(tmp_path, monkeypatch):
    """A cut-short copy (a full disk, a killed process) is read as no copy: the same weights."""
    from engines.catalog import builtin_model
    from engines.networks.initializers import initializers

    monkeypatch.setenv("STYLECAST_CACHE", str(tmp_path / "cache"))
    first = initializers(builtin_model())
    (cached,) = (tmp_path / "cache" / "models").glob("*-weights-*.npz")
    cached.write_bytes(cached.read_bytes()[:1000])
    again = initializers(builtin_model())
    assert again.keys() == first.keys() and all(np.array_equal(again[k], first[k]) for k in first)
    assert np.load(cached, allow_pickle=False).files  # and written whole again


def test_the_command_line_imports_no_web_server_to_build_its_help():
    """``stylecast`` reads every job's options for its help: aiohttp (0.08 s) waits for a server."""
    proc = subprocess.run([sys.executable, "-c", "import sys, stream.cli; print('aiohttp' in sys.modules)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.split() == ["False"], proc.stderr
