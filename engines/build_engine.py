"""``stylecast build-engine``: a style's TensorRT engine built ahead of its first use (once per GPU).

The build itself is engines/runtimes/tensorrt.py's; this stage checks what the user asked for first, so a
machine without TensorRT, a user's model or a size out of range is one line, never a traceback.
"""
from __future__ import annotations

import time

from .catalog import resolve
from .engine import MAX_SIDE
from .errors import OptionError
from .networks.style_layers import check_torch_style
from .registry import choose_engine

MIN_SIDE = 64  # pixels, the longer side of the largest frame the engine must take: from this to MAX_SIDE


def build_ahead(spec: str, max_side: int, precision: str = "fp16", progress=None) -> dict:
    """Build (or find verified in the cache) the engine of style ``spec`` (built-in, blend or picture) for frames
    up to ``max_side`` pixels; returns the summary (style, engine file, max_side, precision, seconds)."""
    if not MIN_SIDE <= max_side <= MAX_SIDE:
        raise OptionError(f"--max-side must be between {MIN_SIDE} and {MAX_SIDE} pixels, got {max_side}")
    style = resolve(spec)
    check_torch_style(style, "tensorrt")
    choose_engine("tensorrt", style)  # EngineUnavailable, with the reason, where TensorRT cannot run
    from .runtimes.tensorrt import (
        engine_for,  # imports TensorRT: only once it is known to be there
    )

    started = time.perf_counter()
    _, path = engine_for(style, max_side, precision, progress=progress)
    return {"style": style.name, "engine": str(path), "max_side": max_side, "precision": precision,
            "seconds": round(time.perf_counter() - started, 1)}
