"""Engine choice: which engines can run here, why not, and opening one by name.

``auto`` takes the fastest engine available and says which. An engine asked for by name that
cannot run here is an error, never a silent fall back to the CPU.
"""
from __future__ import annotations

from dataclasses import dataclass

from engines.networks.style_layers import TORCH_KINDS

from .catalog import Style, resolve
from .engine import Engine
from .errors import EngineUnavailable, OptionError, StyleError
from .mix import Mix

ENGINE_NAMES = ("tensorrt", "cuda", "cpu", "openvino")  # ``auto`` takes the first available (the CPU engine
# measures its runtimes, OpenVINO's among them: engines/runtimes/runtime_choice.py)


@dataclass(frozen=True)
class EngineStatus:
    name: str
    available: bool
    reason: str


def _nvidia_driver() -> bool:
    """A cheap look for NVIDIA's driver, so that machines without one never pay torch's import (~1 s)."""
    import ctypes.util
    import os

    return os.path.exists("/proc/driver/nvidia/version") or ctypes.util.find_library("cuda") is not None


def _cuda_device() -> str | None:
    """Why there is no usable CUDA device, or None when there is one."""
    if not _nvidia_driver():
        return "no NVIDIA driver on this machine"
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    if not torch.cuda.is_available():
        return "no CUDA device (torch.cuda.is_available() is False)"
    return None


def _cpu_bf16() -> bool:
    from engines.runtimes.cpu_features import cpu_has_bf16

    return cpu_has_bf16()


def engine_status(name: str) -> EngineStatus:
    """Whether engine ``name`` can run here, and the reason when it cannot."""
    if name == "cpu":
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return EngineStatus(name, False, "onnxruntime is not installed")
        from engines.runtimes.cpu_features import bf16_instructions, bf16_usable
        from engines.runtimes.openvino import openvino_installed

        measured = "; the built-in styles on the runtime measured fastest here (OpenVINO's among them)" \
            if openvino_installed() else ""
        return EngineStatus(name, True, (f"ONNX Runtime on the CPU; built-in and picture styles in bf16 (torch, "
                                         f"{bf16_instructions()})" if bf16_usable() else "ONNX Runtime on the CPU (fp32)")
                            + measured)
    if name == "openvino":
        from engines.runtimes.openvino import openvino_devices, openvino_installed

        if not openvino_installed():
            return EngineStatus(name, False, "OpenVINO is not installed (pip install 'stylecast[openvino]')")
        return EngineStatus(name, True, f"OpenVINO on {', '.join(openvino_devices())}: the built-in styles in fp32, "
                                        "int8 (NNCF)" + (", bf16" if _cpu_bf16() else ""))
    if name in ("cuda", "tensorrt"):
        why = _cuda_device()
        if why is None and name == "tensorrt":
            try:
                import tensorrt  # noqa: F401
            except ImportError:
                why = "the tensorrt package is not installed (NVIDIA's builder; see README)"
        if why is not None:
            return EngineStatus(name, False, why)
        import torch

        device = torch.cuda.get_device_name()
        return EngineStatus(name, True, f"TensorRT FP16 on {device}" if name == "tensorrt" else f"torch fp16 on {device}")
    raise OptionError(f"unknown engine {name!r}; use auto, {', '.join(ENGINE_NAMES)}")


GPU_ENGINES = ("tensorrt", "cuda")  # run the built-in styles, blends and pictures (not user models)


def choose_engine(name: str, style: Style) -> tuple[str, str | None]:
    """(engine to open, a note for the user or None). ``auto`` takes the fastest engine that is
    available and runs ``style``, and says so when it passes over a faster one."""
    if name != "auto":
        status = engine_status(name)
        if not status.available:
            raise EngineUnavailable(f"engine {name!r} is not available here: {status.reason}")
        return name, None
    skipped = []
    for candidate in ENGINE_NAMES:
        status = engine_status(candidate)
        if not status.available:
            continue
        if candidate in GPU_ENGINES and style.kind not in TORCH_KINDS:
            skipped.append(f"{candidate} runs built-in and picture styles only")
            continue
        return candidate, (f"engine auto chose {candidate} ({'; '.join(skipped)})" if skipped else None)
    raise EngineUnavailable("no engine can run here: " + "; ".join(
        f"{n}: {engine_status(n).reason}" for n in ENGINE_NAMES))


def _construct(name: str, style: Style, mix: Mix, throughput: bool, max_side: int | None, notes,
               precision: str, size: tuple[int, int] | None) -> Engine:
    if name == "tensorrt":
        from engines.runtimes.tensorrt import TensorRTEngine

        return TensorRTEngine(style, mix, max_side=max_side or 1920, progress=notes, size=size)
    if name == "cuda":
        from engines.runtimes.cuda import CudaEngine

        return CudaEngine(style, mix, notes=notes)
    from engines.runtimes.cpu import CpuEngine

    return CpuEngine(style, mix, threads=1 if throughput else None, precision=precision,
                     runtime="openvino" if name == "openvino" else "auto", size=size, notes=notes)


def open_engine(name: str, style: Style | str, mix: Mix = Mix(), throughput: bool = False,
                max_side: int | None = None, notes=None, precision: str = "auto",
                size: tuple[int, int] | None = None) -> Engine:
    """Open engine ``name`` (or the fastest available for ``auto``) with ``style`` loaded.
    ``throughput`` tunes for many frames at once (files) rather than the latency of one (live);
    ``notes(line)`` hears which engine ``auto`` chose when it passed over a faster one;
    ``precision`` is the CPU engine's number format (engines/runtimes/cpu_features.py); ``size``
    (width, height) the job's frames, where it knows them (TensorRT tunes its engine for them).

    A GPU engine that fails to load (out of memory, a driver fault) is an error when it was asked
    for by name; under ``auto`` the next engine is tried, and the note says so."""
    style = resolve(style)
    chosen, note = choose_engine(name, style)
    while True:
        if note and notes:
            notes(note)
        try:
            return _construct(chosen, style, mix, throughput, max_side, notes, precision, size)
        except StyleError:
            raise
        except Exception as exc:  # torch and TensorRT raise their own kinds (OOM, driver, build)
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
            if name != "auto" or chosen == "cpu":
                raise EngineUnavailable(f"engine {chosen!r} could not start: {reason}") from None
            rest = ENGINE_NAMES[ENGINE_NAMES.index(chosen) + 1:]
            failed = chosen
            chosen = next(n for n in rest if engine_status(n).available)
            note = f"engine {failed} could not start ({reason}); using {chosen}"
