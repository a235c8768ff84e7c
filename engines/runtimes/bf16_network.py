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
- each layer's input is written once, straight into a buffer with the layer's reflect border (ReLU
  or residual add on the way in), where ReLU and then ``F.pad`` were two passes and torch's
  channels-last reflect pad alone was a third of the frame (640x360: 32 against 40 ms);
- the two layers after a 2x enlargement run at the small size, giving the four phases of each 2x2
  block (``phase_weights``): the enlarged picture is never written;
- the last layer (4 channels to 3, 9x9) runs on the picture folded 2x2 into channels
  (``folded_weights``): oneDNN computes a block of 16 outputs whatever a layer has, so 12 fill it
  where 3 used a fifth (1280x720: 22 against 13 ms with the folds);
- the first layer reads the frame's bytes as an int8 convolution where the CPU has VNNI beside
  AVX-512 BF16 and no AMX (engines/runtimes/byte_conv.py): 59 against 40 ms at 1280x720 on Zen 4,
  its look as close to fp32 as bf16's or closer.

The output differs from ONNX Runtime's fp32 by 0.003 on average (0..1 pixels): under one level of
255. ``tests/engines/test_bf16_network.py`` holds it to the fp32 look.
"""
from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from engines.networks.folded_net import (
    CONTRACT,
    EPS,
    EXPAND,
    FoldedLayer,
    folded_weights,
    phase_weights,
    residual_blocks,
)

from .byte_conv import ByteConv, byte_conv_usable
from .heap import keep_freed_memory

CHANNELS_LAST = torch.channels_last
FEW_CHANNELS = 8  # layers this narrow normalize in planes (NCHW)
FORM = "2: upsamplings at the small size, the last layer folded, the first on bytes"  # what runs here, for
# the runtime choice's timings kept in the cache (engines/runtimes/runtime_choice.py): change it with the speed


class _LayerForm(NamedTuple):
    weight: torch.Tensor              # bf16, channels-last: the layer's own, or its form's (below)
    scale: torch.Tensor | None        # the norm's scale and shift (float32); None: ``bias`` instead
    shift: torch.Tensor
    stride: int
    pad: int                          # the border its input is written with
    bias: torch.Tensor | None
    form: str                         # "plain"; "phases": after a 2x enlargement, run at the small
                                      # size; "folded": on the picture folded 2x2 into channels


PLAIN, PHASES, FOLDED = "plain", "phases", "folded"
FOLD_OUTPUTS = 4  # a layer with this few outputs (and a kernel of 5 or more) runs on the folded picture


class Bf16Network:
    """One style of a style network (engines/networks/folded_net.py: the 26-style network's, a blend's or a
    picture's): uint8 HWC RGB -> uint8 HWC RGB, same size. Safe to call from several threads at once
    (nothing is written but the frame's own tensors)."""

    def __init__(self, layers: dict[str, FoldedLayer]):
        keep_freed_memory()
        self.names = tuple(layers)
        self.blocks = residual_blocks(layers)
        self.layers = {name: self._layer(name, layer) for name, layer in layers.items()}
        first = layers[CONTRACT[0]]  # on the frame's bytes, as int8, where the CPU runs that faster
        self.first = ByteConv.rounded(first.weight / 255, first.scale is not None,
                                      None if first.scale is not None else first.shift) if byte_conv_usable() else None

    @staticmethod
    def _layer(name: str, layer: FoldedLayer) -> _LayerForm:
        weight = layer.weight / 255 if name == CONTRACT[0] else layer.weight  # frames come in 0..255
        out, _, k, _ = weight.shape
        form, pad = PLAIN, layer.pad
        if name in EXPAND[:2]:  # the upsamplings: never written at the large size
            form, weight, pad = PHASES, phase_weights(weight), 1
        elif layer.stride == 1 and out <= FOLD_OUTPUTS and k >= 5:
            form, weight = FOLDED, folded_weights(weight)
        repeat = 1 if form == PLAIN else 4  # a phased or folded layer gives each output four times
        bias = layer.shift.repeat_interleave(repeat).to(torch.bfloat16) if layer.scale is None else None
        scale = None if layer.scale is None else layer.scale.contiguous()
        return _LayerForm(weight.to(memory_format=CHANNELS_LAST, dtype=torch.bfloat16), scale,
                          layer.shift.contiguous(), layer.stride, pad, bias, form)

    def _conv_norm(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """x already padded for this layer -> its convolution, normalized (scale and shift applied)."""
        layer = self.layers[name]
        if x.dtype == torch.uint8:  # the frame's bytes: the first layer (ByteConv)
            x = self.first(x)
        else:
            if layer.form == FOLDED:
                x = F.pixel_unshuffle(x, 2)
            x = F.conv2d(x, layer.weight, layer.bias, stride=layer.stride)
            if layer.form != PLAIN:  # the four phases of each 2x2 block, put in place
                x = F.pixel_shuffle(x, 2)
        if layer.scale is None:  # a layer without a norm: its bias, in the convolution
            return x
        if x.shape[1] <= FEW_CHANNELS:  # planes: batch_norm's channels-last kernel is slow on a few channels
            x = x.contiguous()
        return F.batch_norm(x, None, None, layer.scale, layer.shift, training=True, eps=EPS)

    def _padded_for(self, name: str, x: torch.Tensor, relu: bool = False,
                    add: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The input of layer ``name``: x (ReLU'd, or plus ``add``) written straight into a buffer with
        that layer's border, which is then filled from the inside: reflected, or for a phased layer
        the edge repeated (the reflected border of the enlarged picture it stands for). One pass over
        memory, where ReLU and then ``F.pad`` took two (and torch's channels-last reflect pad is
        slow). Returns the buffer and the view of its inside."""
        layer = self.layers[name]
        p, n, c, h, w = layer.pad, *x.shape
        out = torch.empty((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype, memory_format=CHANNELS_LAST)
        inside = out[:, :, p:p + h, p:p + w]
        if relu:  # on the bits: a bf16 is negative exactly when its int16 is (2x faster than relu in torch 2.13)
            torch.clamp_min(x.view(torch.int16), 0, out=inside.view(torch.int16))
        elif add is not None:
            torch.add(x, add, out=inside)
        else:
            inside.copy_(x)
        edge = layer.form == PHASES
        for j in range(p):  # columns from the inside out, then whole rows (corners included)
            out[:, :, p:p + h, j].copy_(out[:, :, p:p + h, p if edge else 2 * p - j])
            out[:, :, p:p + h, p + w + j].copy_(out[:, :, p:p + h, p + w - 1 if edge else p + w - 2 - j])
        for i in range(p):
            out[:, :, i].copy_(out[:, :, p if edge else 2 * p - i])
            out[:, :, p + h + i].copy_(out[:, :, p + h - 1 if edge else p + h - 2 - i])
        return out, inside

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[1,3,H+8,W+8] in 0..255 (uint8 where the first layer reads bytes, ``self.first``; else bf16),
        H and W multiples of 4, already reflect-padded by 4 for the first 9x9 convolution -> bf16
        [1,3,H,W] in 0..1."""
        for name, following in zip(self.names[:3], self.names[1:4]):
            x, inside = self._padded_for(following, self._conv_norm(name, x), relu=True)
        # each residual block: x is its input with the border, inside the same without (what it adds)
        for i in range(self.blocks):
            y, _ = self._padded_for(f"res.{i}.1", self._conv_norm(f"res.{i}.0", x), relu=True)
            y = self._conv_norm(f"res.{i}.1", y)
            if i < self.blocks - 1:
                x, inside = self._padded_for(f"res.{i + 1}.0", y, add=inside)
        x, _ = self._padded_for("expand.0", y.add_(inside))  # the upsamplings run at the smaller size (PHASES)
        x, _ = self._padded_for("expand.1", self._conv_norm("expand.0", x), relu=True)
        x, _ = self._padded_for("expand.2", self._conv_norm("expand.1", x), relu=True)
        return torch.sigmoid(self._conv_norm("expand.2", x))

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        first = self.layers[CONTRACT[0]].pad
        # reflect padding on the bytes (cv2's REFLECT_101 is torch's and ONNX's "reflect"): first up to a
        # multiple of 4, as the fp32 path does, then the first convolution's own border
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:
            frame = cv2.copyMakeBorder(frame, 0, ph, 0, pw, cv2.BORDER_REFLECT_101)
        frame = cv2.copyMakeBorder(frame, first, first, first, first, cv2.BORDER_REFLECT_101)
        with torch.inference_mode():
            # HWC bytes are a channels-last [1,3,H,W] view; 0..255 is exact in bf16 (the /255 is in the weights)
            x = torch.from_numpy(frame).permute(2, 0, 1)[None]
            x = x if self.first is not None else x.to(torch.bfloat16)
            y = self.forward(x)[:, :, :h, :w].float().mul_(255).add_(0.5).clamp_(0, 255)
            return y.to(torch.uint8)[0].permute(1, 2, 0).contiguous().numpy()
