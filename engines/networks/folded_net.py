"""A style network with one style fixed in, in PyTorch: the stack both packaged networks share.

Magenta's two transformers, the 26-style network and the picture-style one, are the same stack:
three contracting convolutions (9x9, then two 3x3 with stride 2), residual blocks at a quarter of
the size, two nearest 2x upsamplings each followed by a 3x3 convolution, and a final 9x9 into a
sigmoid. Every convolution pads by reflection. After each one comes either an instance norm with a
per-style scale and shift (where the style lives) or, in the picture network's contracting layers,
a plain bias. Once a style is chosen every layer is a convolution and a (scale, shift): a
``FoldedLayer``. ``FoldedNet`` runs such a stack in any float type on any device: the GPU engines'
network (engines/runtimes/cuda.py, the graph TensorRT compiles); engines/runtimes/bf16_network.py runs the same
layers on a CPU in bf16.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

EPS = 1e-5
CONTRACT = ("contract.0", "contract.1", "contract.2")
EXPAND = ("expand.0", "expand.1", "expand.2")


def layer_names(blocks: int) -> tuple[str, ...]:
    """Every layer of a stack with ``blocks`` residual blocks, in the order they run."""
    return (*CONTRACT, *(f"res.{i}.{j}" for i in range(blocks) for j in range(2)), *EXPAND)


def residual_blocks(names) -> int:
    return sum(1 for name in names if name.startswith("res.")) // 2


@dataclass(frozen=True)
class FoldedLayer:
    """One convolution (no bias of its own) and what follows it: an instance norm with ``scale`` and
    ``shift`` per channel, or, where ``scale`` is None, ``shift`` added as the convolution's bias."""

    weight: torch.Tensor  # [out, in, k, k]
    shift: torch.Tensor   # [out]
    scale: torch.Tensor | None = None
    stride: int = 1

    @property
    def pad(self) -> int:
        return self.weight.shape[-1] // 2


class _Layer(nn.Module):
    def __init__(self, layer: FoldedLayer):
        super().__init__()
        self.weight = nn.Parameter(layer.weight.detach().clone(), requires_grad=False)
        self.shift = nn.Parameter(layer.shift.detach().clone(), requires_grad=False)
        self.normed = layer.scale is not None
        self.scale = nn.Parameter((layer.scale if self.normed else torch.ones_like(layer.shift)).detach().clone(),
                                  requires_grad=False)
        self.stride, self.pad = layer.stride, layer.pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (self.pad,) * 4, mode="reflect")
        if not self.normed:
            return F.conv2d(x, self.weight, self.shift, stride=self.stride)
        x = F.conv2d(x, self.weight, stride=self.stride)
        # the statistics in float32 whatever the compute type (fp16 sums over a 1080p plane overflow)
        normed = F.instance_norm(x.float(), eps=EPS).to(x.dtype)
        return normed * self.scale[:, None, None] + self.shift[:, None, None]


class FoldedNet(nn.Module):
    """image [N,3,H,W] in 0..1 (H, W multiples of 4) -> stylized [N,3,H,W] in 0..1, one style fixed in."""

    def __init__(self, layers: dict[str, FoldedLayer]):
        super().__init__()
        self.blocks = residual_blocks(layers)
        if tuple(layers) != layer_names(self.blocks):
            raise ValueError(f"not a style network's layers: {', '.join(layers)}")
        self.layers = nn.ModuleDict({name.replace(".", "_"): _Layer(layer) for name, layer in layers.items()})

    def _run(self, name: str, x: torch.Tensor) -> torch.Tensor:
        return self.layers[name.replace(".", "_")](x)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = image
        for name in CONTRACT:
            x = F.relu(self._run(name, x))
        for i in range(self.blocks):
            x = x + self._run(f"res.{i}.1", F.relu(self._run(f"res.{i}.0", x)))
        for name in EXPAND[:2]:
            x = F.relu(self._run(name, F.interpolate(x, scale_factor=2.0, mode="nearest")))
        return torch.sigmoid(self._run(EXPAND[2], x))
