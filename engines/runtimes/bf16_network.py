"""The style networks in bfloat16 on the CPU, for processors with BF16 matrix instructions (AMX).

Runs any stack of engines/networks/folded_net.py: the 26-style network with a style or blend folded in, and
the picture-style transformer with a picture's style vector folded in (engines/networks/picture_net.py).

ONNX Runtime runs the network in fp32 near the arithmetic limit of two cores (issue #7). On a CPU
with AMX, oneDNN's bf16 convolutions (through torch) are 6-15x faster than fp32 ones, so the
convolutions stop being the cost and the passes over memory between them start to be. This module
keeps those passes few and cheap:
- one style's scale and shift are fixed in (``FoldedLayer``), so a frame runs no style math;
- activations stay bf16 and channels-last (the layout oneDNN's AMX kernels read), and the frame's
  HWC bytes are that layout already;
- each instance norm is one ``batch_norm`` in training mode (a batch of one: the same statistics),
  which sums in fp32 and applies scale and shift in the same pass;
- each layer's input is written once, straight into a buffer with the layer's reflect border (ReLU,
  residual add or 2x upsampling on the way in), where ReLU and then ``F.pad`` were two passes and
  torch's channels-last reflect pad alone was a third of the frame (640x360: 32 against 40 ms).

The output differs from ONNX Runtime's fp32 by 0.003 on average (0..1 pixels): under one level of
255. ``tests/engines/test_bf16_network.py`` holds it to the fp32 look.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from engines.networks.folded_net import CONTRACT, EPS, FoldedLayer, residual_blocks

from .heap import keep_freed_memory

CHANNELS_LAST = torch.channels_last
FEW_CHANNELS = 8  # layers this narrow normalize in planes (NCHW)


class Bf16Network:
    """One style of a style network (engines/networks/folded_net.py: the 26-style network's, a blend's or a
    picture's): uint8 HWC RGB -> uint8 HWC RGB, same size. Safe to call from several threads at once
    (nothing is written but the frame's own tensors)."""

    def __init__(self, layers: dict[str, FoldedLayer]):
        keep_freed_memory()
        self.names = tuple(layers)
        self.blocks = residual_blocks(layers)
        self.layers = {}
        for name, layer in layers.items():
            weight = layer.weight / 255 if name == CONTRACT[0] else layer.weight  # frames come in 0..255
            bias = layer.shift.to(torch.bfloat16) if layer.scale is None else None
            scale = None if layer.scale is None else layer.scale.contiguous()
            self.layers[name] = (weight.to(memory_format=CHANNELS_LAST, dtype=torch.bfloat16), scale,
                                 layer.shift.contiguous(), layer.stride, layer.pad, bias)

    def _conv_norm(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """x already padded for this layer -> its convolution, normalized (scale and shift applied)."""
        weight, scale, shift, stride, _, bias = self.layers[name]
        if bias is not None:  # a layer without a norm: its bias, in the convolution
            return F.conv2d(x, weight, bias, stride=stride)
        x = F.conv2d(x, weight, stride=stride)
        if x.shape[1] <= FEW_CHANNELS:  # planes: batch_norm's channels-last kernel is slow on a few channels
            x = x.contiguous()
        return F.batch_norm(x, None, None, scale, shift, training=True, eps=EPS)

    def _padded_for(self, name: str, x: torch.Tensor, relu: bool = False, add: torch.Tensor | None = None,
                    upsample: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """The input of layer ``name``: x (ReLU'd, plus ``add``, and/or upsampled 2x) written straight
        into a buffer with that layer's reflect border, which is then filled from the inside. One pass
        over memory, where ReLU and then ``F.pad`` took two (and torch's channels-last reflect pad is
        slow). Returns the buffer and the view of its inside."""
        p = self.layers[name][4]
        n, c, h, w = x.shape
        if upsample:
            h, w = 2 * h, 2 * w
        out = torch.empty((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype, memory_format=CHANNELS_LAST)
        inside = out[:, :, p:p + h, p:p + w]
        # nearest upsampling: each pixel to a 2x2 block, as four strided writes
        for target in [inside[:, :, dy::2, dx::2] for dy in (0, 1) for dx in (0, 1)] if upsample else [inside]:
            if relu:  # on the bits: a bf16 is negative exactly when its int16 is (2x faster than relu in torch 2.13)
                torch.clamp_min(x.view(torch.int16), 0, out=target.view(torch.int16))
            elif add is not None:
                torch.add(x, add, out=target)
            else:
                target.copy_(x)
        for j in range(p):  # reflect: columns from the inside out, then whole rows (corners included)
            out[:, :, p:p + h, j].copy_(out[:, :, p:p + h, 2 * p - j])
            out[:, :, p:p + h, p + w + j].copy_(out[:, :, p:p + h, p + w - 2 - j])
        for i in range(p):
            out[:, :, i].copy_(out[:, :, 2 * p - i])
            out[:, :, p + h + i].copy_(out[:, :, p + h - 2 - i])
        return out, inside

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """bf16 [1,3,H+8,W+8] in 0..255, H and W multiples of 4, already reflect-padded by 4 for the
        first 9x9 convolution -> bf16 [1,3,H,W] in 0..1."""
        for name, following in zip(self.names[:3], self.names[1:4]):
            x, inside = self._padded_for(following, self._conv_norm(name, x), relu=True)
        # each residual block: x is its input with the border, inside the same without (what it adds)
        for i in range(self.blocks):
            y, _ = self._padded_for(f"res.{i}.1", self._conv_norm(f"res.{i}.0", x), relu=True)
            y = self._conv_norm(f"res.{i}.1", y)
            if i < self.blocks - 1:
                x, inside = self._padded_for(f"res.{i + 1}.0", y, add=inside)
        x, _ = self._padded_for("expand.0", y.add_(inside), upsample=True)
        x, _ = self._padded_for("expand.1", self._conv_norm("expand.0", x), relu=True, upsample=True)
        x, _ = self._padded_for("expand.2", self._conv_norm("expand.1", x), relu=True)
        return torch.sigmoid(self._conv_norm("expand.2", x))

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        first = self.layers[CONTRACT[0]][4]
        # reflect padding on the bytes (cv2's REFLECT_101 is torch's and ONNX's "reflect"): first up to a
        # multiple of 4, as the fp32 path does, then the first convolution's own border
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:
            frame = cv2.copyMakeBorder(frame, 0, ph, 0, pw, cv2.BORDER_REFLECT_101)
        frame = cv2.copyMakeBorder(frame, first, first, first, first, cv2.BORDER_REFLECT_101)
        with torch.inference_mode():
            # HWC bytes are a channels-last [1,3,H,W] view; 0..255 is exact in bf16 (the /255 is in the weights)
            x = torch.from_numpy(frame).permute(2, 0, 1)[None].to(torch.bfloat16)
            y = self.forward(x)[:, :, :h, :w].float().mul_(255).add_(0.5).clamp_(0, 255)
            return y.to(torch.uint8)[0].permute(1, 2, 0).contiguous().numpy()
