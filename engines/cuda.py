"""The torch CUDA engine: the 26-style network in fp16 on a GPU, for machines without TensorRT.

The style is folded into the network (engines/multistyle_net.py), which runs channels-last in
fp16 as a CUDA graph on the frame path of engines/gpu_network.py (one upload, one download).
Built-in styles and blends only: pictures as styles and user models run on the CPU engine.
Verified here only on the CPU (the network against ONNX Runtime, tests/test_torch_network.py);
the GPU path runs where CUDA does (tests marked ``gpu``).
"""
from __future__ import annotations

from .catalog import Style, builtin_model
from .engine import Engine, Network
from .errors import StyleError
from .gpu_network import GpuNetwork
from .look import Look


def gpu_only(engine: str, style: Style) -> None:
    if style.kind != "builtin":
        raise StyleError(f"the {engine} engine runs the built-in styles and blends; {style.name} is a "
                         f"{style.kind} style: use --engine cpu for it")


class CudaEngine(Engine):
    name = "cuda"

    def __init__(self, style: Style | str, look: Look = Look(), device: str = "cuda", half: bool = True,
                 graphs: bool = True):
        import torch

        from .multistyle_net import MultistyleNet

        self.device = torch.device(device)
        self.dtype = torch.float16 if half else torch.float32
        self.precision = "fp16" if half else "fp32"
        self.graphs = graphs
        self._net = MultistyleNet.from_onnx(builtin_model()).eval()
        super().__init__(style, look)

    def _load(self, style: Style) -> Network:
        import torch

        gpu_only(self.name, style)
        folded = self._net.fold(style.weights).to(device=self.device, dtype=self.dtype,
                                                  memory_format=torch.channels_last).eval()
        return GpuNetwork(folded, self.device, self.dtype, self.graphs, channels_last=True)
