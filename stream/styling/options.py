"""What every job is given about its style, checked in one place.

``StyleOptions`` holds the fields render, live and serve share (style, strength, keep_colors,
stability, engine, precision, max_side, style_scale) with one range check; each job's options extend it with
their own fields (``RenderOptions``, ``LiveOptions``, ``ServeOptions``). The look that may change
while a job runs is taken from them as one :class:`~stream.styling.controls.Controls`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from engines import DEFAULT_STYLE, ENGINE_NAMES
from engines.engine import MAX_SIDE
from engines.errors import OptionError
from engines.runtimes.cpu_features import PRECISIONS
from engines.style_scale import check_style_scale
from stream.core.frame import FRAME_PATHS
from stream.media.decode import MIN_SIDE
from stream.temporal.stabilize import DEFAULT_STABILITY

from .controls import Controls


@dataclass(kw_only=True)
class StyleOptions:
    style: str = DEFAULT_STYLE
    strength: float = 1.0
    keep_colors: bool = False
    stability: float = DEFAULT_STABILITY  # 0 turns stabilization off (the per-frame output, bit for bit)
    engine: str = "auto"
    precision: str = "auto"               # the CPU engine's: measured where OpenVINO is installed, else bf16 where the CPU has it, else fp32
    max_side: int | None = None           # pixels, longer side; None keeps the source size
    style_scale: float = 1.0              # the network runs at this times the frame's size (brush strokes 1/x)
    frame_path: str = "auto"              # where frames live between decode and encode (FRAME_PATHS)

    def check(self) -> None:
        """Every shared field in its range; a job's own ``check`` calls this first."""
        self.controls()
        if self.engine not in ("auto", *ENGINE_NAMES):
            raise OptionError(f"unknown engine {self.engine!r}; use auto, {', '.join(ENGINE_NAMES)}")
        if self.precision not in PRECISIONS:
            raise OptionError(f"unknown precision {self.precision!r}; use {', '.join(PRECISIONS)}")
        check_style_scale(self.style_scale)
        if self.frame_path not in FRAME_PATHS:
            raise OptionError(f"--frame-path must be one of {', '.join(FRAME_PATHS)}, got {self.frame_path!r}")
        if self.max_side is not None and not MIN_SIDE <= self.max_side <= MAX_SIDE:
            raise OptionError(f"--max-side must be between {MIN_SIDE} and {MAX_SIDE} pixels, got {self.max_side}")

    def controls(self) -> Controls:
        """The look this job starts with."""
        style = os.fspath(self.style) if isinstance(self.style, os.PathLike) else self.style  # a picture's Path
        return Controls(style, self.strength, self.keep_colors, self.stability)
