"""Training a shot's network from its painted keyframes (engines/networks/keyframe_net.py), on a CUDA
GPU where there is one (bf16 autocast; seconds), else on the CPU.

Few-shot patch training (Texler et al. 2020): each step takes random 48x48 patches of the
keyframes' (source, painted) pairs and fits the network to paint the source's patch as the artist
did, in bf16 with channels-last activations where the CPU has AMX (oneDNN picks its AMX kernels
only for that layout). No model hub is reachable, so no VGG loss; the losses are:

- L1 to the painting, and L1 between their Sobel gradients (edges and strokes in place);
- a texture term: the grain's local energy (what a 5x5 mean takes away, in 8x8 cells) as the
  painting has it, wherever it falls. L1 alone paints the mean of what the source cannot tell
  apart, and washes the painted grain out (0.58 of the painting's high-frequency energy against
  0.75 with this term, measured on bench/keyframe.py's shot);
- a consistency term on the shot's unlabeled frames next to each keyframe: the next frame,
  brought back along the optical flow (DIS) onto the one before, must be painted as that one is,
  where the flow holds. This is what keeps the grain from following the codec's noise from frame
  to frame (the network otherwise learns the noise as texture);
- noise on the inputs (the same painted target), for the same reason.

The network for a set of keyframes is kept in the cache (engines/cache_dir.py ``keyframes/``) under
the hash of everything it was trained from: the source frames, the paintings, the neighbours and
the training's settings. The same keyframes never train twice.
"""
from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from engines.cache_dir import cache_dir
from engines.errors import StyleError
from engines.networks.keyframe_net import (
    KeyframeNet,
    load_keyframe_net,
    save_keyframe_net,
    to_tensor,
)
from engines.runtimes.cpu import usable_cores
from engines.runtimes.cpu_features import bf16_usable
from engines.training import STEPS

VERSION = 1          # bump when the network or the training changes: old cache entries stop matching
PATCH = 48           # pixels a side
BATCH = 32           # patches a step from the keyframes
NEIGHBOUR_BATCH = 8  # patch pairs a step from the unlabeled neighbours
CONSISTENCY = 0.5    # weight of the neighbours' term
TEXTURE = 2.0        # weight of the texture term
NOISE = 0.02         # input noise, -1..1 scale (2.5 levels of 255)
PEAK_LR = 2e-3       # one-cycle schedule
FLOW_TOLERANCE = 20  # levels of 255: where the flow-warped neighbour differs more, it is not used


@dataclass(frozen=True)
class PaintedFrame:
    """A keyframe: the source frame and the artist's painting of it (uint8 HWC RGB, same size)."""

    source: np.ndarray
    painted: np.ndarray


@dataclass(frozen=True)
class Trained:
    """A trained network's file, and how it came to be: ``cached`` when an earlier run trained it."""

    path: Path
    cached: bool
    steps: int
    loss: float | None
    seconds: float


def flow_pair(a: np.ndarray, b: np.ndarray, flow) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``b`` brought back onto ``a`` along the optical flow, and where that holds (0/1 float)."""
    h, w = a.shape[:2]
    grey = lambda img: cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)  # noqa: E731
    motion = flow.calc(grey(a), grey(b), None)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx, my = gx + motion[..., 0], gy + motion[..., 1]
    back = cv2.remap(b, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    close = np.abs(back.astype(np.int16) - a).mean(-1) < FLOW_TOLERANCE
    return back, (inside & close).astype(np.float32)


def _sobel(x: torch.Tensor) -> torch.Tensor:
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kernel = torch.stack([kx, kx.T])[:, None].repeat(3, 1, 1, 1).to(x.device)
    return F.conv2d(x, kernel, groups=3)


def _grain(x: torch.Tensor) -> torch.Tensor:
    """The local energy of the detail band: per 8x8 cell, the RMS of what a 5x5 mean takes away."""
    detail = x - F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), 5, 1)
    return F.avg_pool2d(detail * detail, 8).clamp_min(1e-6).sqrt()


class _Patches:
    """Random same-place patches of stacked images (C, H, W tensors of one size)."""

    def __init__(self, stacks: list[torch.Tensor], rng: np.random.Generator):
        self.stacks, self.rng = stacks, rng

    def take(self, count: int) -> torch.Tensor:
        picks = self.rng.integers(0, len(self.stacks), count)
        out = []
        for i in picks:
            stack = self.stacks[i]
            y = self.rng.integers(0, stack.shape[1] - PATCH + 1)
            x = self.rng.integers(0, stack.shape[2] - PATCH + 1)
            out.append(stack[:, y:y + PATCH, x:x + PATCH])
        return torch.stack(out)


def _as_stack(*images: np.ndarray) -> torch.Tensor:
    """uint8 HWC images (and 0/1 float HW masks) of one size -> one (C, H, W) float tensor."""
    parts = [to_tensor(i[None])[0] if i.ndim == 3 else torch.from_numpy(i)[None] for i in images]
    return torch.cat(parts)


def train_keyframe_net(keyframes: list[PaintedFrame], neighbours: list[tuple[np.ndarray, np.ndarray]],
                       steps: int = STEPS, progress: Callable[[int, float], None] | None = None,
                       seed: int = 0) -> tuple[KeyframeNet, float]:
    """A network fitted to ``keyframes``, kept steady on ``neighbours`` (pairs of consecutive
    unlabeled frames of the shot); ``progress(steps done, loss)`` hears it after every step (and may
    raise to stop it there). Returns the
    network and its last loss (a mean over the last 50 steps)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(usable_cores())
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # a GPU trains in seconds
    bf16 = bf16_usable() or device.type == "cuda"
    labelled = _Patches([_as_stack(k.source, k.painted) for k in keyframes], rng)
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    unlabelled = _Patches([_as_stack(a, *flow_pair(a, b, flow)) for a, b in neighbours], rng) if neighbours else None
    net = KeyframeNet().to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), PEAK_LR / 10)
    total = max(steps, 4)  # the one-cycle schedule needs a step of warm-up and one of decay at least
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, PEAK_LR, total_steps=total,
                                                   pct_start=min(0.5, max(0.1, 2.0 / total)))

    def paint(x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            return net(x.contiguous(memory_format=torch.channels_last)).float()

    recent: list[float] = []
    try:
        for step in range(1, steps + 1):
            batch = labelled.take(BATCH).to(device, non_blocking=True)
            source, painted = batch[:, :3], batch[:, 3:]
            out = paint(source + torch.randn_like(source) * NOISE)
            loss = ((out - painted).abs().mean() + (_sobel(out) - _sobel(painted)).abs().mean()
                    + TEXTURE * (_grain(out) - _grain(painted)).abs().mean())
            if unlabelled is not None:
                pair = unlabelled.take(NEIGHBOUR_BATCH).to(device, non_blocking=True)
                both = paint(torch.cat([pair[:, :3], pair[:, 3:6]]))
                before, after = both.chunk(2)
                loss = loss + CONSISTENCY * ((before - after).abs() * pair[:, 6:]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            recent = (recent + [loss.item()])[-50:]
            if progress is not None:  # every step: a page shows it, and a cancel is heard at the next step
                progress(step, float(np.mean(recent)))
    finally:
        torch.set_num_threads(threads)
    return net.cpu().eval(), float(np.mean(recent)) if recent else float("nan")


def training_key(keyframes: list[PaintedFrame], neighbours: list[tuple[np.ndarray, np.ndarray]], steps: int) -> str:
    """The hash of everything a network is trained from (its name in the cache)."""
    digest = hashlib.sha256(f"keyframe-net v{VERSION} steps {steps} patch {PATCH}".encode())
    for image in [i for k in keyframes for i in (k.source, k.painted)] + [i for pair in neighbours for i in pair]:
        digest.update(str(image.shape).encode())
        digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()[:32]


def keyframe_model(keyframes: list[PaintedFrame], neighbours: list[tuple[np.ndarray, np.ndarray]],
                   steps: int = STEPS, progress: Callable[[int, float], None] | None = None,
                   folder: Path | None = None) -> Trained:
    """The network of these keyframes: from the cache when they trained one before, else trained now
    and kept there. With ``folder`` (a cluster render's, which every node reads) the network is put
    there: brought from this machine's cache when it is in it, else trained (and kept in both)."""
    name = f"{training_key(keyframes, neighbours, steps)}.pt"
    mine = cache_dir("keyframes") / name
    path = mine
    if folder is not None:  # a cluster's folder: trained there once, or brought from this machine's cache
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if not path.is_file() and _readable(mine):
            tmp = path.with_name(name + ".part")
            shutil.copyfile(mine, tmp)
            tmp.replace(path)
    if _readable(path):
        return Trained(path, True, steps, None, 0.0)
    started = time.perf_counter()
    net, loss = train_keyframe_net(keyframes, neighbours, steps, progress)
    save_keyframe_net(net, path)
    if path != mine:  # this machine's next render of the shot finds it too
        save_keyframe_net(net, mine)
    return Trained(path, False, steps, loss, time.perf_counter() - started)


def _readable(path: Path) -> bool:
    """A cached network that loads (a damaged one is removed, to be trained again)."""
    if not path.is_file():
        return False
    try:
        load_keyframe_net(path)
        return True
    except StyleError:
        path.unlink(missing_ok=True)
        return False
