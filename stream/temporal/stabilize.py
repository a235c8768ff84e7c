"""Temporal stabilization: stylized video that does not flicker, without ghost trails.

Per-frame style networks turn tiny changes between frames (noise, compression, small motion) into
shimmering texture. For each new frame the stabilizer:

1. measures optical flow between the previous and the current *input* frame (OpenCV's DIS at a
   reduced size, both directions),
2. warps the previous *output* along it, so last frame's texture lands where the content moved,
3. trusts the warp where the flow is reliable: forward and backward flow agree and the warped
   previous input matches the current input (a photometric check); occluded, disoccluded and fast
   moving pixels take the new stylized frame as it is,
4. blends ``stability`` of the warped output into the new one where trusted, in the detail band
   only: the coarse picture (colours, shapes) always comes from the current frame, so moving
   objects leave no ghost and structure stays faithful, while the texture that shimmers stays put
   along motion trajectories (recursively, frame after frame),
5. gives the shown frame back up to DETAIL_GAIN of the texture contrast that blending took away
   (``restore_contrast``: two brush textures that do not line up exactly weaken each other when
   averaged), on what is shown only, never on what is fed back,
6. starts afresh at a scene cut: the previous input, warped, no longer matches the current one.

``stability`` 0 returns the stylized frame untouched (bit-identical). Steps 1 and 6 (the flow,
the trust, the cut) are stream/temporal/motion.py's, measured on small source greys and ready
before the frame reaches the stabilizer where a job measured them ahead (``step(..., motion)``);
steps 2 to 5 are the full-size work, in two backends side by side: :class:`Stabilizer` on host
pictures (numpy, OpenCV) and :class:`DeviceStabilizer` on device tensors (torch: ``remap`` is
``grid_sample``, ``GaussianBlur`` and ``sepFilter2D`` are OpenCV's own kernels as exact
multiply-adds, never a GPU's TF32 convolution; measured on bikes.mp4 within 1% of the host's
E_warp and style kept, tests/temporal/test_stabilize.py). Figures on real footage and how the
constants were chosen: docs/benchmarks/stability.md.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from engines.errors import OptionError
from engines.optional import F, torch
from engines.pictures import small_grey, weighted

from .motion import Motion, MotionMeter, flow_grey, flow_size, pixel_grid

DEFAULT_STABILITY = 0.8
COARSE_SIGMA = 3.0       # pixels; what a Gaussian of this size keeps is taken from the current frame only
SHARPEN_SIGMA = 0.8      # pixels; the resharpening undoes a bilinear warp's blur at this scale
DETAIL_GAIN = 1.1        # at most this much of its texture contrast is given back to a blended frame
ENERGY_SIGMA = 4.0       # pixels; the neighbourhood over which texture contrast is compared


def warmup_frames(stability: float) -> int:
    """Frames after which what came before weighs under 2% at ``stability`` (each frame keeps at most
    ``stability`` of the past): a render of a time range stabilizes this many frames before it first,
    so its first frame looks as it would inside a whole render. 18 at the default 0.8."""
    if stability <= 0:
        return 0
    return 60 if stability >= 1 else min(60, math.ceil(math.log(0.02) / math.log(stability)))


@dataclass
class StabilizerStats:
    frames: int = 0
    cuts: int = 0
    mean_trust: float = 0.0


# one-dimensional high pass: the pixel minus its Gaussian neighbourhood
_ONE = np.array([1.0], np.float32)
_SHARPEN = (np.eye(1, 5, 2) - cv2.getGaussianKernel(5, SHARPEN_SIGMA).T).astype(np.float32).ravel()


def resharpen_weights(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How much to sharpen the warped past along x and along y, per pixel, for ``flow`` in pixels.

    A bilinear warp by a fraction f of a pixel blurs by f(1-f) (its variance along that axis): none
    at whole pixels, most at half pixels. Carried frame after frame, that blur would wash the texture
    out, so it is undone, along each axis by just that much: f(1-f) / SHARPEN_SIGMA^2 is the most
    that keeps the loop's gain at or below 1 at every spatial frequency. A fixed amount would add
    gain where the warp did not blur (a still camera moves by whole pixels: f = 0), and the
    stabilizer's own output, fed back, would then grow into crisp noise."""
    frac = flow - np.floor(flow)
    blur = frac * (1 - frac)
    blur *= np.float32(1 / SHARPEN_SIGMA ** 2)
    return blur[..., 0], blur[..., 1]


def _contrast(image: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Texture contrast around each pixel: the mean absolute detail (``image`` less its ``coarse``
    picture), summed over channels and averaged over ENERGY_SIGMA; at half size (it varies slowly)."""
    h, w = image.shape[:2]
    half = cv2.resize(cv2.absdiff(image, coarse), (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    total = cv2.transform(half.astype(np.float32), np.ones((1, 3), np.float32))
    return cv2.GaussianBlur(total, (0, 0), ENERGY_SIGMA / 2)


def restore_contrast(blended: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """``blended`` with up to DETAIL_GAIN of its texture contrast given back where blending with the
    past took it away. Averaging two brush textures that do not line up exactly weakens both; the
    frame's own stylization says how strong the texture should be here. Applied to what is shown
    only, never to what is fed back, so it cannot compound from frame to frame. (Coarse pictures
    are blurred in uint8: four times faster than in float, within half a level.)"""
    coarse = cv2.GaussianBlur(blended, (0, 0), COARSE_SIGMA)
    wanted = _contrast(stylized, cv2.GaussianBlur(stylized, (0, 0), COARSE_SIGMA))
    gain = (wanted + 1) / (_contrast(blended, coarse) + 1)
    np.clip(gain, 1.0, DETAIL_GAIN, out=gain)
    gain -= 1
    detail = cv2.subtract(blended, coarse, dtype=cv2.CV_32F)
    return cv2.add(blended, cv2.multiply(detail, _full_size(gain, *blended.shape[1::-1])), dtype=cv2.CV_8U)


def _full_size(plane: np.ndarray, w: int, h: int) -> np.ndarray:
    """A flow-size weight as a full-size three-channel image, to multiply RGB pixels with."""
    return cv2.resize(cv2.merge([plane] * 3), (w, h), interpolation=cv2.INTER_LINEAR)


class Stabilizer:
    """Call with (source, stylized) uint8 HWC RGB frames of the same size, in order; returns the
    stabilized frame. One per stream; not thread-safe (its ``meter`` is: the motion may be measured
    ahead, in other threads). ``set_stability`` may be called between frames.

    ``thorough`` (renders): DIS's medium preset and ``restore_contrast``. Without it (live jobs, which
    must keep their frame rate on two cores): the fast preset and no contrast step, in 60% of the
    time (640x360: 25 against 42 ms here), keeping 88% of the style instead of 91% on bikes.mp4."""

    def __init__(self, stability: float = DEFAULT_STABILITY, thorough: bool = True):
        self.set_stability(stability)
        self.thorough = thorough
        self.meter = MotionMeter(thorough)
        self._grids: dict = {}
        self.stats = StabilizerStats()
        self.reset()

    def set_stability(self, stability: float) -> None:
        if not 0.0 <= float(stability) <= 1.0:
            raise OptionError(f"stability must be between 0 and 1, got {stability}")
        self.stability = float(stability)

    def reset(self) -> None:
        """Forget the past (a new stream, a seek)."""
        self._prev_grey = None
        self._prev_out = None

    def grey(self, frame) -> np.ndarray:
        """The source grey the motion is measured on, of a picture of this stabilizer's kind."""
        return flow_grey(frame)

    def __call__(self, source, stylized, grey: np.ndarray | None = None, motion: Motion | None = None):
        """The stabilized frame; ``grey``: the source at the flow's size, where the caller has it;
        ``motion``: the motion to it, where the caller measured it ahead (used only when measured
        from the grey this stabilizer saw last)."""
        if self.stability == 0.0:
            self.reset()
            return stylized
        return self.step(self.grey(source) if grey is None else grey, stylized, motion)

    def step(self, grey: np.ndarray, stylized, motion: Motion | None = None):
        """One frame, given its source already grey at the flow's size (``flow_grey``). The motion is
        measured here unless ``motion`` was measured from this stabilizer's last grey; the full-size
        work is ``_blend`` and ``_restore`` (numpy and OpenCV here; torch in DeviceStabilizer)."""
        self.stats.frames += 1
        if self._prev_grey is None or self._prev_grey.shape != grey.shape or self._prev_out.shape != stylized.shape:
            self._prev_grey, self._prev_out = grey, stylized
            return stylized
        if motion is None or motion.prev is not self._prev_grey:
            motion = self.meter.measure(self._prev_grey, grey)
        self.stats.mean_trust += (float(motion.trust.mean()) - self.stats.mean_trust) / self.stats.frames
        if motion.cut:
            self.stats.cuts += 1
            self._prev_grey, self._prev_out = grey, stylized
            return stylized
        out = self._blend(motion.back, motion.trust, stylized)
        self._prev_grey, self._prev_out = grey, out
        return self._restore(out, stylized) if self.thorough else out

    def _restore(self, out: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        return restore_contrast(out, stylized)

    def _blend(self, back: np.ndarray, trust: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """The previous output warped along ``back`` (flow size) onto this frame, blended into
        ``stylized`` by ``trust`` x stability in the detail band, with the warp's blur undone."""
        h, w = stylized.shape[:2]
        fh, fw = back.shape[:2]
        scale = (w / fw + h / fh) / 2
        # where each output pixel was in the previous frame: the grid plus the backward flow at full size
        where = cv2.scaleAdd(cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR), scale, pixel_grid(h, w, self._grids))
        warped = cv2.remap(self._prev_out, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # per pixel, at flow size: how much of the warped past to keep, and how much to resharpen it
        # along x and along y (resharpen_weights); brought to full size with one weight per channel
        keep = trust * np.float32(self.stability)
        sharpen_x, sharpen_y = resharpen_weights(back * np.float32(scale))
        change = cv2.subtract(warped, stylized, dtype=cv2.CV_32F)
        cv2.multiply(change, _full_size(keep, w, h), dst=change)
        for kernels, amount in (((_SHARPEN, _ONE), sharpen_x), ((_ONE, _SHARPEN), sharpen_y)):
            detail = cv2.sepFilter2D(warped, cv2.CV_32F, *kernels)
            cv2.accumulateProduct(detail, _full_size(keep * amount, w, h), change)
        change -= cv2.GaussianBlur(change, (0, 0), COARSE_SIGMA)  # detail band only
        return cv2.add(stylized, change, dtype=cv2.CV_8U)  # rounded and clipped to 0..255


# -- on a device ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _gaussian(sigma: float, eight_bit: bool) -> tuple[float, ...]:
    """OpenCV's Gaussian kernel for ``sigma``, sized as GaussianBlur sizes it (3 sigma each side for
    8-bit pictures, 4 for float)."""
    size = int(round(sigma * (3 if eight_bit else 4) * 2 + 1)) | 1
    return tuple(float(v) for v in cv2.getGaussianKernel(size, sigma).ravel())


class DeviceStabilizer(Stabilizer):
    """The same stabilizer on uint8 [H, W, 3] torch tensors on ``device``: the motion as ever (on the
    host, from small greys), the full-size work where the frames are. The flow and the trust go up
    to the device through ``upload`` (the device path's pinned buffers on a GPU)."""

    def __init__(self, stability: float, thorough: bool = True, device="cpu", upload=None):
        super().__init__(stability, thorough)
        self.device = torch.device(device)
        self._upload = upload or (lambda array: torch.from_numpy(np.ascontiguousarray(array)).to(self.device))
        self._pixels: dict = {}  # (h, w) -> each pixel's own x and y on the device

    def grey(self, frame) -> np.ndarray:
        """A device picture's grey at the flow's size, brought to the host (the device path gives the
        stabilizer its grey ready, from the decoded luma: this is for a caller without one)."""
        return small_grey(frame, *flow_size(frame.shape[1], frame.shape[0])).cpu().numpy()

    # -- filters, OpenCV's on [C, H, W] float, as exact multiply-adds -----------------------------
    def _separable(self, x, along_x, along_y):
        """``sepFilter2D`` with a reflect-101 border: ``along_x`` across each row, ``along_y`` down each column."""
        if along_x is not None and len(along_x) > 1:
            r = len(along_x) // 2
            x = weighted(F.pad(x[None], (r, r, 0, 0), mode="reflect")[0], along_x, dim=-1)
        if along_y is not None and len(along_y) > 1:
            r = len(along_y) // 2
            x = weighted(F.pad(x[None], (0, 0, r, r), mode="reflect")[0], along_y, dim=-2)
        return x

    def _blur(self, x, sigma: float, eight_bit: bool = False):
        kernel = _gaussian(sigma, eight_bit)
        out = self._separable(x, kernel, kernel)
        return out.round_().clamp_(0, 255) if eight_bit else out

    def _full(self, planes: np.ndarray, w: int, h: int):
        """A flow-size weight [fh, fw] (or planes [c, fh, fw]) at full size (OpenCV's bilinear
        resize): [1, H, W] to multiply [3, H, W] with (or [c, H, W])."""
        x = self._upload(np.ascontiguousarray(planes, np.float32))
        x = x[None, None] if x.dim() == 2 else x[None]
        return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)[0]

    # -- the full-size work -------------------------------------------------------------------
    def _blend(self, back: np.ndarray, trust: np.ndarray, stylized):
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
        sharpen = tuple(float(v) for v in _SHARPEN)
        weights = self._full(np.stack([keep, keep * sharpen_x, keep * sharpen_y]), w, h)
        change = (warped - current) * weights[0:1]
        change += self._separable(warped, sharpen, None) * weights[1:2]
        change += self._separable(warped, None, sharpen) * weights[2:3]
        change -= self._blur(change, COARSE_SIGMA)                                   # detail band only
        out = (current + change).round_().clamp_(0, 255)
        return out.to(torch.uint8).permute(1, 2, 0).contiguous()

    def _restore(self, out, stylized):
        """``restore_contrast`` on the device: up to DETAIL_GAIN of the texture contrast blending took."""
        blended, own = out.permute(2, 0, 1).float(), stylized.permute(2, 0, 1).float()
        coarse = self._blur(blended, COARSE_SIGMA, eight_bit=True)
        wanted = self._contrast(own, self._blur(own, COARSE_SIGMA, eight_bit=True))
        gain = ((wanted + 1) / (self._contrast(blended, coarse) + 1)).clamp_(1.0, DETAIL_GAIN) - 1
        h, w = out.shape[:2]
        gain = F.interpolate(gain[None], size=(h, w), mode="bilinear", align_corners=False)[0]
        result = (blended + (blended - coarse) * gain).round_().clamp_(0, 255)
        return result.to(torch.uint8).permute(1, 2, 0).contiguous()

    def _contrast(self, image, coarse):
        """Texture contrast around each pixel, at half size, [1, H/2, W/2] (``_contrast`` of the host)."""
        h, w = image.shape[-2:]
        half = F.interpolate((image - coarse).abs_()[None], size=(max(1, h // 2), max(1, w // 2)), mode="area")[0]
        total = half.round_().sum(0, keepdim=True)
        return self._blur(total, ENERGY_SIGMA / 2)
