"""The style networks' first convolution as an int8 one on the frame's own bytes, where the CPU's
int8 dot products outrun its bf16 ones (AVX-512 VNNI beside AVX-512 BF16, without AMX: AMD Zen 4).

The first convolution (9x9, 3 channels to 32 at full size) is a quarter of the bf16 network's frame
and runs at the CPU's bf16 arithmetic limit. Its input needs no quantizing: a frame is bytes, and
0..255 is exactly what an int8 convolution reads (unsigned, zero point 0). Only its weights are
rounded, to int8 per output channel, where bf16 rounds each to 8 significant bits. Rounding each
weight to the nearest step loses a little more than bf16 does, so the steps are chosen together
(adaptive rounding, Nagel et al. 2020): per output channel, the int8 kernel whose error, convolved
with pictures, is least, over patches of the frames the package draws itself
(engines/runtimes/calibration.py), centred per channel where an instance norm follows (it removes
a constant). The int32 sums are scaled back to bf16 by oneDNN (``onednn::qconv2d_pointwise``, what
torch's x86 int8 lowering calls), so nothing between is rounded to 8 bits.

Measured (docs/benchmarks/cpu.md), all 26 styles, SSIM/4 against ONNX Runtime fp32: at least as
close as the bf16 kernel on held-out footage and on smooth colour fields (worst style 0.9928
against bf16's 0.9868), nearest-step int8 below both (0.9813). The convolution 59 -> 40 ms at
1280x720 on one core of that CPU.
"""
from __future__ import annotations

import functools
import hashlib
import threading

import numpy as np
import torch

from engines.cache_dir import cache_dir, cached_arrays

from .calibration import calibration_frames, smooth_frames
from .cpu_features import bf16_instructions

LEVELS = 127  # int8 steps each side of zero
PATCHES = 24000
ROUNDING = "r1"  # names the rounding in the cache: change it when rounded_int8 or its pictures change


@functools.lru_cache(maxsize=1)
def byte_conv_usable() -> bool:
    """Where the bf16 network takes it: a CPU with AVX-512 BF16 and VNNI and no AMX (on AMX bf16 stays
    as measured: nothing here was run on one), and a torch with oneDNN's int8 convolution."""
    if bf16_instructions() != "AVX-512 BF16" or not hasattr(torch.ops.onednn, "qconv2d_pointwise"):
        return False
    try:
        conv = ByteConv(torch.full((1, 3, 3, 3), LEVELS, dtype=torch.int8), torch.full((1,), 1 / LEVELS))
        out = conv(torch.full((1, 3, 6, 6), 2, dtype=torch.uint8).contiguous(memory_format=torch.channels_last))
        return bool(torch.allclose(out.float(), torch.full_like(out.float(), 54.0)))
    except (RuntimeError, TypeError, NotImplementedError):  # a torch whose op is another shape
        return False


@functools.lru_cache(maxsize=4)
def patch_moments(k: int, centred: bool) -> np.ndarray:
    """E[p p^T] over k x k x 3 patches (channel, row, column order) of the package's own pictures in
    0..255, each picture's channel means taken off where ``centred``: [3k², 3k²] float64."""
    rng = np.random.default_rng(0)
    pictures = calibration_frames(640, 360, 6) + smooth_frames(640, 360, 3)
    rows = []
    for picture in pictures:
        values = picture.astype(np.float64)
        if centred:
            values -= values.reshape(-1, 3).mean(0)
        windows = np.lib.stride_tricks.sliding_window_view(values, (k, k), axis=(0, 1))  # h, w, 3, k, k
        ys = rng.integers(0, windows.shape[0], PATCHES // len(pictures))
        xs = rng.integers(0, windows.shape[1], PATCHES // len(pictures))
        rows.append(windows[ys, xs].reshape(len(ys), -1))
    patches = np.concatenate(rows)
    return patches.T @ patches / len(patches)


def rounded_int8(kernel: np.ndarray, moments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``kernel`` [out, in, k, k] as int8 steps and a scale per output channel, the steps chosen so
    that the error's energy over the pictures ``moments`` describes (e^T M e) is least: from the
    nearest steps, one step up or down at a time while one helps most (greedy coordinate descent)."""
    weights = np.asarray(kernel, np.float64).reshape(len(kernel), -1)
    scales = np.abs(weights).max(1) / LEVELS
    scales[scales == 0] = 1.0
    steps = np.round(weights / scales[:, None])
    diagonal = np.diag(moments)
    for o, (q, w, s) in enumerate(zip(steps, weights, scales)):
        slope = moments @ (s * q - w)  # half the gradient of the energy
        for _ in range(20 * q.size):
            gains = [np.where(np.abs(q + t) <= LEVELS, 2 * s * t * slope + s * s * diagonal, np.inf) for t in (1, -1)]
            t = 0 if gains[0].min() <= gains[1].min() else 1
            i = int(np.argmin(gains[t]))
            if gains[t][i] >= 0:
                break
            q[i] += (1, -1)[t]
            slope += s * (1, -1)[t] * moments[:, i]
        steps[o] = q
    return steps.reshape(kernel.shape).astype(np.int8), scales.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _rounded(kernel: bytes, shape: tuple, normed: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The rounding of ``rounded_int8``, kept in the cache (the pictures' moments take 0.2-0.3 s to
    draw and measure; a start-up reads the result)."""
    def make() -> dict[str, np.ndarray]:
        steps, scales = rounded_int8(np.frombuffer(kernel, np.float32).reshape(shape), patch_moments(shape[-1], normed))
        return {"steps": steps, "scales": scales}

    name = f"int8-{hashlib.sha256(kernel).hexdigest()[:16]}-{'centred' if normed else 'whole'}-{ROUNDING}.npz"
    arrays = cached_arrays(cache_dir("models") / name, make)
    return torch.from_numpy(arrays["steps"]), torch.from_numpy(arrays["scales"])


class ByteConv:
    """A stride-1 convolution without padding of uint8 [1, in, H, W] (channels-last: a frame's HWC
    bytes as they are) into bf16 [1, out, H-k+1, W-k+1] (channels-last), with int8 ``steps``
    [out, in, k, k] times ``scales`` [out] as its kernel, and ``bias`` [out] added. Safe to call
    from several threads at once."""

    @classmethod
    def rounded(cls, weight: torch.Tensor, normed: bool, bias: torch.Tensor | None = None) -> ByteConv:
        """``weight`` [out, in, k, k] for 0..255 input, rounded to int8 (``rounded_int8``) once per
        process; ``normed``: an instance norm follows (a constant error is no error there)."""
        kernel = np.ascontiguousarray(weight.detach().float().numpy())
        return cls(*_rounded(kernel.tobytes(), kernel.shape, normed), bias)

    def __init__(self, steps: torch.Tensor, scales: torch.Tensor, bias: torch.Tensor | None = None):
        self.steps = steps.to(torch.int8).contiguous(memory_format=torch.channels_last)
        self.scales = scales.float().contiguous()
        self.zero_points = torch.zeros(len(scales), dtype=torch.int64)
        self.bias = None if bias is None else bias.detach().float().contiguous()
        self._packed: dict[tuple, torch.Tensor] = {}
        self._lock = threading.Lock()

    def _packed_for(self, shape: tuple) -> torch.Tensor:
        with self._lock:
            if shape not in self._packed:  # oneDNN's layout of the weights for this input size
                self._packed[shape] = torch.ops.onednn.qconv_prepack(
                    self.steps, self.scales, 1.0, 0, [1, 1], [0, 0], [1, 1], 1, list(shape))
            return self._packed[shape]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.onednn.qconv2d_pointwise(
            x, 1.0, 0, self._packed_for(tuple(x.shape)), self.scales, self.zero_points, self.bias,
            [1, 1], [0, 0], [1, 1], 1, 1.0, 0, torch.bfloat16, "none", [], None)
