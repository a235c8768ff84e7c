"""The GPU frame path shared by the GPU engines: one upload, one download per frame.

A uint8 RGB frame is copied into a pinned host buffer, uploaded once, converted to the network's
type and layout on the GPU, run, converted back to uint8 on the GPU and downloaded once into a
pinned buffer. Buffers are made once per frame size; where the network allows it, the whole
device part is captured as a CUDA graph and replayed per frame.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np


class FrameBuffers:
    """Buffers (and the CUDA graph, when ``graphs``) for one frame size."""

    def __init__(self, run: Callable, h: int, w: int, device, dtype, stream, graphs: bool, channels_last: bool):
        import torch

        self.h, self.w, self.pad = h, w, (-h % 4, -w % 4)
        self.run_network, self.dtype, self.stream, self.channels_last = run, dtype, stream, channels_last
        self.host_in = torch.empty((h, w, 3), dtype=torch.uint8).pin_memory()
        self.host_out = torch.empty((h, w, 3), dtype=torch.uint8).pin_memory()
        self.dev_in = torch.empty((h, w, 3), dtype=torch.uint8, device=device)
        self.dev_out = torch.empty((h, w, 3), dtype=torch.uint8, device=device)
        self.graph = None
        if graphs:
            with torch.cuda.stream(stream):
                for _ in range(2):  # warm up on the side stream before capture, as torch asks
                    self._compute()
            stream.synchronize()
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph, stream=stream):
                self._compute()

    def _compute(self) -> None:
        import torch
        from torch.nn import functional as F

        x = self.dev_in.permute(2, 0, 1)[None].to(self.dtype).mul_(1 / 255)
        if any(self.pad):
            x = F.pad(x, (0, self.pad[1], 0, self.pad[0]), mode="reflect")
        x = x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        y = self.run_network(x)[0, :, : self.h, : self.w]
        self.dev_out.copy_(y.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(1, 2, 0))

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        import torch

        self.host_in.numpy()[...] = frame
        with torch.cuda.stream(self.stream):
            self.dev_in.copy_(self.host_in, non_blocking=True)   # the one upload
            if self.graph is not None:
                self.graph.replay()
            else:
                self._compute()
            self.host_out.copy_(self.dev_out, non_blocking=True)  # the one download
        self.stream.synchronize()
        return self.host_out.numpy().copy()


class GpuNetwork:
    """A per-frame network (uint8 HWC in and out) around ``run(x) -> y`` on device tensors, with
    buffers per frame size made on first use and a dedicated CUDA stream."""

    def __init__(self, run: Callable, device, dtype, graphs: bool, channels_last: bool):
        import torch

        self.run, self.device, self.dtype = run, device, dtype
        self.graphs, self.channels_last = graphs, channels_last
        self.stream = torch.cuda.Stream(device=device)
        self._sizes: dict[tuple[int, int], FrameBuffers] = {}
        self._lock = threading.Lock()  # one frame at a time on the shared buffers

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        import torch

        h, w = frame.shape[:2]
        with self._lock, torch.inference_mode():
            buffers = self._sizes.get((h, w))
            if buffers is None:
                buffers = self._sizes[(h, w)] = FrameBuffers(self.run, h, w, self.device, self.dtype, self.stream,
                                                             self.graphs, self.channels_last)
            return buffers(frame)
