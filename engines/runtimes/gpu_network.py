"""The frame path of the torch engines (torch CUDA, TensorRT): a style network on uint8 RGB frames,
by the batch, on any torch device.

Frames come from the host (the Engine contract: one upload from a pinned buffer, one download into
one) or are already on the device (the device frame path, stream/framepath/: nothing crosses the
bus). On the device they are converted to the network's type and layout, run, and converted back
to uint8 RGB there. Buffers are made once per (batch, height, width), at most MAX_SIZES of them (the
least recently used go); on a CUDA device the whole device part is captured as a CUDA graph per
(batch, size), all of a network's graphs in one memory pool, and replayed on a stream of its own.
A size's graph is captured anew when that size's compiled form takes over (its own version,
engines/runtimes/compiled.py), never when another size's does.

Captures never meet a device-wide synchronization: they hold CAPTURE_LOCK, which a compile's GPU
phase holds too (engines/runtimes/compiled.py), and a frame that finds it held runs uncaptured
(eager) rather than wait. A batch's looks (a style per frame) go up from pinned memory on the
network's own stream, before the graph that reads them replays there.

``batch(frames, looks)`` runs a batch with a style per frame (each frame's packed scales and shifts,
engines/networks/folded_net.py): the looks are one more buffer of the batch, copied in before the
graph replays, so one graph serves every mix of styles.
On the CPU (device "cpu") the same arithmetic runs as it is, which is how it is tested here.
"""
from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

MAX_SIZES = 8                   # (batch, size) buffers and graphs a network keeps (dynamo's own limit is 8)
LOOKS_RING = 3                  # pinned buffers a batch's looks go up from, in turn
CAPTURE_LOCK = threading.Lock()  # one capture at a time, and none while a compile runs on the GPU


class FrameBuffers:
    """Device buffers (and the CUDA graph, when ``graphs``) for one batch of one frame size."""

    def __init__(self, run: Callable, n: int, h: int, w: int, device: torch.device, dtype, stream, graphs: bool,
                 channels_last: bool, looks_width: int = 0, pool=None):
        self.n, self.h, self.w, self.pad = n, h, w, (-h % 4, -w % 4)
        self.dev_looks = torch.empty((n, looks_width), dtype=torch.float32, device=device) if looks_width else None
        self.run_network, self.dtype, self.stream, self.channels_last = run, dtype, stream, channels_last
        self.cuda = device.type == "cuda"
        self.dev_in = torch.empty((n, h, w, 3), dtype=torch.uint8, device=device)
        self.dev_out = torch.empty((n, h, w, 3), dtype=torch.uint8, device=device)
        self.host_in = self.host_out = None
        self._looks_ring: list[list] = []  # [pinned looks, the event of its last copy], used in turn
        self.graphs, self.graph, self.version, self.pool = graphs and self.cuda, None, None, pool
        self.forms: Counter = Counter()  # frames run by the network's compiled form and by its eager one

    def _compute(self) -> None:
        x = self.dev_in.permute(0, 3, 1, 2).to(self.dtype).mul_(1 / 255)
        if any(self.pad):
            x = F.pad(x, (0, self.pad[1], 0, self.pad[0]), mode="reflect")
        x = x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        y = self.run_network(x) if self.dev_looks is None else self.run_network(x, self.dev_looks)
        y = y[:, :, : self.h, : self.w]
        self.dev_out.copy_(y.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1))

    def _version(self) -> object:
        """The network's form for this size now (its compiled form's version, once it took over)."""
        version_for = getattr(self.run_network, "version_for", None)
        return version_for(self.n, self.h + self.pad[0], self.w + self.pad[1]) if version_for else 0

    def _capture(self) -> bool:
        """The device part as a CUDA graph of the network as it is now (warmed up on the side stream
        first, as torch asks); False where another capture or a compile holds the GPU (then eager)."""
        if not CAPTURE_LOCK.acquire(blocking=False):
            return False
        try:
            for _ in range(2):
                self._compute()
            self.stream.synchronize()  # this stream's work only
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph, pool=self.pool, stream=self.stream, capture_error_mode="thread_local"):
                self._compute()
            self.version = self._version()
            return True
        finally:
            CAPTURE_LOCK.release()

    def _replay(self) -> None:
        """On ``self.stream``: the graph replayed, captured first where there is none for the
        network's form of this size; uncaptured where a capture cannot be made now."""
        self.forms["compiled" if self._version() else "eager"] += self.n
        if not self.graphs:
            self._compute()
        elif (self.graph is None or self.version != self._version()) and not self._capture():
            self._compute()
        else:
            self.graph.replay()

    def on_device(self, frames: torch.Tensor, looks: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 [n, h, w, 3] on the device (and ``looks`` [n, looks_width] on the host, where the
        buffers take a look per frame) -> stylized, a new tensor on the device."""
        if not self.cuda:
            self.dev_in.copy_(frames)
            if looks is not None:
                self.dev_looks.copy_(looks)
            self._replay()
            return self.dev_out.clone()
        here = torch.cuda.current_stream(frames.device)
        self.stream.wait_stream(here)           # the frames are ready
        with torch.cuda.stream(self.stream):
            self.dev_in.copy_(frames)
            self._looks_up(looks)
            self._replay()
            out = self.dev_out.clone()
        here.wait_stream(self.stream)           # and the caller's next work sees the result
        out.record_stream(here)
        return out

    def _looks_up(self, looks: torch.Tensor | None) -> None:
        """The batch's looks onto the device from pinned memory, on the network's stream (the graph
        that reads them replays after it there)."""
        if looks is None:
            return
        if len(self._looks_ring) < LOOKS_RING:
            self._looks_ring.append([torch.empty(tuple(self.dev_looks.shape), dtype=torch.float32).pin_memory(), None])
        slot = self._looks_ring.pop(0)
        if slot[1] is not None:
            slot[1].synchronize()  # this buffer's last copy is through (its event alone)
        slot[0].copy_(looks)
        self.dev_looks.copy_(slot[0], non_blocking=True)
        slot[1] = torch.cuda.Event()
        slot[1].record(self.stream)
        self._looks_ring.append(slot)

    def from_host(self, frames: np.ndarray, looks: torch.Tensor | None = None) -> np.ndarray:
        """uint8 [n, h, w, 3] on the host -> stylized on the host: one upload, one download (and
        ``looks``, [n, looks_width] on the host, where the buffers take a look per frame)."""
        if not self.cuda:
            return self.on_device(torch.from_numpy(frames), looks).numpy()
        if self.host_in is None:
            self.host_in = torch.empty((self.n, self.h, self.w, 3), dtype=torch.uint8).pin_memory()
            self.host_out = torch.empty((self.n, self.h, self.w, 3), dtype=torch.uint8).pin_memory()
        self.host_in.numpy()[...] = frames  # free: the last call waited for its copies
        with torch.cuda.stream(self.stream):
            self.dev_in.copy_(self.host_in, non_blocking=True)   # the one upload
            self._looks_up(looks)
            self._replay()
            self.host_out.copy_(self.dev_out, non_blocking=True)  # the one download
        self.stream.synchronize()
        return self.host_out.numpy().copy()


class GpuNetwork:
    """A per-frame network (uint8 HWC in and out, on the host) around ``run(x) -> y`` on device
    tensors, with buffers per (batch, frame size) made on first use and a CUDA stream of its own;
    ``on_device`` takes and gives frames already on the device, by the batch."""

    def __init__(self, run: Callable, device, dtype, graphs: bool, channels_last: bool):
        self.run, self.device, self.dtype = run, torch.device(device), dtype
        self.graphs, self.channels_last = graphs, channels_last
        cuda = self.device.type == "cuda"
        self.stream = torch.cuda.Stream(device=self.device) if cuda else None
        self.pool = torch.cuda.graph_pool_handle() if cuda and graphs else None  # every size's graph in one pool
        self._sizes: OrderedDict[tuple, FrameBuffers] = OrderedDict()
        self._gone: Counter = Counter()  # the forms of sizes no longer kept
        self._lock = threading.Lock()  # one batch at a time on the shared buffers

    def forms(self) -> Counter:
        """Frames this network ran, by the form it ran them in (compiled, eager)."""
        return sum((b.forms for b in list(self._sizes.values())), Counter()) + self._gone

    def _buffers(self, n: int, h: int, w: int, looks_width: int = 0) -> FrameBuffers:
        key = (n, h, w, looks_width)
        buffers = self._sizes.get(key)
        if buffers is None:
            while len(self._sizes) >= MAX_SIZES:  # the least recently used size goes, with its graph
                self._gone += self._sizes.popitem(last=False)[1].forms
            buffers = self._sizes[key] = FrameBuffers(self.run, n, h, w, self.device, self.dtype, self.stream,
                                                      self.graphs, self.channels_last, looks_width, self.pool)
        self._sizes.move_to_end(key)
        return buffers

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        with self._lock, torch.inference_mode():
            return self._buffers(1, h, w).from_host(frame[None])[0]

    def batch(self, frames: np.ndarray, looks: torch.Tensor) -> np.ndarray:
        """uint8 [N, H, W, 3] on the host, each frame in its own style (``looks``: [N, looks_width]
        float32, engines/networks/folded_net.py's ``looks_of``) -> stylized, on the host."""
        with self._lock, torch.inference_mode():
            n, h, w = frames.shape[:3]
            return self._buffers(n, h, w, looks.shape[1]).from_host(frames, looks)

    def on_device(self, frames: torch.Tensor, looks: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 [N, H, W, 3] (or one [H, W, 3]) on this network's device -> stylized, the same shape;
        with ``looks`` ([N, looks_width] on the host) each frame in its own style."""
        one = frames.dim() == 3
        batch = frames[None] if one else frames
        with self._lock, torch.inference_mode():
            width = 0 if looks is None else looks.shape[1]
            out = self._buffers(*batch.shape[:3], width).on_device(batch, looks)
        return out[0] if one else out
