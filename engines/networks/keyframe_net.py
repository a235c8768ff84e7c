"""The network a painted keyframe trains: a small image-to-image generator (after Texler et al. 2020,
"Interactive Video Stylization Using Few-Shot Patch-Based Training"), and running it on frames.

The generator is fully convolutional (it trains on patches and runs on whole frames): a 5x5 layer
at full size, two stride-2 layers down, residual blocks at a quarter of the size, and two 2x
nearest-neighbour upsamplings back, each joined to the layer of its size on the way down (a
U-Net's skips: the painted grain is made at full size from what the source has there). It paints
the difference from the source (the source is added back at the end), so an untrained network is
the source and training starts from a picture, not from grey. Its two strides keep it equivariant
to shifts of 4 pixels, the pitch the built-in style networks paint their grain at too. Two shapes:
a painted shot's (SHOT) and a live feed's (LIVE), lighter because it runs on every frame at the
feed's rate.

Weights are kept as a torch state dict (``torch.save``) and read back with ``weights_only=True``:
nothing is unpickled.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from engines.errors import StyleError


class Shape(NamedTuple):
    """How wide and deep a generator is: its channels at full, half and quarter size, and its
    residual blocks at a quarter of the size."""

    widths: tuple[int, int, int]
    blocks: int


# a painted shot's (a render's): the network paints offline, where the carried painting has nothing (the
# lighter LIVE trains there in half the time, but paints that new content with two thirds of the grain)
SHOT = Shape((32, 64, 128), 3)
# a live feed's (``live --paint``): the network paints every frame at the feed's rate, and trains on one
# core beside it. A quarter of the width: 0.12 against 0.9 s a step, so within live's 240 s it trains
# 5x the steps and paints as well (better in two of three pairs, 0.2 dB worse in one), in a tenth of the
# time a frame: the feed holds 25 frames/s at 960x540 in the painting's look (docs/benchmarks/keyframes.md)
LIVE = Shape((8, 16, 32), 3)


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.a = nn.Conv2d(channels, channels, 3, padding=1)
        self.b = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(F.relu(self.a(x)))


class KeyframeNet(nn.Module):
    """Frames in -1..1 (N, 3, H, W; H and W multiples of 4) -> the painted frames, in -1..1."""

    def __init__(self, widths: tuple[int, int, int] = SHOT.widths, blocks: int = SHOT.blocks):
        super().__init__()
        a, b, c = widths
        self.widths, self.blocks = tuple(widths), blocks
        self.inp = nn.Conv2d(3, a, 5, padding=2)
        self.down1 = nn.Conv2d(a, b, 3, 2, 1)
        self.down2 = nn.Conv2d(b, c, 3, 2, 1)
        self.middle = nn.Sequential(*[_Residual(c) for _ in range(blocks)])
        self.up1 = nn.Conv2d(c, b, 3, padding=1)
        self.up2 = nn.Conv2d(b, a, 3, padding=1)
        self.out = nn.Conv2d(a, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = F.relu(self.inp(x))
        half = F.relu(self.down1(full))
        quarter = self.middle(F.relu(self.down2(half)))
        up = F.relu(self.up1(F.interpolate(quarter, scale_factor=2.0, mode="nearest"))) + half
        up = F.relu(self.up2(F.interpolate(up, scale_factor=2.0, mode="nearest"))) + full
        return self.out(up) + x


def save_keyframe_net(net: KeyframeNet, path: Path) -> None:
    """Write the weights and the shape they fit, atomically (a cache file is whole or absent)."""
    tmp = path.with_name(path.name + ".part")
    torch.save({"widths": torch.tensor(net.widths), "blocks": torch.tensor(net.blocks),
                "state": net.state_dict()}, tmp)
    tmp.replace(path)


def load_keyframe_net(path: Path) -> KeyframeNet:
    """A network written by :func:`save_keyframe_net` (``weights_only``: no code is unpickled)."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        net = KeyframeNet(tuple(int(v) for v in saved["widths"]), int(saved["blocks"]))
        net.load_state_dict(saved["state"])
    except (OSError, RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise StyleError(f"cannot read the keyframe network {path.name}: {str(exc).splitlines()[0][:160]}") from None
    return net.eval()


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float -1..1 (N, 3, H, W), channels-last in memory (the layout oneDNN's
    AMX kernels read; the frame's HWC bytes are that layout already)."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


class KeyframeNetwork:
    """A trained :class:`KeyframeNet` as an engine's per-frame network: uint8 HWC RGB -> uint8 HWC
    RGB of the same size, in bf16 where the CPU has BF16 matrix instructions, else fp32. Frames
    whose sides are not multiples of 4 are padded (reflected) and cropped back. Safe to call from
    several threads at once."""

    def __init__(self, net: KeyframeNet, bf16: bool):
        self.dtype = torch.bfloat16 if bf16 else torch.float32
        self.net = net.eval().to(self.dtype).to(memory_format=torch.channels_last)
        for p in self.net.parameters():
            p.requires_grad_(False)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        with torch.inference_mode():
            x = to_tensor(frame[None]).to(self.dtype)
            pad_h, pad_w = -h % 4, -w % 4
            if pad_h or pad_w:
                x = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
            y = self.net(x.contiguous(memory_format=torch.channels_last))[..., :h, :w]
            y = y.float().add_(1.0).mul_(127.5).clamp_(0, 255).add_(0.5)
            return y.to(torch.uint8).permute(0, 2, 3, 1)[0].contiguous().numpy()
