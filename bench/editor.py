"""Editor-ready media (issue #15), measured: mezzanine codecs against H.264 on the same render,
the strength-0 round trip's fidelity, and an image sequence in and out.

    python -m bench.editor [--runs 3] [--clip bigbuckbunny] [--sequence-frames 150] [--json]

1. **Cost**: the same render (real 1280x720 footage, the default style, stabilized) written as
   H.264, ProRes 422 HQ by ``prores_aw`` (what ``--codec prores`` uses), ProRes by ``prores_ks`` and
   DNxHR HQX, run alternating, median wall time of ``--runs``; ratios against H.264.
2. **Fidelity at strength 0**: PSNR over Y, U and V (as FFmpeg's psnr filter averages them) and the
   mean level shift per RGB channel, of each output against its source: the real clip, and the
   test scene written as BT.709 limited-range H.264 (and as full range).
3. **Sequences**: a ``--sequence-frames`` 960x540 PNG sequence numbered from 101 to ProRes HQ and
   to ``out/%04d.png``: frames, format, numbers, wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import Interpolation

from stream.media.codecs import CODECS
from stream.media.colour import _CONVERTER_MATRIX, Colour
from stream.media.testsrc import write_test_clip, write_test_sequence
from stream.render.job import RenderOptions, render

from .clips import real_clip
from .machine import cpu_name

PRECISE = Interpolation.BICUBIC | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
# prores_ks, for comparison only: the same profile and vendor through FFmpeg's other ProRes encoder
CODECS.setdefault("prores_ks", replace(CODECS["prores"], name="prores_ks", encoder="prores_ks"))
OUTPUTS = {"h264": ".mp4", "prores": ".mov", "prores_ks": ".mov", "dnxhr": ".mov"}


def source_colour(path: Path) -> Colour:
    with av.open(str(path)) as c:
        return Colour.of_stream(c.streams.video[0].codec_context)


def yuv420(path: Path, colour: Colour) -> list[list[np.ndarray]]:
    """Every frame as 8-bit 4:2:0 planes in ``colour``'s matrix and range (the source's), so that an
    output in another matrix or range (DNxHR is BT.709, ProRes limited range) is compared fairly."""
    planes = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            g = f.reformat(format="yuv420p", dst_colorspace=_CONVERTER_MATRIX.get(colour.matrix, 5),
                           dst_color_range=colour.range, interpolation=PRECISE)
            planes.append([np.frombuffer(p, np.uint8).reshape(p.height, -1)[:, :p.width].astype(np.float32)
                           for p in g.planes])
    return planes


def rgb_mean(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        sums = [f.to_ndarray(format="rgb24", interpolation=PRECISE).reshape(-1, 3).mean(axis=0) for f in c.decode(video=0)]
    return np.mean(sums, axis=0)


def fidelity(source: Path, output: Path) -> dict:
    colour = source_colour(source)
    a, b = yuv420(source, colour), yuv420(output, colour)
    assert len(a) == len(b), (len(a), len(b))
    se = [sum(float(np.sum((fa[i] - fb[i]) ** 2)) for fa, fb in zip(a, b)) for i in range(3)]
    n = [sum(f[i].size for f in a) for i in range(3)]

    def db(err, count):
        return round(10 * np.log10(255 ** 2 / max(err / count, 1e-12)), 2)

    shift = rgb_mean(output) - rgb_mean(source)
    return {"psnr_yuv_db": db(sum(se), sum(n)), "psnr_y_db": db(se[0], n[0]),
            "shift_rgb": [round(float(x), 3) for x in shift]}


def timed_render(**kw) -> tuple[float, dict]:
    started = time.perf_counter()
    result = render(RenderOptions(overwrite=True, **kw))
    return time.perf_counter() - started, result.as_dict()


def cost(clip: Path, folder: Path, runs: int) -> dict:
    times: dict[str, list[float]] = {c: [] for c in OUTPUTS}
    for _ in range(runs):
        for codec, suffix in OUTPUTS.items():  # alternating, so drift in the machine hits all alike
            seconds, result = timed_render(input=clip, output=folder / f"cost-{codec}{suffix}", codec=codec)
            times[codec].append(seconds)
    medians = {c: statistics.median(t) for c, t in times.items()}
    return {c: {"median_s": round(m, 2), "runs_s": [round(t, 2) for t in times[c]],
                "vs_h264": round(m / medians["h264"], 3),
                "bytes": (folder / f"cost-{c}{OUTPUTS[c]}").stat().st_size} for c, m in medians.items()}


def round_trips(clip: Path, folder: Path) -> dict:
    sources = {"real clip": clip}
    for name, kw in (("scene BT.709 limited", {"bt709": True}), ("scene full range", {"full_range": True})):
        path = folder / f"{name.replace(' ', '-').replace('.', '')}.mp4"
        write_test_clip(path, seconds=2, width=1280, height=720, **kw)
        sources[name] = path
    table = {}
    for name, source in sources.items():
        for codec, suffix in OUTPUTS.items():
            out = folder / f"rt-{codec}{suffix}"
            timed_render(input=source, output=out, codec=codec, strength=0.0)
            table[f"{name} -> {codec}"] = fidelity(source, out)
    return table


def sequences(folder: Path, frames: int) -> dict:
    shot = folder / "shot"
    write_test_sequence(shot, range(101, 101 + frames), width=960, height=540)
    pattern = shot / "a_%04d.png"
    mov_s, mov = timed_render(input=pattern, output=folder / "seq.mov", codec="prores", fps=24)
    png_s, png = timed_render(input=pattern, output=folder / "seq-out" / "%04d.png")
    names = sorted(os.listdir(folder / "seq-out"))
    with av.open(str(folder / "seq.mov")) as c:
        v = c.streams.video[0]
        decoded = sum(1 for _ in c.decode(v))
        fmt = (v.codec_context.profile, v.codec_context.pix_fmt, str(v.average_rate), v.metadata.get("timecode"))
    return {"prores": {"frames": decoded, "profile_pix_fmt_rate_timecode": fmt, "seconds": round(mov_s, 2)},
            "png": {"files": len(names), "first": names[0], "last": names[-1], "seconds": round(png_s, 2)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", default="bigbuckbunny", help="bikes, bigbuckbunny, or a path")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sequence-frames", type=int, default=150)
    ap.add_argument("--only", choices=("cost", "round_trip", "sequence"), help="run one part")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    clip = Path(args.clip) if Path(args.clip).is_file() else real_clip(args.clip)
    parts = {"cost": lambda folder: cost(clip, folder, args.runs), "round_trip": lambda folder: round_trips(clip, folder),
             "sequence": lambda folder: sequences(folder, args.sequence_frames)}
    with tempfile.TemporaryDirectory() as tmp:
        report = {"cpu": cpu_name(), "clip": clip.name}
        report.update({name: run(Path(tmp)) for name, run in parts.items() if args.only in (None, name)})
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
