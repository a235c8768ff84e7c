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

Styles of one network differ only in their norms' scale and shift, so one batch can carry a style
per frame: ``looks_of(layers)`` packs a style's scales and shifts into one vector, and
``FoldedNet(image, looks)`` with ``looks`` [N, looks_width] runs each frame with its own (a server's
viewers in one batch, stream/serve/batcher.py).
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
    """A layer in its reference form: reflect pad, convolution, ``F.instance_norm`` on float32 (what
    TensorRT's ONNX export compiles, and what the fast form is checked against)."""

    def __init__(self, layer: FoldedLayer):
        super().__init__()
        self.weight = nn.Parameter(layer.weight.detach().clone(), requires_grad=False)
        self.shift = nn.Parameter(layer.shift.detach().clone(), requires_grad=False)
        self.normed = layer.scale is not None
        self.scale = nn.Parameter((layer.scale if self.normed else torch.ones_like(layer.shift)).detach().clone(),
                                  requires_grad=False)
        self.stride, self.pad = layer.stride, layer.pad

    def forward(self, x: torch.Tensor, relu: bool = False) -> torch.Tensor:
        x = F.pad(x, (self.pad,) * 4, mode="reflect")
        if not self.normed:
            x = F.conv2d(x, self.weight, self.shift, stride=self.stride)
        else:
            x = F.conv2d(x, self.weight, stride=self.stride)
            # the statistics in float32 whatever the compute type (fp16 sums over a 1080p plane overflow)
            x = F.instance_norm(x.float(), eps=EPS).to(x.dtype) * self.scale[:, None, None] + self.shift[:, None, None]
        return F.relu(x) if relu else x


class _FastLayer(_Layer):
    """The same layer in the form a GPU runs fast: the statistics as one float32 ``var_mean`` and the
    norm, scale, shift and ReLU as one multiply-add (``F.instance_norm`` lowers to batch norm over
    N x C planes: 32 thread blocks for a whole 1080p frame). ``upsample``: the nearest 2x enlargement
    and this 3x3 convolution as one convolution at the small size giving the four phases of each
    2x2 block (weights summed per phase; the reflect border of the enlarged picture is the edge
    repeated in the small one), then ``pixel_shuffle``: the 4x larger input is never written."""

    def __init__(self, layer: FoldedLayer, upsample: bool = False):
        super().__init__(layer)
        self.upsample = upsample
        if upsample:
            self.weight = nn.Parameter(phase_weights(self.weight.detach()), requires_grad=False)

    def forward(self, x: torch.Tensor, relu: bool = False, look: torch.Tensor | None = None) -> torch.Tensor:
        """``look``: [N, 2C] float32, each frame's own scale then shift (else the layer's own)."""
        if self.upsample:
            x = F.pixel_shuffle(F.conv2d(_edge_repeated(x), self.weight), 2)
        else:
            x = F.conv2d(F.pad(x, (self.pad,) * 4, mode="reflect"), self.weight, stride=self.stride)
        if not self.normed:
            x = x + self.shift.to(x.dtype)[:, None, None]
            return F.relu(x) if relu else x
        scale, shift = (self.scale, self.shift) if look is None else look[:, :, None, None].chunk(2, dim=1)
        if look is None:
            scale, shift = scale[:, None, None], shift[:, None, None]
        var, mean = torch.var_mean(x.float(), dim=(2, 3), correction=0, keepdim=True)
        gain = scale * torch.rsqrt(var + EPS)                                     # [N, C, 1, 1], float32
        x = torch.addcmul((shift - mean * gain).to(x.dtype), x, gain.to(x.dtype))
        return F.relu(x) if relu else x


def _edge_repeated(x: torch.Tensor) -> torch.Tensor:
    """x with its edge rows and columns repeated once (F.pad's "replicate", written as two
    concatenations: inductor's C++ code for a replicate pad of an enlarged picture fails to build,
    "vr must not be None", in torch 2.13)."""
    x = torch.cat([x[:, :, :1], x, x[:, :, -1:]], 2)
    return torch.cat([x[:, :, :, :1], x, x[:, :, :, -1:]], 3)


def phase_weights(weight: torch.Tensor) -> torch.Tensor:
    """A 3x3 kernel [out, in, 3, 3] that follows a nearest 2x enlargement, as [4*out, in, 3, 3] on the
    small picture: phase (dy, dx) of each 2x2 block, in ``pixel_shuffle``'s order. Rows 2i-1, 2i, 2i+1
    of the enlarged picture are rows i-1, i, i of the small one (dy 0); 2i, 2i+1, 2i+2 are i, i, i+1."""
    out, cin = weight.shape[:2]
    merge = (lambda k: torch.stack([k[0], k[1] + k[2]]), lambda k: torch.stack([k[0] + k[1], k[2]]))
    phases = torch.zeros(out, 4, cin, 3, 3, dtype=weight.dtype)
    for dy in (0, 1):
        rows = merge[dy](weight.permute(2, 0, 1, 3))                      # [2, out, in, 3]: the kernel's rows merged
        for dx in (0, 1):
            both = merge[dx](rows.permute(3, 1, 2, 0))                     # [2, out, in, 2]: then its columns
            phases[:, 2 * dy + dx, :, dy:dy + 2, dx:dx + 2] = both.permute(1, 2, 3, 0)
    return phases.reshape(out * 4, cin, 3, 3)


def folded_weights(weight: torch.Tensor) -> torch.Tensor:
    """A k x k kernel [out, in, k, k] (k odd, stride 1, the input padded by k // 2) as the same
    convolution on the picture folded 2x2 into channels (``pixel_unshuffle``), giving the four phases
    of each 2x2 block of the output (``pixel_shuffle``'s order): [4*out, 4*in, k//2 + 1, k//2 + 1].
    Output pixel (2i+ry, 2j+rx) reads input (2i+ry+dy, 2j+rx+dx), which is folded pixel
    (i + (ry+dy)//2, j + (rx+dx)//2), channel 4c + 2((ry+dy) % 2) + (rx+dx) % 2. The same
    multiply-adds, plus the taps that fall outside the kernel (zeros): worth it where a layer has
    few outputs, which a CPU's convolution pads to a block of 16."""
    out, cin, k, _ = weight.shape
    taps = k // 2 + 1
    folded = torch.zeros(out, 2, 2, cin, 2, 2, taps, taps, dtype=weight.dtype)
    for ry in range(2):
        for rx in range(2):
            for dy in range(k):
                for dx in range(k):
                    y, x = ry + dy, rx + dx
                    folded[:, ry, rx, :, y % 2, x % 2, y // 2, x // 2] = weight[:, :, dy, dx]
    return folded.reshape(out * 4, cin * 4, taps, taps)


class FoldedNet(nn.Module):
    """image [N,3,H,W] in 0..1 (H, W multiples of 4) -> stylized [N,3,H,W] in 0..1, one style fixed in.
    ``fast`` (the torch engines' form, _FastLayer) or the reference form (TensorRT's export)."""

    def __init__(self, layers: dict[str, FoldedLayer], fast: bool = True):
        super().__init__()
        self.blocks = residual_blocks(layers)
        if tuple(layers) != layer_names(self.blocks):
            raise ValueError(f"not a style network's layers: {', '.join(layers)}")
        self.fast = fast
        make = (lambda name, layer: _FastLayer(layer, upsample=name in EXPAND[:2])) if fast else (lambda _, layer: _Layer(layer))
        self.layers = nn.ModuleDict({name.replace(".", "_"): make(name, layer) for name, layer in layers.items()})

        self._spans = _look_spans(layers)
        self.looks_width = sum(b - a for a, b in self._spans.values())

    def _run(self, name: str, x: torch.Tensor, looks: torch.Tensor | None, relu: bool = False) -> torch.Tensor:
        layer = self.layers[name.replace(".", "_")]
        if looks is None or name not in self._spans:
            return layer(x, relu)
        a, b = self._spans[name]
        return layer(x, relu, looks[:, a:b])

    def forward(self, image: torch.Tensor, looks: torch.Tensor | None = None) -> torch.Tensor:
        """``looks``: [N, looks_width] float32, a style per frame (``looks_of``); else the one fixed in."""
        if looks is not None and not self.fast:
            raise ValueError("a look per frame needs the fast form")
        x = image
        for name in CONTRACT:
            x = self._run(name, x, looks, relu=True)
        for i in range(self.blocks):
            x = x + self._run(f"res.{i}.1", self._run(f"res.{i}.0", x, looks, relu=True), looks)
        for name in EXPAND[:2]:
            if not self.fast:  # the fast layers enlarge inside their convolution
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = self._run(name, x, looks, relu=True)
        return torch.sigmoid(self._run(EXPAND[2], x, looks))


def _look_spans(layers: dict[str, FoldedLayer]) -> dict[str, tuple[int, int]]:
    """Where each normed layer's scale and shift lie in a packed look."""
    spans, at = {}, 0
    for name, layer in layers.items():
        if layer.scale is not None:
            spans[name] = (at, at + 2 * layer.scale.numel())
            at += 2 * layer.scale.numel()
    return spans


def looks_of(layers: dict[str, FoldedLayer]) -> torch.Tensor:
    """A style's look packed for ``FoldedNet(image, looks)``: each normed layer's scale, then its
    shift, in the order the layers run; float32 [looks_width]."""
    return torch.cat([torch.cat([layer.scale, layer.shift]).float() for layer in layers.values()
                      if layer.scale is not None])
