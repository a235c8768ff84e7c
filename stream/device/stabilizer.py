"""The temporal stabilizer with its full-size work on the device: the same stabilizer
(stream/temporal/stabilize.py: the same flow, trust, cut and constants), where the warp of the
previous output, the blend in the detail band, the resharpening and the contrast step run in torch
on the frames where they are. The flow stays where it is cheapest: OpenCV's DIS on the CPU, on the
source's grey at 320 pixels (a few KB down per frame), and so does the trust measured at that size;
the flow (both ways) and the trust go up, a few hundred KB.

Each OpenCV step has its torch form here: ``remap`` (bilinear, replicate border) is ``grid_sample``;
``GaussianBlur`` and ``sepFilter2D`` (reflect-101 border) are separable convolutions with OpenCV's
own kernels; ``resize`` is ``interpolate``. Measured on bikes.mp4 against the host stabilizer in
docs/benchmarks.md: E_warp and the style kept within 5% (tests/device/test_stabilizer.py).
"""
from __future__ import annotations

import functools

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from stream.temporal.stabilize import (
    COARSE_SIGMA,
    DETAIL_GAIN,
    ENERGY_SIGMA,
    SHARPEN_SIGMA,
    Stabilizer,
    flow_size,
    resharpen_weights,
)

from .frames import small_grey


@functools.lru_cache(maxsize=16)
def _gaussian(sigma: float, eight_bit: bool) -> np.ndarray:
    """OpenCV's Gaussian kernel for ``sigma``, sized as GaussianBlur sizes it (3 sigma each side for
    8-bit pictures, 4 for float)."""
    size = int(round(sigma * (3 if eight_bit else 4) * 2 + 1)) | 1
    return cv2.getGaussianKernel(size, sigma).ravel().astype(np.float32)


_SHARPEN = (np.eye(1, 5, 2) - cv2.getGaussianKernel(5, SHARPEN_SIGMA).T).astype(np.float32).ravel()


class DeviceStabilizer(Stabilizer):
    """A :class:`Stabilizer` whose frames are uint8 [H, W, 3] torch tensors on ``device``."""

    def __init__(self, stability: float, thorough: bool = True, device="cpu"):
        super().__init__(stability, thorough)
        self.device = torch.device(device)
        self._kernels: dict = {}
        self._pixels: dict = {}  # (h, w) -> each pixel's own x and y on the device

    def _grey(self, frame: torch.Tensor) -> np.ndarray:
        return small_grey(frame, *flow_size(frame.shape[1], frame.shape[0]))

    # -- filters, OpenCV's on [C, H, W] float -------------------------------------------------
    def _kernel(self, values: np.ndarray) -> torch.Tensor:
        key = values.tobytes()
        if key not in self._kernels:
            self._kernels[key] = torch.from_numpy(values).to(self.device)
        return self._kernels[key]

    def _separable(self, x: torch.Tensor, along_x: np.ndarray | None, along_y: np.ndarray | None) -> torch.Tensor:
        """``sepFilter2D`` with a reflect-101 border: ``along_x`` across each row, ``along_y`` down each column."""
        c = x.shape[0]
        y = x[:, None]
        if along_x is not None and len(along_x) > 1:
            k = self._kernel(along_x)
            y = F.conv2d(F.pad(y, (len(k) // 2, len(k) // 2, 0, 0), mode="reflect"), k[None, None, None, :])
        if along_y is not None and len(along_y) > 1:
            k = self._kernel(along_y)
            y = F.conv2d(F.pad(y, (0, 0, len(k) // 2, len(k) // 2), mode="reflect"), k[None, None, :, None])
        return y[:, 0].reshape(c, *y.shape[-2:])

    def _blur(self, x: torch.Tensor, sigma: float, eight_bit: bool = False) -> torch.Tensor:
        kernel = _gaussian(sigma, eight_bit)
        out = self._separable(x, kernel, kernel)
        return out.round_().clamp_(0, 255) if eight_bit else out

    def _full(self, planes: np.ndarray, w: int, h: int) -> torch.Tensor:
        """A flow-size weight [fh, fw] (or planes [c, fh, fw]) at full size (OpenCV's bilinear
        resize): [1, H, W] to multiply [3, H, W] with (or [c, H, W])."""
        x = torch.from_numpy(np.ascontiguousarray(planes, np.float32)).to(self.device)
        x = x[None, None] if x.dim() == 2 else x[None]
        return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)[0]

    # -- the full-size work ---------------------------------------------------------------------
    def _blend(self, back: np.ndarray, trust: np.ndarray, stylized: torch.Tensor) -> torch.Tensor:
        h, w = stylized.shape[:2]
        fh, fw = back.shape[:2]
        scale = (w / fw + h / fh) / 2
        flow = self._full(back.transpose(2, 0, 1), w, h) * scale                    # [2, H, W] pixels
        if (h, w) not in self._pixels:
            self._pixels[(h, w)] = torch.meshgrid(torch.arange(h, device=self.device, dtype=torch.float32),
                                                  torch.arange(w, device=self.device, dtype=torch.float32), indexing="ij")
        ys, xs = self._pixels[(h, w)]
        grid = torch.stack([(xs + flow[0]) * (2 / max(w - 1, 1)) - 1, (ys + flow[1]) * (2 / max(h - 1, 1)) - 1], -1)
        prev = self._prev_out.permute(2, 0, 1)[None].float()
        warped = F.grid_sample(prev, grid[None], mode="bilinear", padding_mode="border", align_corners=True)[0]
        warped = warped.round_().clamp_(0, 255)                                      # remap's 8-bit result
        current = stylized.permute(2, 0, 1).float()
        keep = trust * np.float32(self.stability)
        sharpen_x, sharpen_y = resharpen_weights(back * np.float32(scale))
        change = (warped - current) * self._full(keep, w, h)
        change += self._separable(warped, _SHARPEN, None) * self._full(keep * sharpen_x, w, h)
        change += self._separable(warped, None, _SHARPEN) * self._full(keep * sharpen_y, w, h)
        change -= self._blur(change, COARSE_SIGMA)                                   # detail band only
        out = (current + change).round_().clamp_(0, 255)
        return out.to(torch.uint8).permute(1, 2, 0).contiguous()

    def _restore(self, out: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
        """``restore_contrast`` on the device: up to DETAIL_GAIN of the texture contrast blending took."""
        blended, own = out.permute(2, 0, 1).float(), stylized.permute(2, 0, 1).float()
        coarse = self._blur(blended, COARSE_SIGMA, eight_bit=True)
        wanted = self._contrast(own, self._blur(own, COARSE_SIGMA, eight_bit=True))
        gain = ((wanted + 1) / (self._contrast(blended, coarse) + 1)).clamp_(1.0, DETAIL_GAIN) - 1
        h, w = out.shape[:2]
        gain = F.interpolate(gain[None], size=(h, w), mode="bilinear", align_corners=False)[0]
        result = (blended + (blended - coarse) * gain).round_().clamp_(0, 255)
        return result.to(torch.uint8).permute(1, 2, 0).contiguous()

    def _contrast(self, image: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        """Texture contrast around each pixel, at half size, [1, H/2, W/2] (``_contrast`` of the host)."""
        h, w = image.shape[-2:]
        half = F.interpolate((image - coarse).abs_()[None], size=(max(1, h // 2), max(1, w // 2)), mode="area")[0]
        total = half.round_().sum(0, keepdim=True)
        return self._blur(total, ENERGY_SIGMA / 2)
