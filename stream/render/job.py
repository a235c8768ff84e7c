"""The file-to-file job: decode -> stylize -> encode, with sound, timing, colour and timecode kept.

The input is a media file or an image sequence (stream/media/image_sequence.py); the output a video file
in H.264 or a mezzanine codec (stream/media/codecs.py) or an image sequence (stream/media/sequence_output.py).
``--from``/``--to`` render a part (stream/media/time_range.py), the stabilizer warmed up on the frames
just before it. Everything the user gave is checked (numbers, output, input, style, engine)
before a byte is written; the output appears only when complete.
"""
from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from engines import Engine, open_engine, resolve
from engines.errors import OptionError, OutputError
from engines.registry import GPU_ENGINES, choose_engine
from stream.core.notes import note
from stream.core.pipeline import run_pipeline
from stream.core.progress import FRAMES, Progress, quiet
from stream.edit.carry import carry_timeline
from stream.edit.cuts import find_shots
from stream.edit.looks import (
    LookSheet,
    LookTimeline,
    carried_looks,
    per_shot_looks,
    read_looks,
)
from stream.edit.painted import TrainingOptions, add_paintings, paint_timeline
from stream.edit.painting import keyframe_option
from stream.edit.shots import ShotList, list_format
from stream.framepath.path import device_for, open_frame_path, takes_device_path
from stream.media.decoder import Decoder, open_decoder
from stream.media.encode import PRESETS
from stream.media.image_sequence import check_rate, is_sequence_input, sequence_name
from stream.media.testsrc import write_test_clip
from stream.media.time_range import parse_range
from stream.media.timecode import Timecode, looks_like_timecode
from stream.media.writer import OutputPlan, Writer
from stream.styling.options import StyleOptions
from stream.temporal.flicker import FlickerMeter
from stream.temporal.stabilize import warmup_frames

from .stages import FrameStages


@dataclass(kw_only=True)
class RenderOptions(StyleOptions, TrainingOptions):
    """One render. ``input`` None renders the built-in test scene (5 s, 640x360, with a tone);
    ``output`` None writes ``<input>-<style>.mp4`` beside the input (``default_output``).
    ``start``/``end`` are ``--from``/``--to`` (seconds or HH:MM:SS:FF); ``fps`` is an image
    sequence's rate; ``timecode`` the start timecode to write instead of the source's.
    ``looks`` (a looks file) or ``style_per_shot`` give each shot or time range its own look
    (stream/edit/looks.py); ``shots`` is the shot list they count shots in (default: found in the input).
    ``look_sheet`` is the same looks held in memory with their shot list (a page's preview), in
    place of both files."""

    input: Path | None = None
    output: Path | None = None
    crf: int = 18
    preset: str = "faster"   # x264; on 2 cores medium costs ~15% of throughput
    codec: str | None = None  # h264 (default), prores, prores4444, dnxhr, ffv1
    overwrite: bool = False
    ignore_errors: bool = False
    fragmented: bool | None = None   # MP4/MOV in fragments; None: when the input lasts over LONG_FILM_S
    fps: float | None = None
    start_number: int | None = None
    timecode: str | None = None
    start: str | None = None
    end: str | None = None
    looks: Path | None = None
    style_per_shot: str | None = None
    shots: Path | None = None
    look_sheet: LookSheet | None = None  # looks and their shots in memory (stream/edit/looks.py), not files
    keyframes: list[str] = field(default_factory=list)  # --keyframe FRAME=PAINTED.png (stream/edit/painted.py)
    carry: bool = True  # a painted shot carries its paintings along the motion (stream/edit/carry.py)
    keyframe_cache: Path | None = None  # where painted shots' networks are kept (a cluster's shared folder)
    video_only: bool = False         # a chunk of a cluster render: the picture alone, no B-frames, so chunks
    warm_up: bool = True             # join by stream copy; False for a chunk that starts at a cut

    def output_plan(self) -> OutputPlan:
        """Where the frames go, decided and checked once (the check and the render use this one)."""
        return OutputPlan.of(self.output, self.codec, self.fragmented, self.start_number)

    def check(self) -> None:
        super().check()
        if not 0 <= self.crf <= 51:
            raise OptionError(f"--crf must be between 0 and 51, got {self.crf}")
        if self.preset not in PRESETS:
            raise OptionError(f"--preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        check_rate(self.fps)
        if self.start_number is not None and self.start_number < 0:
            raise OptionError(f"--start-number must be 0 or more, got {self.start_number}")
        if self.timecode is not None and not looks_like_timecode(self.timecode):
            raise OptionError(f"--timecode must look like HH:MM:SS:FF, got {self.timecode!r}")
        if sum(x is not None for x in (self.looks, self.style_per_shot, self.look_sheet)) > 1:
            raise OptionError("give --looks or --style-per-shot, not both")
        if self.looks is not None and self.looks.suffix.lower() != ".json":
            raise OptionError(f"a looks file is a .json file, not {self.looks.name}")
        if self.shots is not None:
            list_format(self.shots)
        self.budget()
        self.output_plan()  # refuses an output it cannot write
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
    codec: str = "h264"
    lost_frames: int = 0
    stability: float = 0.0
    fragmented: bool = False
    scene_cuts: int = 0
    copied_packets: int = 0
    dropped_packets: int = 0          # damaged packets of copied streams left out (--ignore-errors)
    skipped_streams: list[str] = field(default_factory=list)
    timecode: str | None = None       # the output's start timecode
    first_frame: int | None = None    # an image sequence output's first and last frame numbers
    last_frame: int | None = None
    flicker: float | None = None      # stream/temporal/flicker.py, over the whole render, and the source's own
    source_flicker: float | None = None
    looks: int = 0                    # entries of --looks / --style-per-shot, and the shots they count in
    shots: int | None = None
    painted: list[dict] = field(default_factory=list)  # a row per shot trained from painted keyframes
    frame_path: str = "host"          # where the frames were between decode and encode: host, or the device's name
    network_forms: dict | None = None  # frames the network ran compiled and eager, where the engine compiles it
    chunks: int | None = None         # --cluster: chunks, the workers that rendered them, chunks retried
    workers: int | None = None
    retries: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def render(opts: RenderOptions, progress: Progress = quiet, engine: Engine | None = None) -> RenderResult:
    """Run one render. ``progress`` hears the render's frames (label "render") and a painted
    shot's training ("painting shot 2"); ``engine`` is one already open for this style (a
    cluster's worker keeps one for all its chunks). A render in chunks is
    ``stream.cluster.job.render_on_cluster``."""
    opts = prepare(opts)
    controls = opts.controls()
    style = resolve(controls.style)
    plan = opts.output_plan()
    on_gpu = engine.device is not None if engine is not None else choose_engine(opts.engine, style)[0] in GPU_ENGINES
    device_frames = takes_device_path(opts.frame_path, on_gpu)  # the decoder gives 4:2:0 for the device path
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        decoder = stack.enter_context(open_input(opts, scratch, plan.keeps_alpha(), device_frames))
        timeline, shots = _timeline(opts, decoder, controls, style)
        painted = paint_timeline(timeline, decoder.frames_at, decoder.expected_frames, opts.budget(), progress,
                                 opts.keyframe_cache)
        timecode = _start_timecode(opts, decoder, controls.stability)
        fragmented, lost = plan.fragments(decoder.duration), (lambda: decoder.lost)
        writer = plan.open(stack, decoder, timecode, overwrite=opts.overwrite, crf=opts.crf, preset=opts.preset,
                           ignore_errors=opts.ignore_errors, chunk=opts.video_only)
        engine = engine or open_engine(opts.engine, style, controls.mix, throughput=True,
                                       max_side=opts.max_side, notes=note, precision=opts.precision,
                                       size=decoder.output_size)
        started = time.perf_counter()  # carrying a painting is part of the render's time
        carried = carry_timeline(timeline, decoder.frames_at, engine.network, painted, progress) \
            if painted and opts.carry else {}
        carry_s = time.perf_counter() - started
        device = device_for(engine, opts.frame_path)
        stages = _stages(opts, decoder, engine, timeline, writer, progress, device)
        stages.carried = carried
        seconds = carry_s + _run(decoder, stages, writer)
    return RenderResult(frames=writer.frames, seconds=round(seconds, 3),
                        fps=round(writer.frames / max(seconds, 1e-9), 2), engine=engine.name,
                        precision=engine.precision_for(style), style=style.name, output=str(opts.output),
                        codec=plan.codec_name, lost_frames=lost(), stability=controls.stability,
                        fragmented=fragmented, scene_cuts=stages.stabilizer.stats.cuts,
                        copied_packets=writer.copied_packets, dropped_packets=writer.dropped_packets,
                        skipped_streams=writer.skipped, timecode=str(timecode) if timecode else None,
                        first_frame=writer.first_number, last_frame=writer.last_number,
                        looks=len(timeline.entries), shots=shots, painted=painted,
                        frame_path=stages.where(), network_forms=engine.network_forms(), **stages.flicker.overall())


def train_paintings(opts: RenderOptions, progress: Progress = quiet) -> list[dict]:
    """Train (or find) the networks of a render's painted shots and nothing more: a cluster's driver
    does this once, into ``opts.keyframe_cache``, before its workers render the chunks."""
    opts = prepare(opts)
    controls = opts.controls()
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        decoder = stack.enter_context(open_input(opts, scratch))
        timeline, _ = _timeline(opts, decoder, controls, resolve(controls.style))
        return paint_timeline(timeline, decoder.frames_at, decoder.expected_frames, opts.budget(), progress,
                              opts.keyframe_cache)


def _stages(opts: RenderOptions, decoder: Decoder, engine: Engine, timeline: LookTimeline, writer: Writer,
            progress: Progress, device) -> FrameStages:
    """The render's per-frame work on its frame path: the host's, or the engine's device (the CPU
    where the engine runs there and the device path was asked for)."""
    path = open_frame_path(engine, device, decoder.colour, writer.yuv420_colour(), opts.max_side)
    return FrameStages(decoder, engine, path, timeline, writer, FlickerMeter(), progress(decoder.expected_frames, FRAMES),
                       opts.style_scale)


def prepare(opts: RenderOptions) -> RenderOptions:
    """The options with the default output filled in, checked whole (a cluster render's too)."""
    if opts.output is None:
        opts = replace(opts, output=default_output(opts.input, resolve(opts.style).name))
    opts.check()
    return opts


def open_input(opts: RenderOptions, scratch: Path, keep_alpha: bool = False, device_frames: bool = False) -> Decoder:
    """The decoder for the input: the test scene (written into ``scratch``), an image sequence or a
    media file; ``keep_alpha`` for an output that holds the source's alpha; ``device_frames``: its
    4:2:0 pictures as they are, for the device path (NVDEC's where it decodes)."""
    if opts.fps is not None and opts.input is not None and not is_sequence_input(opts.input) and not opts.video_only:
        note("--fps sets an image sequence's rate; a video keeps its own")
    source = opts.input
    if source is None:
        source = scratch / "testsrc.mkv"
        write_test_clip(source)
    decoder = open_decoder(source, max_side=opts.max_side, ignore_errors=opts.ignore_errors, keep_alpha=keep_alpha,
                           fps=opts.fps, timecode=opts.timecode, yuv=device_frames,
                           nvdec=device_frames and opts.engine != "cpu" and opts.frame_path != "device")
    if opts.video_only:
        decoder.copy_streams = []
    return decoder


def _start_timecode(opts: RenderOptions, decoder: Decoder, stability: float) -> Timecode | None:
    """Choose the time range (``--from``/``--to``) on the decoder; the output's start timecode."""
    timecode = decoder.timecode
    span = parse_range(opts.start, opts.end, decoder.rate, timecode, decoder.duration)
    if not span.whole:
        warmup = warmup_frames(stability) / float(decoder.rate) if opts.warm_up else 0.0
        decoder.select(replace(span, warmup=warmup))
    return None if timecode is None else timecode + decoder.first_index


def _timeline(opts: RenderOptions, decoder: Decoder, controls, style) -> tuple[LookTimeline, int | None]:
    """The look of every frame (one for all without --looks, --style-per-shot or --keyframe), and
    how many shots it counted in (None when it needed none)."""
    rate, first_tc = decoder.rate, decoder.timecode
    frames = round(decoder.duration * rate) if decoder.duration else None
    if opts.looks is None and opts.style_per_shot is None and opts.look_sheet is None and not opts.keyframes:
        carried = ShotList.read(opts.shots, rate, first_tc, frames) if opts.shots is not None else None
        if carried is None or not carried.looks:
            return LookTimeline(controls, style), None
        return carried_looks(carried, controls, style), len(carried.shots)  # the looks a timeline's clips carry
    found: list[ShotList] = []

    def read(path: Path) -> ShotList:
        found.append(ShotList.read(path, rate, first_tc, frames))
        return found[-1]

    def shots() -> ShotList:
        if opts.shots is not None:
            return read(opts.shots)
        started = time.perf_counter()
        found.append(find_shots(decoder.path, opts.fps))
        note(f"found {len(found[-1].shots)} shots in {time.perf_counter() - started:.1f} s")
        return found[-1]

    if opts.style_per_shot is not None:
        timeline, notes = per_shot_looks(opts.style_per_shot, controls, style, shots())
        for line in notes:
            note(line)
    elif opts.look_sheet is not None:
        found.append(opts.look_sheet.shots)
        timeline = opts.look_sheet.timeline(controls, style, rate, first_tc, decoder.duration, frames)
    elif opts.looks is not None:
        timeline = read_looks(opts.looks, controls, style, rate, first_tc, decoder.duration, frames, shots, read)
    else:
        timeline = LookTimeline(controls, style)
    if opts.keyframes:
        paintings = [keyframe_option(text, rate, first_tc) for text in opts.keyframes]
        timeline = add_paintings(timeline, paintings, lambda: found[-1] if found else shots())
    return timeline, len(found[-1].shots) if found else None


def _run(decoder: Decoder, stages: FrameStages, writer: Writer) -> float:
    """Decode, stylize, stabilize and write every frame; the seconds it took."""
    started = time.perf_counter()
    try:
        run_pipeline(decoder, stages.stages(), stages.write)
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    return time.perf_counter() - started


def default_output(input_path: Path | None, style_name: str, suffix: str = ".mp4") -> Path:
    """``<input stem>-<style>.mp4`` beside the input (``stylecast-demo-…`` for the test scene), with
    ``-1``, ``-2``… added rather than overwrite anything."""
    stem, folder = "stylecast-demo", Path.cwd()
    if input_path is not None and input_path.is_dir():  # shots/a/ -> shots/a-<style>.mp4
        stem, folder = input_path.name, input_path.parent
    elif input_path is not None and is_sequence_input(input_path):  # shots/a_%04d.png -> shots/a-<style>.mp4
        stem, folder = sequence_name(input_path), input_path.parent
    elif input_path is not None:
        stem, folder = input_path.stem, input_path.parent
    tag = "".join(c if c.isalnum() or c in "-_" else "-" for c in style_name)[:40]
    candidate = folder / f"{stem}-{tag}{suffix}"
    n = 1
    while candidate.exists():
        candidate = folder / f"{stem}-{tag}-{n}{suffix}"
        n += 1
    return candidate


__all__ = ["RenderOptions", "RenderResult", "default_output", "render"]
