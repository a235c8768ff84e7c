"""The CPU engine: ONNX Runtime, threads tuned to the cores this process may use; the built-in and
picture styles in bf16 through torch where the CPU has BF16 matrix instructions (engines/runtimes/bf16_network.py);
the built-in styles in OpenVINO (fp32, bf16 or int8: engines/runtimes/openvino.py) where it is
installed and measures fastest with the look kept (engines/runtimes/runtime_choice.py).

``runtime``: ``auto`` measures where OpenVINO is installed and the precision is ``auto`` (unless
``STYLECAST_CPU_RUNTIME=onnxruntime`` pins today's rule: bf16 where the CPU has it, else fp32, the
tests' setting); ``openvino`` runs the built-in styles there (``--engine openvino``); ``onnxruntime``
never measures. ``--precision int8`` is OpenVINO's."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

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
from .openvino import openvino_installed
from .runtime_choice import Choice, Runtime, choose


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
                 precision: str = "auto", runtime: str = "auto", size: tuple[int, int] | None = None,
                 notes: Callable[[str], None] | None = None):
        if precision not in PRECISIONS:
            raise OptionError(f"unknown precision {precision!r}; use {', '.join(PRECISIONS)}")
        if precision == "bf16" and not bf16_usable() and runtime != "openvino":
            raise EngineUnavailable("precision bf16 needs a CPU with AMX or AVX-512 BF16 instructions; "
                                    "this one has neither (use --precision fp32)" if not cpu_has_bf16() else
                                    "precision bf16 runs on torch, which is not installed (use --precision fp32)")
        if precision == "bf16" and runtime == "openvino" and not cpu_has_bf16():
            raise EngineUnavailable("precision bf16 needs a CPU with AMX or AVX-512 BF16 instructions; "
                                    "this one has neither (use --precision fp32 or int8)")
        if precision == "int8" or runtime == "openvino":
            if not openvino_installed():
                raise EngineUnavailable(("precision int8" if precision == "int8" else "engine openvino") +
                                        " runs on OpenVINO, which is not installed (pip install 'stylecast[openvino]')")
            runtime = "openvino"
        if runtime == "auto" and (precision != "auto" or not openvino_installed()
                                  or os.environ.get("STYLECAST_CPU_RUNTIME") == "onnxruntime"):
            runtime = "onnxruntime"
        self.runtime, self.asked, self.size, self.notes = runtime, precision, size, notes
        self.threads = threads or usable_cores()
        self.parallel_frames = max(1, usable_cores() // self.threads)
        self.bf16 = precision == "bf16" or (precision == "auto" and bf16_usable())
        self._sessions: dict[tuple, object] = {}  # (model file, runtime, precision) -> session, shared by every style
        self.choices: dict[str, Choice] = {}      # style -> what the measurement chose (runtime auto, openvino)
        if self.bf16:
            import torch

            torch.set_num_threads(self.threads)
        if runtime == "openvino":
            self.name = "openvino"
        super().__init__(style, mix)

    @property
    def precision(self) -> str:
        """What the engine's own style runs in (``precision_for``)."""
        return self.precision_for(self.style)

    def precision_for(self, style: Style) -> str:
        """bf16 for the built-in styles, pictures and keyframe networks where the CPU has it, or a
        built-in style's measured choice ("openvino fp32" where that runs it); user models in fp32."""
        chosen = self._chosen(style) if style.kind == "builtin" else None
        if chosen is not None:  # the runtime named where it is not today's rule's: "openvino int8"
            return chosen.precision if chosen.runtime in ("onnxruntime", "torch") or self.name == "openvino" \
                else str(chosen)
        return ("bf16" if self.bf16 else "fp32") if style.kind in TORCH_KINDS + ("keyframe",) else "fp32"

    def _chosen(self, style: Style) -> Runtime | None:
        """The runtime a built-in style runs on, where it is measured or fixed: None for today's rule."""
        if self.runtime == "onnxruntime":
            return None
        if self.runtime == "openvino" and self.asked != "auto":
            return Runtime("openvino", self.asked)
        key = style.name
        if key not in self.choices:
            self.choices[key] = choose(key, self.size, self.threads, lambda c: self._builtin(style, c),
                                       self.notes, only="openvino" if self.runtime == "openvino" else None,
                                       parallel=self.parallel_frames)
        return self.choices[key].chosen

    def _builtin(self, style: Style, runtime: Runtime) -> Network:
        """The built-in network of ``style`` on ``runtime``."""
        if runtime.runtime == "torch":
            from .bf16_network import Bf16Network

            return Bf16Network(style_layers(style, "cpu", None))
        model = fused_model(builtin_model(), bf16=runtime.precision == "bf16")
        if runtime.runtime == "openvino":
            return BuiltinNetwork(self.openvino_session(model, runtime.precision), style.weights)
        return BuiltinNetwork(self.session(model), style.weights)

    def openvino_session(self, path: Path, precision: str):
        """One OpenVINO session per model file and precision (int8 calibrated on the package's own
        frames under several built-in styles)."""
        key = (path, "openvino", precision)
        if key not in self._sessions:
            from .openvino import OpenVinoSession

            self._sessions[key] = OpenVinoSession(path, precision, self.threads, streams=self.parallel_frames,
                                                  calibration=lambda: _calibration_feeds(self.size))
        return self._sessions[key]

    def session(self, path: Path):
        """One ONNX Runtime session per model file, created on first use and kept."""
        if path not in self._sessions:  # (an ONNX Runtime session is keyed by its file alone)
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
        chosen = self._chosen(style) if style.kind == "builtin" else None
        if chosen is not None:
            return self._builtin(style, chosen)
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


def _calibration_feeds(size: tuple[int, int] | None) -> list[dict]:
    """int8's calibration: the package's own frames, each under another built-in style (the style
    weights move the activations), at the measured size."""
    from engines.catalog import BUILTIN_NAMES, resolve
    from engines.networks.tensors import to_tensor

    from .calibration import calibration_frames
    from .openvino import CALIBRATION_FRAMES
    from .runtime_choice import measured_size

    styles = [resolve(name) for name in BUILTIN_NAMES]
    frames = calibration_frames(*measured_size(size), CALIBRATION_FRAMES)
    return [{"image": to_tensor(f, multiple=4),
             "style_weights": np.ascontiguousarray(styles[i * 5 % len(styles)].weights, dtype=np.float32)}
            for i, f in enumerate(frames)]
