"""The 26-style network in PyTorch, with its weights read from the packaged ONNX file.

Same layers as the ONNX graph (checked against ONNX Runtime in tests/engines/test_torch_network.py):
a 9x9 and two strided 3x3 convolutions, six residual blocks at a quarter size, two nearest
upsamplings with 3x3 convolutions and a final 9x9, each followed by a conditional instance norm
whose scale and shift are the style weights' mix of 26 learned rows. Every convolution pads by
reflection and has no bias. Weights come from the ONNX initializers (numbers only, no pickle).

``fold(weights)`` returns the stack with one style's scale and shift fixed in (no style input,
engines/networks/folded_net.py): the network that the GPU engines run and compile for a fixed style.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .folded_net import EPS, FoldedLayer, FoldedNet, layer_names

LAYERS = layer_names(6)


class ConvNorm(nn.Module):
    """Reflect pad, convolution without bias, instance norm with a per-style scale and shift."""

    def __init__(self, weight: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, stride: int = 1):
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.gamma = nn.Parameter(gamma, requires_grad=False)   # [26, C] or [1, C] once folded
        self.beta = nn.Parameter(beta, requires_grad=False)
        self.stride, self.pad = stride, weight.shape[-1] // 2

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(F.pad(x, (self.pad,) * 4, mode="reflect"), self.weight, stride=self.stride)
        scale = (style @ self.gamma)[:, :, None, None]
        shift = (style @ self.beta)[:, :, None, None]
        # the statistics in float32 whatever the compute type (fp16 sums over a 1080p plane overflow)
        normed = F.instance_norm(x.float(), eps=EPS).to(x.dtype)
        return normed * scale.to(x.dtype) + shift.to(x.dtype)


class MultistyleNet(nn.Module):
    """image [N,3,H,W] in 0..1 (H, W multiples of 4) + style weights [N or 1, 26] -> [N,3,H,W] in 0..1."""

    def __init__(self, layers: dict[str, ConvNorm]):
        super().__init__()
        self.layers = nn.ModuleDict({name.replace(".", "_"): layer for name, layer in layers.items()})

    def _layer(self, name: str) -> ConvNorm:
        return self.layers[name.replace(".", "_")]

    def forward(self, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        x = image
        for name in LAYERS[:3]:
            x = F.relu(self._layer(name)(x, style))
        for i in range(6):
            y = F.relu(self._layer(f"res.{i}.0")(x, style))
            x = x + self._layer(f"res.{i}.1")(y, style)
        for name in ("expand.0", "expand.1"):
            x = F.relu(self._layer(name)(F.interpolate(x, scale_factor=2.0, mode="nearest"), style))
        return torch.sigmoid(self._layer("expand.2")(x, style))

    @classmethod
    def from_onnx(cls, path: Path) -> MultistyleNet:
        from .graph_rewrite import low_rank_kernel
        from .initializers import initializers

        weights = {name: torch.from_numpy(array) for name, array in initializers(path).items()}
        # the first and last kernels as the CPU engine's rewritten graph runs them (engines/networks/graph_rewrite.py)
        for name in ("contract.0.w", "expand.2.w"):
            weights[name] = torch.from_numpy(low_rank_kernel(weights[name].numpy()))
        stride = {"contract.1": 2, "contract.2": 2}
        return cls({name: ConvNorm(weights[f"{name}.w"], weights[f"{name}.norm.gamma"], weights[f"{name}.norm.beta"],
                                   stride.get(name, 1)) for name in LAYERS})

    def folded_layers(self, weights: np.ndarray) -> dict[str, FoldedLayer]:
        """Each layer with the scale and shift of style ``weights`` (a mix of the 26) computed once."""
        style = torch.as_tensor(np.asarray(weights, np.float32))[None]
        return {name: FoldedLayer(layer.weight.data, (style @ layer.beta.data)[0], (style @ layer.gamma.data)[0],
                                  layer.stride)
                for name, layer in ((name, self._layer(name)) for name in LAYERS)}

    def fold(self, weights: np.ndarray) -> FoldedNet:
        return FoldedNet(self.folded_layers(weights))
