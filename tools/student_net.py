"""A small student network that reproduces one teacher style at a fraction of the cost.

The teacher (the 26-style network) runs 9x9 convolutions at full size and five 128-channel
residual blocks at a quarter size: about 9 GFLOP per 640x360 frame. The student never convolves
at full size: two strided convolutions take it to a quarter size, inverted residual blocks (1x1
expand, 3x3 depthwise, 1x1 project) work there, and sub-pixel convolutions (PixelShuffle) bring
it back up. It has no instance norm, so its output does not shift with the picture's global
statistics (which also steadies it over time). Trained by ``tools/train_student.py``; shipped as
ONNX, so running it needs no torch.

Input and output: float NCHW RGB in 0..1 (the teacher graph's range), any size that is a multiple of 4.
"""
from __future__ import annotations

import torch
from torch import nn


class InvertedResidual(nn.Module):
    def __init__(self, channels: int, expand: int = 2):
        super().__init__()
        hidden = channels * expand
        self.body = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden), nn.ReLU(inplace=True),
                                  nn.Conv2d(hidden, channels, 1))

    def forward(self, x):
        return x + self.body(x)


class StudentNet(nn.Module):
    def __init__(self, width: int = 48, blocks: int = 4, half: int = 24):
        super().__init__()
        self.width, self.n_blocks, self.half = width, blocks, half
        self.down = nn.Sequential(nn.Conv2d(3, half, 3, 2, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(half, width, 3, 2, 1), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*[InvertedResidual(width) for _ in range(blocks)])
        self.up = nn.Sequential(nn.Conv2d(width, half * 4, 1), nn.PixelShuffle(2), nn.ReLU(inplace=True),
                                nn.Conv2d(half, half, 3, 1, 1), nn.ReLU(inplace=True),
                                nn.Conv2d(half, 3 * 4, 3, 1, 1), nn.PixelShuffle(2))

    def forward(self, x):
        return torch.sigmoid(self.up(self.blocks(self.down(x))))
