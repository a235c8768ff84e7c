"""The CPU engine: ONNX Runtime, threads tuned to the cores this process may use; the built-in and
picture styles in bf16 through torch where the CPU has BF16 matrix instructions (engines/runtimes/bf16_network.py)."""
from __future__ import annotations

import os
from pathlib import Path

from engines.catalog import Style, builtin_model
from engines.engine import Engine, Network
from engines.errors import EngineUnavailable, OptionError, StyleError
from engines.mix import Mix
from engines.models import ARBITRARY_PREDICT, ARBITRARY_TRANSFORM, packaged_model
from engines.networks.any_size_model import any_size_model
from engines.networks.external_data import check_external_data
from engines.networks.graph_rewrite import fused_model
from engines.networks.onnx_networks import (
    BuiltinNetwork,
    ImageStyleNetwork,
    UserNetwork,
    read_style_image,
    style_vector,
)
from engines.networks.style_layers import TORCH_KINDS, style_layers

from .cpu_features import PRECISIONS, bf16_usable, cpu_has_bf16


def usable_cores() -> int:
    """Cores this process may run on (affinity and cgroup-pinned sets included)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class CpuEngine(Engine):
    """``threads`` per frame. Throughput jobs use 1 and run ``parallel_frames`` frames at once
    (ONNX Runtime allows concurrent runs of one session): 2 single-thread runs on 2 cores beat one
    2-thread run by ~20%, and a core taken by the encoder stalls one frame instead of a barrier that
    every thread waits at. Latency jobs use all cores on one frame."""

    name = "cpu"

    def __init__(self, style: Style | str, mix: Mix = Mix(), threads: int | None = None,
                 precision: str = "auto"):
        if precision not in PRECISIONS:
            raise OptionError(f"unknown precision {precision!r}; use {', '.join(PRECISIONS)}")
        if precision == "bf16" and not bf16_usable():
            raise EngineUnavailable("precision bf16 needs a CPU with AMX or AVX-512 BF16 instructions; "
                                    "this one has neither (use --precision fp32)" if not cpu_has_bf16() else
                                    "precision bf16 runs on torch, which is not installed (use --precision fp32)")
        self.threads = threads or usable_cores()
        self.parallel_frames = max(1, usable_cores() // self.threads)
        self.bf16 = precision == "bf16" or (precision == "auto" and bf16_usable())
        self._sessions: dict[Path, object] = {}  # model file -> session, shared by every style that uses it
        if self.bf16:
            import torch

            torch.set_num_threads(self.threads)
        super().__init__(style, mix)

    @property
    def precision(self) -> str:
        """What the built-in and picture styles run in: bf16 (torch, AMX) or fp32 (ONNX Runtime)."""
        return "bf16" if self.bf16 else "fp32"

    def precision_for(self, style: Style) -> str:
        """bf16 for the built-in styles, pictures and keyframe networks where the CPU has it; user
        models run in fp32."""
        return self.precision if style.kind in TORCH_KINDS + ("keyframe",) else "fp32"

    def session(self, path: Path):
        """One ONNX Runtime session per model file, created on first use and kept."""
        if path not in self._sessions:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            opts.log_severity_level = 3
            if self.threads > 1:  # latency mode shares the cores with capture and output threads: no busy-waiting
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            try:
                self._sessions[path] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
                raise StyleError(f"cannot load ONNX model {path.name}: {str(exc).splitlines()[0][:200]}") from None
        return self._sessions[path]

    def _load(self, style: Style) -> Network:
        vector = None
        if style.kind == "image":
            vector = style_vector(self.session(packaged_model(ARBITRARY_PREDICT)), read_style_image(style.path))
        if style.kind in TORCH_KINDS and self.bf16:
            from .bf16_network import Bf16Network

            return Bf16Network(style_layers(style, self.name, vector))
        if style.kind == "builtin":
            return BuiltinNetwork(self.session(fused_model(builtin_model())), style.weights)
        if style.kind == "image":
            return ImageStyleNetwork(self.session(any_size_model(packaged_model(ARBITRARY_TRANSFORM))), vector)
        if style.kind == "onnx":
            check_external_data(style.path)
            return UserNetwork(self.session(style.path), style.path)
        if style.kind == "keyframe":  # a network trained from a shot's painted keyframes
            from engines.networks.keyframe_net import KeyframeNetwork, load_keyframe_net

            return KeyframeNetwork(load_keyframe_net(style.path), self.bf16)
        if style.kind == "torch":
            from engines.networks.export import onnx_from_checkpoint

            return UserNetwork(self.session(onnx_from_checkpoint(style.path)), style.path)
        raise StyleError(f"unknown style kind {style.kind!r}")
