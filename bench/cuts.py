"""Cut finding against the field's standard: stylecast's own finder (stream/edit/cuts.py) beside
PySceneDetect's content, adaptive and hash detectors, every one fed the same frames from
stylecast's one reader (stream/media/decoder.py), on clips whose cuts are known.

    pip install -e '.[bench]' scenedetect
    python -m bench.cuts [--json]

Clips: real footage (bikes.mp4 with its 5 cuts; carphone and Big Buck Bunny's opening, which have
none), the test scene with hard cuts (640x360, at 1.0, 2.2 and 3.0 s), the same panning at three
times its speed (no cut: false cuts only), a 960x540 pan with one hard cut, and the known hard
case: the painted canvas cut to the test scene, two similar textures (tests/support/painted_canvas.py), at
640x360 and at the painted tests' 192x108. A cut counts as
found when it is on the right frame; one frame off counts as late; anything else is false.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from stream.edit.cuts import find_shots
from stream.media.decoder import open_decoder
from stream.media.testsrc import write_test_clip

from .clips import real_clip

DETECTOR_SIDE = 256  # PySceneDetect downscales to about this width by default


def clips(folder: Path) -> list[tuple[str, Path, set[int]]]:
    """(name, path, the first frame of every shot after the first)."""
    from tests.support.painted_canvas import PaintedCanvas

    made = []
    cuts = folder / "scene-cuts.mp4"
    write_test_clip(cuts, seconds=4.0, cuts=(1.0, 2.2, 3.0))
    made.append(("test scene, 3 hard cuts", cuts, {25, 55, 75}))
    fast = folder / "fast-pan.mp4"  # 4.8 px a frame; faster, the scene's background wraps round (a jump)
    write_test_clip(fast, seconds=4.0, pan_px_per_s=120.0)
    made.append(("test scene panning at 120 px/s, no cut", fast, set()))
    pan = folder / "pan-960.mp4"
    write_test_clip(pan, seconds=4.0, width=960, height=540, cuts=(2.0,), seed=7)
    made.append(("960x540 pan, 1 hard cut", pan, {50}))
    canvas = PaintedCanvas(640, 360, 50)
    similar = folder / "similar-textures.mp4"
    write_test_clip(similar, seconds=4.0, cuts=(2.0,), scene=canvas, seed=0)
    made.append(("painted canvas to test scene (similar textures)", similar, {50}))
    small = PaintedCanvas(192, 108, 50)  # as tests/edit/test_painted.py makes it, with the scene it avoids
    similar_small = folder / "similar-textures-192.mp4"
    write_test_clip(similar_small, seconds=4.0, width=192, height=108, cuts=(2.0,), scene=small, seed=0)
    made.append(("the same at 192x108 (the painted tests' size)", similar_small, {50}))
    montage = folder / "montage.mp4"  # a trailer's rapid cuts: a new shot every 8 frames (0.32 s)
    write_test_clip(montage, seconds=4.0, cuts=tuple(k * 0.32 for k in range(1, 13)), seed=11)
    made.append(("montage, a cut every 8 frames", montage, {8 * k for k in range(1, 13)}))
    flash = folder / "flash.mp4"  # a camera flash: two bright frames in one shot, no cut
    write_test_clip(flash, seconds=4.0, scene=_Flash(640, 360, (2.0, 2.04)))
    made.append(("a flash in one shot (2 bright frames), no cut", flash, set()))
    made.append(("bikes.mp4 (real, 5 cuts)", real_clip("bikes"), set(BIKES_CUTS)))
    made.append(("carphone (real, no cut)", real_clip("carphone_pristine"), set()))
    made.append(("Big Buck Bunny opening (real, no cut)", real_clip("bigbuckbunny"), set()))
    return made


class _Flash:
    """The test scene, with the frames at ``times`` lit up as by a flash."""

    def __init__(self, width: int, height: int, times: tuple[float, ...]):
        from stream.media.testsrc import TestScene

        self.scene, self.times = TestScene(width, height, seed=4), times

    def frame(self, t: float) -> np.ndarray:
        picture = self.scene.frame(t)
        if any(abs(t - when) < 1e-6 for when in self.times):
            picture = (picture.astype(np.uint16) // 2 + 128).astype(np.uint8)
        return picture


BIKES_CUTS = (30, 76, 137, 187, 242)  # bikes.mp4's cuts, each checked by eye (frames n-1 and n side by side)


def own_finder(path: Path) -> list[int]:
    return find_shots(path).starts()[1:]


def scenedetect_finder(kind: str, **settings):
    """A PySceneDetect detector (its defaults, but ``settings``) fed BGR frames (DETECTOR_SIDE wide)
    from stylecast's reader."""
    from scenedetect import AdaptiveDetector, ContentDetector, HashDetector
    from scenedetect.common import FrameTimecode

    def find(path: Path) -> list[int]:
        detector = {"content": ContentDetector, "adaptive": AdaptiveDetector, "hash": HashDetector}[kind](**settings)
        found = []
        with open_decoder(path, max_side=DETECTOR_SIDE) as decoder:
            rate = float(decoder.rate)
            last = None
            for item in decoder:
                if not hasattr(item, "image"):
                    continue
                n = decoder.source_index(item)
                last = FrameTimecode(n, rate)
                found += [int(c.frame_num) for c in detector.process_frame(last, cv2.cvtColor(item.image, cv2.COLOR_RGB2BGR))]
            if last is not None:
                found += [int(c.frame_num) for c in detector.post_process(last)]
        return sorted(set(found))

    return find


def score(found: list[int], truth: set[int]) -> dict:
    exact = truth & set(found)
    late = {c for c in truth - exact if c + 1 in found or c - 1 in found}
    near = {c + d for c in late for d in (-1, 1)}
    false = [f for f in found if f not in truth and f not in near]
    return {"found": len(exact), "off_by_one": len(late), "missed": len(truth) - len(exact) - len(late),
            "false": len(false), "cuts": sorted(found)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    finders = {"stylecast": own_finder, **{f"scenedetect-{k}": scenedetect_finder(k) for k in ("content", "adaptive", "hash")},
               "scenedetect-content/1": scenedetect_finder("content", min_scene_len=1)}
    rows, totals = [], {name: {"found": 0, "off_by_one": 0, "missed": 0, "false": 0, "seconds": 0.0} for name in finders}
    with tempfile.TemporaryDirectory() as scratch:
        for label, path, truth in clips(Path(scratch)):
            row = {"clip": label, "cuts": sorted(truth)}
            for name, find in finders.items():
                started = time.perf_counter()
                result = score(find(path), truth)
                result["seconds"] = round(time.perf_counter() - started, 2)
                row[name] = result
                for key in ("found", "off_by_one", "missed", "false", "seconds"):
                    totals[name][key] += result[key]
            rows.append(row)
            if not args.json:
                print(f"{label}: truth {sorted(truth)}")
                for name in finders:
                    r = row[name]
                    print(f"  {name:<22} found {r['found']}, off by one {r['off_by_one']}, missed {r['missed']}, "
                          f"false {r['false']}  {r['cuts']}  ({r['seconds']} s)")
    if args.json:
        print(json.dumps({"clips": rows, "totals": totals}))
    else:
        print("totals:")
        for name, t in totals.items():
            print(f"  {name:<22} found {t['found']}, off by one {t['off_by_one']}, missed {t['missed']}, "
                  f"false {t['false']}  ({t['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
