"""The file-to-file job: decode -> stylize -> encode, with sound and timing kept.

Everything the user gave is checked (numbers, output, input, style, engine) before a byte is
written; the output appears only when complete.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from engines import open_engine, resolve
from engines.errors import OptionError, OutputError

from .decode import FileDecoder
from .encode import FRAGMENTED, LONG_FILM_S, PRESETS, FileEncoder, can_fragment, container_format
from .frame import Frame
from .notes import note
from .output_file import AtomicOutput
from .options import StyleOptions
from .pipeline import run_pipeline
from .stabilize import Stabilizer
from .testsrc import write_test_clip


@dataclass(kw_only=True)
class RenderOptions(StyleOptions):
    """One render. ``input`` None renders the built-in test scene (5 s, 640x360, with a tone);
    ``output`` None writes ``<input>-<style>.mp4`` beside the input (``default_output``)."""

    input: Path | None = None
    output: Path | None = None
    crf: int = 18
    preset: str = "faster"   # x264; on 2 cores medium costs ~15% of throughput
    overwrite: bool = False
    ignore_errors: bool = False
    fragmented: bool | None = None   # MP4/MOV in fragments; None: when the input lasts over LONG_FILM_S

    def check(self) -> None:
        super().check()
        if not 0 <= self.crf <= 51:
            raise OptionError(f"--crf must be between 0 and 51, got {self.crf}")
        if self.preset not in PRESETS:
            raise OptionError(f"--preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        fmt = container_format(self.output)  # refuses an extension it cannot write
        if self.fragmented and not can_fragment(fmt):
            raise OptionError(f"--fragmented applies to .mp4 and .mov outputs, not {self.output.suffix}")
        if self.input is not None and self.input.exists() and self.output.exists() \
                and self.input.resolve() == self.output.resolve():
            raise OutputError("the output would replace the input; choose another output path")


@dataclass
class RenderResult:
    frames: int
    seconds: float
    fps: float
    engine: str
    style: str
    output: str
    precision: str = "fp32"
    lost_frames: int = 0
    stability: float = 0.0
    fragmented: bool = False
    scene_cuts: int = 0
    copied_packets: int = 0
    dropped_packets: int = 0          # damaged packets of copied streams left out (--ignore-errors)
    skipped_streams: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def render(opts: RenderOptions, progress: Callable[[int | None], Callable[[int], None]] | None = None) -> RenderResult:
    """Run one render. ``progress(total)`` may return an ``advance(n)`` callback for a progress bar."""
    if opts.output is None:
        opts = replace(opts, output=default_output(opts.input, resolve(opts.style).name))
    opts.check()
    controls = opts.controls()
    style = resolve(controls.style)
    with AtomicOutput(opts.output, opts.overwrite) as partial, tempfile.TemporaryDirectory() as scratch:
        source = opts.input
        if source is None:
            source = Path(scratch) / "testsrc.mkv"
            write_test_clip(source)
        decoder = FileDecoder(source, opts.max_side, opts.ignore_errors)
        try:
            engine = open_engine(opts.engine, style, controls.look, throughput=True,
                                 max_side=opts.max_side, notes=note, precision=opts.precision)
            fmt = container_format(opts.output)
            fragmented = can_fragment(fmt) and (opts.fragmented if opts.fragmented is not None
                                                else (decoder.duration or 0) > LONG_FILM_S)
            encoder = FileEncoder(partial, fmt, decoder.container, decoder.video, decoder.copy_streams, opts.crf,
                                  opts.preset, options=FRAGMENTED if fragmented else None,
                                  ignore_errors=opts.ignore_errors)
            advance = progress(decoder.expected_frames) if progress else (lambda n=1: None)

            stabilizer = Stabilizer(controls.stability)

            def stylize(item):
                if isinstance(item, Frame):
                    item.original, item.image = item.image, engine.stylize_one(item.image)
                return item

            def stabilize(item):  # sequential: each frame builds on the one before
                if isinstance(item, Frame):
                    item.image = stabilizer(item.original, item.image)
                return item

            def write(item):
                encoder.write(item)
                if isinstance(item, Frame):
                    advance(1)

            started = time.perf_counter()
            try:
                stages = [(stylize, engine.parallel_frames)] + ([stabilize] if controls.stability > 0 else [])
                run_pipeline(decoder, stages, write)
                encoder.finish()
            except BaseException:
                encoder.abort()
                raise
            seconds = time.perf_counter() - started
        finally:
            decoder.close()
    return RenderResult(frames=encoder.frames, seconds=round(seconds, 3),
                        fps=round(encoder.frames / max(seconds, 1e-9), 2), engine=engine.name, precision=engine.precision_for(style),
                        style=style.name, output=str(opts.output), lost_frames=decoder.lost,
                        stability=controls.stability, fragmented=fragmented, scene_cuts=stabilizer.stats.cuts,
                        copied_packets=encoder.copied_packets, dropped_packets=encoder.dropped_packets,
                        skipped_streams=encoder.skipped)


def default_output(input_path: Path | None, style_name: str, suffix: str = ".mp4") -> Path:
    """``<input stem>-<style>.mp4`` beside the input (``stylecast-demo-…`` for the test scene), with
    ``-1``, ``-2``… added rather than overwrite anything."""
    stem = input_path.stem if input_path else "stylecast-demo"
    folder = input_path.parent if input_path else Path.cwd()
    tag = "".join(c if c.isalnum() or c in "-_" else "-" for c in style_name)[:40]
    candidate = folder / f"{stem}-{tag}{suffix}"
    n = 1
    while candidate.exists():
        candidate = folder / f"{stem}-{tag}-{n}{suffix}"
        n += 1
    return candidate


__all__ = ["RenderOptions", "RenderResult", "default_output", "render"]
