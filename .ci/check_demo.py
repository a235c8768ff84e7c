"""Check what ``stylecast render`` wrote on its built-in default (the README's main job): every
frame of the 5-second test scene, and its sound, whole. CI runs it on the second Python.

    python .ci/check_demo.py summary.json      # the render's --json summary
"""
from __future__ import annotations

import json
import sys

import av

FRAMES, SECONDS = 125, 5.0  # the built-in scene: 5 s at 25 frames/s, with a tone


def main(summary_path: str) -> int:
    with open(summary_path) as f:
        summary = json.load(f)
    with av.open(summary["output"]) as clip:
        frames = sum(1 for _ in clip.decode(video=0))
    with av.open(summary["output"]) as clip:
        rate = clip.streams.audio[0].sample_rate
        sound = sum(frame.samples for frame in clip.decode(audio=0)) / rate
    if not (frames == summary["frames"] == FRAMES and abs(sound - SECONDS) < 0.05):
        print(f"the demo is not whole: {frames} frames (want {FRAMES}), {sound:.3f} s of sound (want {SECONDS})",
              file=sys.stderr)
        return 1
    print(f"{summary['output']}: {frames} frames, {sound:.2f} s of sound, PyAV {av.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
