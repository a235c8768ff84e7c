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
one download) or already on the device (the device frame path, stream/device/). User models run on
the CPU engine.
"""
from __future__ import annotations

from engines.catalog import Style
from engines.engine import Engine, Network
from engines.mix import Mix
from engines.networks.style_layers import style_layers

from .gpu_network import GpuNetwork


class CudaEngine(Engine):
    name = "cuda"

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
        super().__init__(style, mix)

    def _load(self, style: Style) -> Network:
        import torch

        from engines.networks.folded_net import FoldedNet

        run = FoldedNet(style_layers(style, self.name)).to(device=self.device, dtype=self.dtype,
                                                            memory_format=torch.channels_last).eval()
        if self.compile:
            from .compiled import CompiledNetwork

            run = CompiledNetwork(run, self.notes)
            self.compiled.append(run)
        return GpuNetwork(run, self.device, self.dtype, self.graphs, channels_last=True)
