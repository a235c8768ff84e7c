"""The torch CUDA engine: the style networks in fp16 on a GPU, for machines without TensorRT.

The style is folded into its network (engines/networks/style_layers.py: a built-in style or blend into the
26-style network, a picture into the picture-style transformer), which runs channels-last in fp16
as a CUDA graph on the frame path of engines/runtimes/gpu_network.py (one upload, one download), at the
frame's own size. User models run on the CPU engine. Verified here only on the CPU (the networks
against ONNX Runtime, tests/engines/test_torch_network.py and tests/engines/test_picture_net.py); the GPU path runs
where CUDA does (tests marked ``gpu``).
"""
from __future__ import annotations

from engines.catalog import Style
from engines.engine import Engine, Network
from engines.mix import Mix
from engines.networks.style_layers import style_layers

from .gpu_network import GpuNetwork


class CudaEngine(Engine):
    name = "cuda"

    def __init__(self, style: Style | str, mix: Mix = Mix(), device: str = "cuda", half: bool = True,
                 graphs: bool = True):
        import torch

        self.device = torch.device(device)
        self.dtype = torch.float16 if half else torch.float32
        self.precision = "fp16" if half else "fp32"
        self.graphs = graphs
        super().__init__(style, mix)

    def _load(self, style: Style) -> Network:
        import torch

        from engines.networks.folded_net import FoldedNet

        folded = FoldedNet(style_layers(style, self.name)).to(device=self.device, dtype=self.dtype,
                                                              memory_format=torch.channels_last).eval()
        return GpuNetwork(folded, self.device, self.dtype, self.graphs, channels_last=True)
