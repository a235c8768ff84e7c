"""The mix after the network (engines/mix.py: strength, keep colours) and the network's working size
(engines/style_scale.py: shrink, grow with the lost detail put back), on the device, in torch, as
the host path does them with OpenCV (within a level: OpenCV rounds to 8 bits between its steps)."""
from __future__ import annotations

import torch
from torch.nn import functional as F

from engines.mix import Mix
from engines.style_scale import DETAIL_GAIN, MIN_PIXELS

from .colour import grey
from .frames import fit


def _luma(image: torch.Tensor) -> torch.Tensor:
    """Full-range BT.601 luma (OpenCV's YCrCb), float."""
    x = image.float()
    return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]


def apply_mix(mix: Mix, stylized: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """``Mix.apply`` on uint8 [..., H, W, 3] device pictures: the stylized luma with the original's
    colours (``keep_colors``; the same as swapping YCrCb's Y), then ``strength`` of it over the original."""
    if mix.is_plain:
        return stylized
    out = stylized.float()
    if mix.keep_colors:
        out = (original.float() + (_luma(stylized) - _luma(original))[..., None]).round_().clamp_(0, 255)
    if mix.strength < 1.0:
        out = out * float(mix.strength) + original.float() * (1.0 - float(mix.strength))
    return out.round_().clamp_(0, 255).to(torch.uint8)


def shrink(image: torch.Tensor, scale: float) -> torch.Tensor:
    """The picture at the network's working size (``engines.style_scale.shrink`` on the device)."""
    h, w = image.shape[-3:-1]
    return fit(image, max(MIN_PIXELS, round(w * scale)), max(MIN_PIXELS, round(h * scale)))


def grow(stylized: torch.Tensor, frame: torch.Tensor, small: torch.Tensor, mix: Mix) -> torch.Tensor:
    """The network's output at its working size back at ``frame``'s size, the luminance detail the
    shrinking lost added back (``engines.style_scale.grow`` on the device), the mix applied there."""
    h, w = frame.shape[:2]
    enlarged = stylized.shape[0] < h or stylized.shape[1] < w
    if not enlarged:
        return apply_mix(mix, fit(stylized, w, h), frame)
    out = _cubic(stylized.float(), w, h)
    lost = grey(frame).float() - _cubic(grey(small).float()[..., None], w, h)[..., 0]
    out = (out + DETAIL_GAIN * lost[..., None]).clamp_(0, 255).to(torch.uint8)
    return apply_mix(mix, out, frame)


def _cubic(x: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """float [H, W, C] resized by a cubic (OpenCV's INTER_CUBIC: Keys, a = -0.75), rounded to 8 bits."""
    y = F.interpolate(x.permute(2, 0, 1)[None], size=(height, width), mode="bicubic", align_corners=False)
    return y[0].permute(1, 2, 0).round_().clamp_(0, 255)
