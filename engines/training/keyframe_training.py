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

How long it trains is its ``Budget`` (engines/training/__init__.py): by default up to STEPS steps
within a few minutes (the time it takes is what an artist waits for, and a step costs 10x more on a
CPU without bf16). The learning rate follows a one-cycle schedule by the share of the budget spent
(of the steps or of the seconds, whichever is further on), so a training cut short by its time
still ends on a low rate; a strip of each keyframe's right edge is held back from the patches and
the network is judged on it every JUDGE_EVERY steps: once it stops gaining (in the budget's later
part, where the rate is falling), the training stops and keeps the network that did best there (what the painting never showed is what that strip tests).

The network for a set of keyframes is kept in the cache (engines/cache_dir.py ``keyframes/``) under
the hash of everything it was trained from: the source frames, the paintings, the neighbours and
the training's settings. The same keyframes never train twice.
"""
from __future__ import annotations

import hashlib
import math
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
    SHOT,
    KeyframeNet,
    Shape,
    load_keyframe_net,
    save_keyframe_net,
    to_tensor,
)
from engines.runtimes.cpu import usable_cores
from engines.runtimes.cpu_features import bf16_usable
from engines.training import Budget

VERSION = 1          # bump when the network or the training changes: old cache entries stop matching
PATCH = 48           # pixels a side
BATCH = 32           # patches a step from the keyframes
NEIGHBOUR_BATCH = 8  # patch pairs a step from the unlabeled neighbours
CONSISTENCY = 0.5    # weight of the neighbours' term
TEXTURE = 2.0        # weight of the texture term
NOISE = 0.02         # input noise, -1..1 scale (2.5 levels of 255)
PEAK_LR = 2e-3       # one-cycle schedule
WARM_UP = 0.1        # its share rising to the peak
HOLD_BACK = 0.125    # a timed training holds back this share of each keyframe's width (its right edge) ...
JUDGE_EVERY = 25     # ... and judges the network on it every this many steps,
PATIENCE = 6         # stopping after this many judgements without a gain
MIN_GAIN = 0.01      # of this share of the best held-back loss,
STOP_FROM = 0.6      # from this share of the budget on
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
    steps: int | None  # the steps it took (None: from the cache)
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
    """Random same-place patches of stacked images (C, H, W tensors of one size), from the columns
    left of ``width`` (what is right of it is held back)."""

    def __init__(self, stacks: list[torch.Tensor], rng: np.random.Generator, held_back: int = 0):
        self.stacks, self.rng, self.held_back = stacks, rng, held_back

    def take(self, count: int) -> torch.Tensor:
        picks = self.rng.integers(0, len(self.stacks), count)
        out = []
        for i in picks:
            stack = self.stacks[i]
            y = self.rng.integers(0, stack.shape[1] - PATCH + 1)
            x = self.rng.integers(0, stack.shape[2] - self.held_back - PATCH + 1)
            out.append(stack[:, y:y + PATCH, x:x + PATCH])
        return torch.stack(out)

    def strip(self) -> torch.Tensor:
        """The held-back strip's patches, tiled: the same every time."""
        out = []
        for stack in self.stacks:
            h, w = stack.shape[1:]
            for y in range(0, h - PATCH + 1, PATCH):
                for x in range(w - self.held_back, w - PATCH + 1, PATCH):
                    out.append(stack[:, y:y + PATCH, x:x + PATCH])
        return torch.stack(out)


def _as_stack(*images: np.ndarray) -> torch.Tensor:
    """uint8 HWC images (and 0/1 float HW masks) of one size -> one (C, H, W) float tensor."""
    parts = [to_tensor(i[None])[0] if i.ndim == 3 else torch.from_numpy(i)[None] for i in images]
    return torch.cat(parts)


def held_back_width(width: int) -> int:
    """Pixels of a keyframe's right edge held back to judge a timed training (whole patches; none
    where the frame is too narrow to spare them)."""
    strip = PATCH * max(1, round(width * HOLD_BACK / PATCH))
    return strip if width - strip >= 2 * PATCH else 0


class _Stopper:
    """Early stopping on the held-back loss: ``heard(loss)`` after each judgement says whether the
    training has stopped improving (no gain of MIN_GAIN in PATIENCE judgements), and keeps the best."""

    def __init__(self):
        self.best, self.since, self.best_state = math.inf, 0, None

    def heard(self, loss: float, net: torch.nn.Module) -> bool:
        if loss < self.best * (1 - MIN_GAIN):
            self.best, self.since = loss, 0
            self.best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            self.since += 1
        return self.since >= PATIENCE


def one_cycle(position: float, warm_up: float = WARM_UP) -> tuple[float, float]:
    """The learning rate and Adam's beta1 at ``position`` (0..1) of the training: the rate a cosine up
    from PEAK_LR / 25 over the first ``warm_up``, then a cosine down to 1e-4 of that, and beta1 the
    other way, 0.95 to 0.85 and back (torch's OneCycleLR, by position rather than by step, so a
    budget in seconds can drive it; by steps, it is OneCycleLR's to the step)."""
    start, end = PEAK_LR / 25, PEAK_LR / 25 / 1e4
    position = min(max(position, 0.0), 1.0)
    if position < warm_up:
        rising = (1 - math.cos(math.pi * position / warm_up)) / 2
        return start + (PEAK_LR - start) * rising, 0.95 - 0.10 * rising
    falling = (1 + math.cos(math.pi * (position - warm_up) / (1 - warm_up))) / 2
    return end + (PEAK_LR - end) * falling, 0.95 - 0.10 * falling


@dataclass
class Heard:
    """What a training says after each step: the step, the loss (a mean over the last 50 steps),
    how far through its budget it is (0..1) and the seconds it expects to take still."""

    step: int
    loss: float
    done: float
    seconds_left: float


def train_keyframe_net(keyframes: list[PaintedFrame], neighbours: list[tuple[np.ndarray, np.ndarray]],
                       budget: Budget = Budget(), progress: Callable[[Heard], None] | None = None,
                       seed: int = 0, threads: int | None = None, shape: Shape = SHOT) -> tuple[KeyframeNet, float, int]:
    """A network fitted to ``keyframes``, kept steady on ``neighbours`` (pairs of consecutive
    unlabeled frames of the shot), trained for ``budget`` on ``threads`` cores (default: all this
    process may use), in ``shape`` (engines/networks/keyframe_net.py's SHOT or LIVE); ``progress``
    hears it after every step (and may raise to stop it there).
    Returns the network, its last loss (a mean over the last 50 steps) and the steps it took."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads or usable_cores())
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # a GPU trains in seconds
    bf16 = bf16_usable() or device.type == "cuda"
    steps, seconds = budget.limits(bf16)
    held_back = min(held_back_width(k.source.shape[1]) for k in keyframes) if seconds else 0
    labelled = _Patches([_as_stack(k.source, k.painted) for k in keyframes], rng, held_back)
    judge = labelled.strip().to(device) if held_back else None
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    unlabelled = _Patches([_as_stack(a, *flow_pair(a, b, flow)) for a, b in neighbours], rng) if neighbours else None
    net = KeyframeNet(*shape).to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), PEAK_LR / 25)
    # OneCycleLR's warm-up for a run of few steps: two steps at least, then from the step's own index
    pct = min(0.5, max(WARM_UP, 2.0 / steps))
    warm_up = max(1e-6, (pct * steps - 1) / max(steps - 1, 1))

    def paint(x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            return net(x.contiguous(memory_format=torch.channels_last)).float()

    def loss_of(out: torch.Tensor, painted: torch.Tensor) -> torch.Tensor:
        return ((out - painted).abs().mean() + (_sobel(out) - _sobel(painted)).abs().mean()
                + TEXTURE * (_grain(out) - _grain(painted)).abs().mean())

    def step_loss() -> torch.Tensor:
        """One step's loss: a batch of the keyframes' patches, and the neighbours' consistency."""
        batch = labelled.take(BATCH).to(device, non_blocking=True)
        source, painted = batch[:, :3], batch[:, 3:]
        loss = loss_of(paint(source + torch.randn_like(source) * NOISE), painted)
        if unlabelled is not None:
            pair = unlabelled.take(NEIGHBOUR_BATCH).to(device, non_blocking=True)
            before, after = paint(torch.cat([pair[:, :3], pair[:, 3:6]])).chunk(2)
            loss = loss + CONSISTENCY * ((before - after).abs() * pair[:, 6:]).mean()
        return loss

    def share(step: int) -> tuple[float, float]:
        """How far through its budget the training is after ``step`` steps (of the steps or of the
        seconds, whichever is further on), and the seconds spent."""
        spent = time.perf_counter() - started
        return max(step / steps, spent / seconds if seconds else 0.0), spent

    recent: list[float] = []
    stopper, started, step = _Stopper(), time.perf_counter(), 0
    try:
        while step < steps:
            position, _ = share(step)
            if position >= 1:
                break
            rate, beta1 = one_cycle(max(step / max(steps - 1, 1), position), warm_up)
            for group in optimizer.param_groups:
                group["lr"], group["betas"] = rate, (beta1, group["betas"][1])
            step += 1
            loss = step_loss()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            recent = (recent + [loss.item()])[-50:]
            stop = False
            if judge is not None and step % JUDGE_EVERY == 0:
                with torch.no_grad():
                    stop = stopper.heard(loss_of(paint(judge[:, :3]), judge[:, 3:]).item(), net)
                stop = stop and position >= STOP_FROM  # (not while the rate is high: it gains again as it falls)
            if progress is not None:  # every step: a page shows it, and a cancel is heard at the next step
                done, spent = share(step)
                done = 1.0 if stop else min(1.0, done)
                left = spent / done - spent if done > 0 else float("inf")
                progress(Heard(step, float(np.mean(recent)), done, max(0.0, left)))
            if stop:
                break
    finally:
        torch.set_num_threads(previous_threads)
    if stopper.best_state is not None and stopper.since > 0:  # the best the held-back strip saw
        net.load_state_dict(stopper.best_state)
    return net.cpu().eval(), float(np.mean(recent)) if recent else float("nan"), step


def training_key(keyframes: list[PaintedFrame], neighbours: list[tuple[np.ndarray, np.ndarray]], budget: Budget,
                 shape: Shape = SHOT) -> str:
    """The hash of everything a network is trained from (its name in the cache)."""
    other = "" if shape == SHOT else f" shape {shape.widths} {shape.blocks}"  # (a shot's keeps its old names)
    digest = hashlib.sha256(f"keyframe-net v{VERSION} {budget.key()} patch {PATCH}{other}".encode())
    for image in [i for k in keyframes for i in (k.source, k.painted)] + [i for pair in neighbours for i in pair]:
        digest.update(str(image.shape).encode())
        digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()[:32]


def keyframe_model(keyframes: list[PaintedFrame], neighbours: list[tuple[np.ndarray, np.ndarray]],
                   budget: Budget = Budget(), progress: Callable[[Heard], None] | None = None,
                   folder: Path | None = None, threads: int | None = None, shape: Shape = SHOT) -> Trained:
    """The network of these keyframes: from the cache when they trained one before, else trained now
    and kept there. With ``folder`` (a cluster render's, which every node reads) the network is put
    there: brought from this machine's cache when it is in it, else trained (and kept in both).
    ``shape``: the generator's (a live feed's is lighter: engines/networks/keyframe_net.py)."""
    name = f"{training_key(keyframes, neighbours, budget, shape)}.pt"
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
        return Trained(path, True, None, None, 0.0)
    started = time.perf_counter()
    net, loss, steps = train_keyframe_net(keyframes, neighbours, budget, progress, threads=threads, shape=shape)
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
