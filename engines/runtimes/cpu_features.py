"""What this CPU can do, read without importing torch: whether it has BF16 matrix instructions."""
from __future__ import annotations

import functools
import importlib.util

PRECISIONS = ("auto", "bf16", "fp32", "int8")  # what the CPU engine runs the built-in styles in (int8: OpenVINO)


@functools.lru_cache(maxsize=1)
def bf16_instructions() -> str:
    """The CPU's bf16 matrix instructions: "AMX", "AVX-512 BF16", or "" where it has neither (there
    oneDNN emulates bf16, slower than fp32, so the fp32 path is kept)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return ""
    return "AMX" if "amx_bf16" in flags else "AVX-512 BF16" if "avx512_bf16" in flags else ""


def cpu_has_bf16() -> bool:
    """True where the CPU runs bf16 arithmetic natively (AMX or AVX-512 BF16)."""
    return bool(bf16_instructions())


def bf16_usable() -> bool:
    """bf16 needs the instructions and torch (which ships oneDNN's AMX kernels)."""
    return cpu_has_bf16() and importlib.util.find_spec("torch") is not None
