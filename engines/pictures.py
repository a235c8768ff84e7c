"""uint8 RGB pictures on a device (torch tensors [..., H, W, 3]) resized and made grey as OpenCV
makes them on the host, to within a level: ``fit`` (area down, bilinear up: INTER_AREA and
INTER_LINEAR), ``cubic`` (INTER_CUBIC: Keys, a = -0.75, rounded to 8 bits) and ``grey`` (RGB2GRAY's
fixed-point weights). The host side of each is OpenCV's own call; these are what the device frame
path uses in their place (the working size, the flow's and the flicker readout's greys, the
upload's fit into ``--max-side``)."""
from __future__ import annotations

from .optional import F, torch


def fit(image, width: int, height: int):
    """uint8 [H, W, 3] at ``width`` x ``height``: averaged down (OpenCV's area), or bilinear up."""
    if image.shape[:2] == (height, width):
        return image
    x = image.permute(2, 0, 1)[None].float()
    shrinking = width <= image.shape[1] and height <= image.shape[0]
    x = F.interpolate(x, size=(height, width), mode="area" if shrinking else "bilinear",
                      align_corners=None if shrinking else False)
    return x[0].permute(1, 2, 0).round_().clamp_(0, 255).to(torch.uint8)


def cubic(x, width: int, height: int):
    """float [H, W, C] resized by a cubic (OpenCV's INTER_CUBIC: Keys, a = -0.75), rounded to 8 bits."""
    y = F.interpolate(x.permute(2, 0, 1)[None], size=(height, width), mode="bicubic", align_corners=False)
    return y[0].permute(1, 2, 0).round_().clamp_(0, 255)


def grey(rgb):
    """uint8 RGB [..., H, W, 3] -> uint8 grey as OpenCV's RGB2GRAY weighs it (fixed point, rounded)."""
    x = rgb.to(torch.int32)
    return ((x[..., 0] * 4899 + x[..., 1] * 9617 + x[..., 2] * 1868 + 8192) >> 14).to(torch.uint8)


def small_grey(image, width: int, height: int):
    """uint8 grey of a device picture at ``width`` x ``height``, on the device (area, then grey, as
    OpenCV's INTER_AREA and RGB2GRAY make it): what a flow or the flicker readout is measured on."""
    return grey(fit(image, width, height))


def weighted(x, weights, dim: int, stride: int = 1):
    """A 1-D filter along ``dim`` as exact float multiply-adds: ``out[i] = sum_k weights[k] *
    x[stride * i + k]`` (``x`` already padded). Not a convolution, so a GPU's TF32 (on by default for
    fp32 convolutions) never rounds it: the colour and stabilizer filters stay within a level of
    OpenCV's and swscale's on every device."""
    dim = dim % x.dim()
    count = (x.shape[dim] - len(weights)) // stride + 1
    out = None
    for k, w in enumerate(weights):
        if w == 0.0:
            continue
        index = [slice(None)] * x.dim()
        index[dim] = slice(k, k + stride * (count - 1) + 1, stride)
        term = x[tuple(index)] * float(w)
        out = term if out is None else out.add_(term)
    return out
