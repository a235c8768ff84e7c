"""A style as the layers of a torch network (engines/networks/folded_net.py), for the engines that run one:
bf16 on the CPU, torch CUDA and TensorRT on a GPU.

Built-in styles and blends fold into the 26-style network; a picture folds into the picture-style
transformer through its style vector (the predictor runs once, on the CPU, in ONNX Runtime). User
models have no such form and run on the CPU engine's ONNX Runtime.
"""
from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING

import numpy as np

from engines.catalog import Style, builtin_model
from engines.errors import StyleError

if TYPE_CHECKING:  # torch is imported only by the engines that run these layers
    from .folded_net import FoldedLayer

TORCH_KINDS = ("builtin", "image")  # the style kinds that have layers here


@functools.lru_cache(maxsize=1)
def packaged_multistyle_net():
    from .multistyle_net import MultistyleNet

    return MultistyleNet.from_onnx(builtin_model()).eval()


@functools.lru_cache(maxsize=1)
def _predictor():
    import onnxruntime as ort

    from engines.models import ARBITRARY_PREDICT, packaged_model

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(packaged_model(ARBITRARY_PREDICT)), options, providers=["CPUExecutionProvider"])


def picture_vector(style: Style) -> np.ndarray:
    """The 100-number style vector of a picture style."""
    from .onnx_networks import read_style_image, style_vector

    return style_vector(_predictor(), read_style_image(style.path))


def check_torch_style(style: Style, engine: str) -> None:
    """A StyleError that says which engine runs ``style`` where ``engine`` (a torch one) cannot."""
    if style.kind not in TORCH_KINDS:
        raise StyleError(f"the {engine} engine runs the built-in styles, blends and pictures; {style.name} is a "
                         f"{style.kind} model: use --engine cpu for it")


def style_layers(style: Style, engine: str, vector: np.ndarray | None = None) -> dict[str, FoldedLayer]:
    """``style``'s layers with its scale and shift folded in; ``vector``: a picture's style vector
    when the caller has it already."""
    check_torch_style(style, engine)
    if style.kind == "builtin":
        return packaged_multistyle_net().folded_layers(style.weights)
    from .picture_net import packaged_picture_net

    return packaged_picture_net().folded_layers(picture_vector(style) if vector is None else vector)


def layers_digest(layers: dict[str, FoldedLayer]) -> str:
    """A name for these exact numbers (the key of a compiled graph made from them)."""
    digest = hashlib.sha256()
    for name, layer in layers.items():
        digest.update(name.encode())
        for tensor in (layer.weight, layer.shift, layer.scale):
            if tensor is not None:
                digest.update(tensor.detach().float().contiguous().numpy().tobytes())
        digest.update(str(layer.stride).encode())
    return digest.hexdigest()
