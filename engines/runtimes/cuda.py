"""The torch engine: the style networks in torch, fp16 on a CUDA GPU (``--engine cuda``), for
machines without TensorRT; the same code in fp32 on the CPU (``device="cpu"``), which is how its
every step is checked here.

The style is folded into its network (engines/networks/style_layers.py: a built-in style or blend
into the 26-style network, a picture into the picture-style transformer), in the fast form of
engines/networks/folded_net.py (float32 statistics as one ``var_mean``, norm and ReLU as one
multiply-add, each 2x enlargement inside its convolution), channels-last, compiled by
``torch.compile`` where that finishes in bounded time (engines/runtimes/compiled.py; eager until
then, and for good if it fails, with the reason told), on the frame buffers of
engines/runtimes/gpu_network.py: CUDA graphs per batch and size, frames from the host (one upload,
one download) or already on the device (the device frame path, stream/framepath/). User models run on
the CPU engine.

Frames of different styles share a batch (``run_batch``, a server's viewers): the built-in styles
and blends are one network and the pictures another, differing per style only in their norms'
scales and shifts, so each family has one network taking a look per frame. A batch is padded to
the next power of two, so a handful of sizes are compiled and captured, not one per viewer count.
"""
from __future__ import annotations

import threading
from collections import Counter

import numpy as np

from engines.catalog import Style
from engines.engine import Engine, Network
from engines.mix import Mix
from engines.networks.style_layers import TORCH_KINDS, style_layers

from .gpu_network import GpuNetwork


class CudaEngine(Engine):
    name = "cuda"
    batches = True

    def __init__(self, style: Style | str, mix: Mix = Mix(), device: str = "cuda", half: bool | None = None,
                 graphs: bool = True, compile: bool | None = None, notes=None):
        import torch

        self.device = torch.device(device)
        on_gpu = self.device.type == "cuda"
        half = on_gpu if half is None else half
        self.dtype = torch.float16 if half else torch.float32
        self.precision = "fp16" if half else "fp32"
        self.graphs = graphs and on_gpu
        self.compile = on_gpu if compile is None else compile
        self.notes = notes
        self.compiled: list = []  # each style's CompiledNetwork, for doctor and the summaries
        self._families: dict[str, GpuNetwork] = {}  # style kind -> its network taking a look per frame
        self._networks: list[GpuNetwork] = []       # every network it made, for network_forms
        self._family_lock = threading.Lock()
        super().__init__(style, mix)

    def _load(self, style: Style) -> Network:
        return self._gpu_network(style_layers(style, self.name))

    def _gpu_network(self, layers) -> GpuNetwork:
        import torch

        from engines.networks.folded_net import FoldedNet

        run = FoldedNet(layers).to(device=self.device, dtype=self.dtype, memory_format=torch.channels_last).eval()
        if self.compile:
            from .compiled import CompiledNetwork

            run = CompiledNetwork(run, self.notes)
            self.compiled.append(run)
        network = GpuNetwork(run, self.device, self.dtype, self.graphs, channels_last=True)
        self._networks.append(network)
        return network

    def network_forms(self) -> dict | None:
        if not self.compile:
            return None
        total = sum((n.forms() for n in self._networks), Counter())
        return {"compiled": total["compiled"], "eager": total["eager"]}

    def batch_key(self, style: Style) -> tuple[str, object] | None:
        if style.kind not in TORCH_KINDS:
            return None
        from engines.networks.folded_net import looks_of

        layers = style_layers(style, self.name)
        with self._family_lock:
            if style.kind not in self._families:
                self._families[style.kind] = self._gpu_network(layers)
        return style.kind, looks_of(layers)

    def run_batch(self, family: str, frames, looks: list):
        """Frames on the host (numpy) or already on this engine's device (torch, a device frame
        path's): padded to the next power of two (the last frame repeated), so a handful of batch
        sizes are compiled and captured, not one per viewer count."""
        import torch

        n = len(frames)
        padded = 1 << (n - 1).bit_length()
        looks = [*looks, *[looks[-1]] * (padded - n)]
        network = self._families[family]
        if isinstance(frames, torch.Tensor):
            if padded > n:
                frames = torch.cat([frames, frames[-1:].expand(padded - n, *frames.shape[1:])])
            return network.on_device(frames, torch.stack(looks))[:n]
        if padded > n:
            frames = np.concatenate([frames, np.repeat(frames[-1:], padded - n, axis=0)])
        return network.batch(frames, torch.stack(looks))[:n]
