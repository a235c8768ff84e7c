"""The frame path of the torch engines (torch CUDA, TensorRT): a style network on uint8 RGB frames,
by the batch, on any torch device.

Frames come from the host (the Engine contract: one upload into a pinned buffer, one download) or
are already on the device (the device frame path, stream/device/: nothing crosses the bus). On the
device they are converted to the network's type and layout, run, and converted back to uint8 RGB
there. Buffers are made once per (batch, height, width); on a CUDA device the whole device part is
captured as a CUDA graph per (batch, size) and replayed, on a stream of its own, and captured anew
when the network under it changes (its compiled form taking over: engines/runtimes/compiled.py).
On the CPU (device "cpu") the same arithmetic runs as it is, which is how it is tested here.

``batch(frames, looks)`` runs a batch with a style per frame (each frame's packed scales and shifts,
engines/networks/folded_net.py): the looks are one more buffer of the batch, copied in before the
graph replays, so one graph serves every mix of styles.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F


class FrameBuffers:
    """Device buffers (and the CUDA graph, when ``graphs``) for one batch of one frame size."""

    def __init__(self, run: Callable, n: int, h: int, w: int, device: torch.device, dtype, stream, graphs: bool,
                 channels_last: bool, looks_width: int = 0):
        self.n, self.h, self.w, self.pad = n, h, w, (-h % 4, -w % 4)
        self.dev_looks = torch.empty((n, looks_width), dtype=torch.float32, device=device) if looks_width else None
        self.run_network, self.dtype, self.stream, self.channels_last = run, dtype, stream, channels_last
        self.cuda = device.type == "cuda"
        self.dev_in = torch.empty((n, h, w, 3), dtype=torch.uint8, device=device)
        self.dev_out = torch.empty((n, h, w, 3), dtype=torch.uint8, device=device)
        self.host_in = self.host_out = None
        self.graphs, self.graph, self.version = graphs and self.cuda, None, None

    def _compute(self) -> None:
        x = self.dev_in.permute(0, 3, 1, 2).to(self.dtype).mul_(1 / 255)
        if any(self.pad):
            x = F.pad(x, (0, self.pad[1], 0, self.pad[0]), mode="reflect")
        x = x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        y = self.run_network(x) if self.dev_looks is None else self.run_network(x, self.dev_looks)
        y = y[:, :, : self.h, : self.w]
        self.dev_out.copy_(y.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1))

    def _capture(self) -> None:
        """The device part as a CUDA graph, made with the network as it is now (warmed up on the side
        stream first, as torch asks)."""
        with torch.cuda.stream(self.stream):
            for _ in range(2):
                self._compute()
        self.stream.synchronize()
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, stream=self.stream, capture_error_mode="thread_local"):
            self._compute()
        self.version = getattr(self.run_network, "version", 0)

    def _replay(self) -> None:
        if not self.graphs:
            self._compute()
            return
        if self.graph is None or self.version != getattr(self.run_network, "version", 0):
            self._capture()
        self.graph.replay()

    def on_device(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 [n, h, w, 3] on the device -> stylized, a new tensor on the device."""
        if not self.cuda:
            self.dev_in.copy_(frames)
            self._compute()
            return self.dev_out.clone()
        here = torch.cuda.current_stream(frames.device)
        self.stream.wait_stream(here)           # the frames are ready
        with torch.cuda.stream(self.stream):
            self.dev_in.copy_(frames)
            self._replay()
        here.wait_stream(self.stream)           # and the caller's next work sees the result
        return self.dev_out.clone()

    def from_host(self, frames: np.ndarray, looks: torch.Tensor | None = None) -> np.ndarray:
        """uint8 [n, h, w, 3] on the host -> stylized on the host: one upload, one download (and
        ``looks``, [n, looks_width] on the host, where the buffers take a look per frame)."""
        if looks is not None:
            self.dev_looks.copy_(looks, non_blocking=self.cuda)
        if not self.cuda:
            return self.on_device(torch.from_numpy(frames)).numpy()
        if self.host_in is None:
            self.host_in = torch.empty((self.n, self.h, self.w, 3), dtype=torch.uint8).pin_memory()
            self.host_out = torch.empty((self.n, self.h, self.w, 3), dtype=torch.uint8).pin_memory()
        self.host_in.numpy()[...] = frames
        with torch.cuda.stream(self.stream):
            self.dev_in.copy_(self.host_in, non_blocking=True)   # the one upload
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
        self.stream = torch.cuda.Stream(device=self.device) if self.device.type == "cuda" else None
        self._sizes: dict[tuple[int, int, int], FrameBuffers] = {}
        self._lock = threading.Lock()  # one batch at a time on the shared buffers

    def _buffers(self, n: int, h: int, w: int, looks_width: int = 0) -> FrameBuffers:
        buffers = self._sizes.get((n, h, w, looks_width))
        if buffers is None:
            buffers = self._sizes[(n, h, w, looks_width)] = FrameBuffers(
                self.run, n, h, w, self.device, self.dtype, self.stream, self.graphs, self.channels_last, looks_width)
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

    def on_device(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 [N, H, W, 3] (or one [H, W, 3]) on this network's device -> stylized, the same shape."""
        one = frames.dim() == 3
        batch = frames[None] if one else frames
        with self._lock, torch.inference_mode():
            out = self._buffers(*batch.shape[:3]).on_device(batch)
        return out[0] if one else out
