"""The ``stylecast`` command: parses, calls, prints. Errors meet the user once: one line, exit 2.

Each command imports its job where it starts (one block at the top of its function), so that
``stylecast styles`` never pays for PyAV, OpenCV or aiortc (serve's imports alone
take about 2 s on two cores). A job's options are built from the parsed arguments in one place,
``_options``.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path

from engines import DEFAULT_STYLE, ENGINE_NAMES, engine_status, style_list
from engines.errors import StylecastError
from engines.runtimes.cpu_features import PRECISIONS
from engines.training import SECONDS_FAST, SECONDS_SLOW, STEPS
from stream.cluster.chunk_plan import CHUNK_SECONDS
from stream.core.frame import FRAME_PATHS
from stream.core.notes import note
from stream.edit.painting_trainer import LIVE_TRAINING_S
from stream.live.job import LiveOptions
from stream.media.codecs import CODECS
from stream.media.image_sequence import DEFAULT_FPS
from stream.render.job import RenderOptions
from stream.serve.options import ServeOptions
from stream.studio.options import StudioOptions
from stream.styling.options import StyleOptions

EXIT_USAGE = 2


def default(cls, name: str):
    """The default of option ``name`` of a job's options (a dataclass): the one place it is said. An
    option left out is None to argparse, and ``_options`` leaves the field's own default in place."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    return field.default_factory() if field.default is dataclasses.MISSING else field.default


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_style_args(p: argparse.ArgumentParser) -> None:
    """The look and the frame size, as render and live take them (stream/styling/options.py)."""
    o = StyleOptions
    p.add_argument("--style", help="built-in name or index, a blend like 3:0.5,mosaic:0.5, a picture, or a .onnx/.pth "
                                   f"model (default {default(o, 'style')})")
    p.add_argument("--strength", type=float,
                   help=f"0..1, how much of the style to apply (default {default(o, 'strength'):g})")
    p.add_argument("--keep-colors", action="store_true", default=None,
                   help="stylized brightness, the original's colours")
    p.add_argument("--stability", type=float,
                   help=f"0..1, how strongly texture is held still between frames (default {default(o, 'stability'):g})")
    p.add_argument("--no-stabilize", action="store_true", help="per-frame output, no temporal stabilization")
    p.add_argument("--max-side", type=int, help="scale so the longer side is at most N pixels (default: source size)")
    p.add_argument("--style-scale", type=float, metavar="S",
                   help="0.25..2: run the network at S times the frame's size: brush strokes 1/S as large, "
                        f"cost about S squared (default {default(o, 'style_scale'):g})")
    p.add_argument("--frame-path", choices=FRAME_PATHS,
                   help=f"where frames live between decode and encode: {default(o, 'frame_path')} (default: on the GPU "
                        "where the engine runs there), host (numpy and OpenCV), device (torch, on the engine's GPU or "
                        "the CPU)")
    _add_engine_args(p)


def _add_engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=("auto", *ENGINE_NAMES),
                   help=f"where to run the network (default {default(StyleOptions, 'engine')}: the fastest available)")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="the CPU engine's number format for built-in styles (default "
                        f"{default(StyleOptions, 'precision')}: where OpenVINO is installed, the fastest that keeps "
                        "the look, measured once on this machine; else bf16 where the CPU has AMX or AVX-512 BF16, "
                        "else fp32); int8 runs on OpenVINO")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stylecast", description="Real-time neural style filter for video.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (_add_render, _add_shots, _add_styles, _add_sheet, _add_live, _add_serve, _add_studio, _add_build_engine,
                _add_doctor):
        add(sub)
    return parser


def _add_render(sub) -> None:
    r = sub.add_parser("render", help="stylize a video file into a new file (sound and timing kept)")
    r.add_argument("input", nargs="?", type=Path,
                   help="video file, image sequence (frames/a_%%04d.png) or folder of numbered frames "
                        "(default: the built-in test scene)")
    r.add_argument("-o", "--output", type=Path,
                   help="output .mp4/.mkv/.mov/.mxf, or an image sequence out/%%04d.png or .tif "
                        "(default: <input>-<style>.mp4)")
    _add_style_args(r)
    r.add_argument("--codec", choices=tuple(CODECS),
                   help="h264 (default), prores (422 HQ), prores4444 (keeps alpha), dnxhr (HQX), ffv1 (lossless)")
    r.add_argument("--from", dest="start", metavar="T", help="render from T: seconds or HH:MM:SS:FF timecode")
    r.add_argument("--to", dest="end", metavar="T", help="render up to T (excluded): seconds or timecode")
    r.add_argument("--looks", type=Path, metavar="FILE",
                   help="a look per shot or time range, with keyframes: a .json file (docs: guides/looks)")
    r.add_argument("--style-per-shot", metavar="STYLES",
                   help="one style per shot, in order: starry-night,mosaic,3:0.5,mosaic:0.5 (; between two blends)")
    r.add_argument("--shots", type=Path, metavar="FILE",
                   help="the shot list (.csv/.json from `stylecast shots`) that looks count shots in "
                        "(default: found in the input)")
    r.add_argument("--keyframe", action="append", default=[], metavar="FRAME=PAINTED.png", dest="keyframes",
                   help="the shot holding FRAME (from 0, or a timecode) takes the look of this painting of it: a "
                        "network is trained from it (cached); repeat for more (docs: guides/painted)")
    r.add_argument("--carry", choices=("on", "off"),
                   help="on (default): a painted shot takes the painting itself, carried along the motion, and "
                        "its network only where the picture is new; off: the shot's network on every frame")
    _add_training(r, "a painted shot")
    r.add_argument("--cluster", metavar="ADDRESS",
                   help="render in chunks on Ray: auto, HOST:PORT (a Ray head) or local:N (N workers here), "
                        "needing pip install 'stylecast[cluster]'; or here (no Ray: the same resumable chunks, "
                        "one after another in this process)")
    r.add_argument("--chunk-seconds", type=float, metavar="S",
                   help=f"--cluster: chunk length where no cut is near (default {CHUNK_SECONDS:g})")
    r.add_argument("--fps", type=float, help=f"an image sequence's frame rate (default {DEFAULT_FPS:g})")
    r.add_argument("--timecode", metavar="HH:MM:SS:FF",
                   help="start timecode to write (default: the source's, or a sequence's first frame number)")
    r.add_argument("--start-number", type=int, metavar="N",
                   help="number an image sequence output from N (default: the input's own numbers, or 0)")
    r.add_argument("--crf", type=int, help=f"H.264 quality, 0 (lossless) to 51 (default {default(RenderOptions, 'crf')})")
    r.add_argument("--preset", help=f"x264 preset, ultrafast..veryslow (default {default(RenderOptions, 'preset')})")
    r.add_argument("--overwrite", action="store_true", help="replace an existing output")
    r.add_argument("--ignore-errors", action="store_true", help="render past damaged data; report lost frames")
    r.add_argument("--fragmented", action=argparse.BooleanOptionalAction,
                   help="write .mp4/.mov in fragments, each with its own index: memory stays flat however long "
                        "the film (default: for inputs over 30 minutes)")
    r.add_argument("--json", action="store_true", help="print one JSON summary at the end")


def _add_shots(sub) -> None:
    s = sub.add_parser("shots", help="list a clip's shots (where it cuts), as a table, CSV or JSON")
    s.add_argument("input", type=Path, help="video file, image sequence or folder of numbered frames")
    s.add_argument("-o", "--output", type=Path, help="write the list to a .csv or .json file, or for editing software "
                                                      "an .otio, .edl (CMX 3600) or .xml (FCP 7) timeline (default: print it)")
    s.add_argument("--style-per-shot", metavar="STYLES", help="a timeline's looks: shot N gets the Nth style, "
                                                              "as render --style-per-shot gives them")
    s.add_argument("--fps", type=float, help="an image sequence's frame rate (default 24)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing list")
    s.add_argument("--json", action="store_true", help="print the list as JSON")


def _add_styles(sub) -> None:
    s = sub.add_parser("styles", help="list the built-in styles")
    s.add_argument("--json", action="store_true")


def _add_sheet(sub) -> None:
    c = sub.add_parser("sheet", help="render every built-in style on a picture, labelled")
    c.add_argument("image", type=Path)
    c.add_argument("-o", "--output", type=Path, default=Path("styles.png"))
    c.add_argument("--tile", type=int, default=256, help="tile width in pixels (default 256)")
    c.add_argument("--overwrite", action="store_true")


def _add_live(sub) -> None:
    lv = sub.add_parser("live", help="stylize a camera or stream live (default: the test scene, no output)")
    lv.add_argument("--source", help=f"{default(LiveOptions, 'source')} (default), a file, /dev/videoN, or udp:// "
                                     "srt:// rtsp:// rtmp:// http(s):// URL")
    lv.add_argument("--sink", help=f"{default(LiveOptions, 'sink')} (default), vcam, a .mkv/.ts/.mp4 file, or udp:// "
                                   "srt:// rtmp:// rtsp:// URL")
    _add_style_args(lv)
    lv.add_argument("--fps", type=float, help="test scene and camera rate; a cap for other sources "
                                              f"(default {default(LiveOptions, 'fps'):g})")
    lv.add_argument("--duration", type=float, help="stop after this many seconds")
    lv.add_argument("--loop", action="store_true", help="play a file source again and again")
    lv.add_argument("--control", metavar="HOST:PORT", help="HTTP control endpoint: POST /style, GET /stats")
    lv.add_argument("--trace", metavar="FILE", help="write a CSV line per frame sent: pts, capture and send times")
    _add_adapt(lv)
    lv.add_argument("--paint", metavar="FRAME.png=PAINTED.png",
                    help="follow a painting: a frame of this camera and the artist's painting of it train a network "
                         "(the plain style until it is ready; cached); docs: guides/painted")
    _add_training(lv, "--paint", LIVE_TRAINING_S)
    lv.add_argument("--json", action="store_true", help="print one JSON summary at exit")


def _add_training(p: argparse.ArgumentParser, what: str, seconds: int | None = None) -> None:
    """How long a painting trains its network (stream/edit/painted.py's TrainingOptions); ``seconds``:
    this command's own default budget."""
    default_s = f"{seconds} s" if seconds else f"{SECONDS_FAST} s where bf16 or a GPU trains, {SECONDS_SLOW} s otherwise"
    p.add_argument("--keyframe-seconds", type=float, metavar="S",
                   help=f"the time budget of {what}'s training (default {default_s}); it stops sooner once a "
                        f"held-back part of the painting stops improving, and at {STEPS} steps")
    p.add_argument("--keyframe-steps", type=int, metavar="N",
                   help="train exactly N steps instead, on the whole painting (reproducible); with "
                        "--keyframe-seconds, at most N")


def _add_adapt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--adapt", choices=("on", "off"),
                   help="on (default): run the network smaller while the machine cannot keep the source's rate, "
                        "and back up when it can (the size is in the stats); off: a fixed size")


def _add_serve(sub) -> None:
    sv = sub.add_parser("serve", help="the WebRTC demo: open the page, see your camera stylized")
    o = ServeOptions
    sv.add_argument("--host", help=f"address to bind (default {default(o, 'host')}; others need a token)")
    sv.add_argument("--port", type=int, help=f"port (default {default(o, 'port')}; 0 picks a free one)")
    sv.add_argument("--style", help=f"default style for new viewers (default {default(o, 'style')})")
    sv.add_argument("--max-sessions", type=int,
                    help="viewers at once; the next gets 503 (default: 80%% of the viewers this machine holds at "
                         "15 frames/s, measured when the server starts)")
    sv.add_argument("--token", help="the token the page must present (made and printed when bound beyond loopback)")
    sv.add_argument("--max-side", type=int, help=f"scale camera frames to at most N pixels (default {default(o, 'max_side')})")
    _add_engine_args(sv)
    _add_adapt(sv)
    sv.add_argument("--batch", choices=("auto", "on", "off"),
                    help="every viewer's frame through the network in one batch, each in its own style (default "
                         f"{default(o, 'batch')}: on a GPU engine; on the CPU it gains nothing)")
    _add_training(sv, "a painting a viewer uploads of their camera's frame", LIVE_TRAINING_S)
    sv.add_argument("--batch-wait", type=float, metavar="MS", dest="batch_wait_ms",
                    help="the longest a viewer's frame waits for others to join its batch "
                         f"(default {default(o, 'batch_wait_ms'):g} ms)")
    sv.add_argument("--idle-timeout", type=float, metavar="S", dest="idle_s",
                    help=f"a viewer whose camera sends nothing for S seconds is let go (default {default(o, 'idle_s'):g})")
    sv.add_argument("--offer-rate", type=int, metavar="N", dest="offers_per_window",
                    help=f"offers one address may make per 10 s; more get 429 (default {default(o, 'offers_per_window')})")
    sv.add_argument("--stun", action="append", default=[], metavar="URL",
                    help="a STUN/TURN server for viewers beyond this network (none by default)")
    sv.add_argument("--ice-address", action="append", metavar="IP", dest="ice_addresses",
                    help="offer only this host address to viewers (repeatable; default: the bound address)")


def _add_studio(sub) -> None:
    st = sub.add_parser("studio", help="the film studio page: shots, a look per shot, previews and renders in the browser")
    st.add_argument("folder", nargs="?", type=Path, default=Path("."),
                    help="the folder of clips it works in (default: here); its projects and jobs are kept in "
                         "FOLDER/.stylecast/")
    o = StudioOptions
    st.add_argument("--host", help=f"address to bind (default {default(o, 'host')}; others need a token)")
    st.add_argument("--port", type=int, help=f"port (default {default(o, 'port')}; 0 picks a free one)")
    st.add_argument("--token", help="the token the page must present (made and printed when bound beyond loopback)")
    st.add_argument("--cluster", metavar="ADDRESS", help="render on Ray (as render --cluster); default: here, in chunks")
    st.add_argument("--chunk-seconds", type=float, metavar="S",
                    help="renders go in chunks of about S seconds (at cuts where near), resumed after a restart "
                         f"(default {default(o, 'chunk_seconds'):g})")
    st.add_argument("--max-upload-mb", type=int, metavar="MB",
                    help=f"largest clip upload (default {default(o, 'max_upload_mb')})")


def _add_build_engine(sub) -> None:
    b = sub.add_parser("build-engine", help="build a style's TensorRT engine ahead of use (once per GPU)")
    b.add_argument("--style", default=DEFAULT_STYLE, help=f"built-in style or blend (default {DEFAULT_STYLE})")
    b.add_argument("--max-side", type=int, default=1920, help="largest frame side it must take (default 1920)")
    b.add_argument("--precision", default="fp16", choices=("fp16", "fp32"))
    b.add_argument("--json", action="store_true")


def _add_doctor(sub) -> None:
    d = sub.add_parser("doctor", help="which engines can run here, which parts of the frame path run on the GPU, "
                                      "and why not")
    d.add_argument("--json", action="store_true")


def _options(cls, args: argparse.Namespace):
    """A job's options (a dataclass) from the parsed arguments whose names match its fields;
    ``--no-stabilize`` is stability 0; ``--adapt on|off`` and ``--carry on|off`` bools."""
    names = {f.name for f in dataclasses.fields(cls)}
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}  # None: the field's own default
    if vars(args).get("no_stabilize"):
        given["stability"] = 0.0
    for switch in ("adapt", "carry"):
        if switch in given:
            given[switch] = given[switch] == "on"
    return cls(**given)


def _render(args) -> int:
    from stream.core.progress import terminal
    from stream.render.job import RenderOptions, render

    job, options = render, RenderOptions
    if args.cluster:  # only then: the cluster's module imports Ray
        from stream.cluster.job import ClusterRenderOptions as options
        from stream.cluster.job import render_on_cluster as job
    with ExitStack() as stack:  # a bar opens once its size is known, and closes with the render
        result = job(_options(options, args), terminal(stack, enabled=False if args.json else None))
    if args.json:
        print(json.dumps(result.as_dict()))
    else:
        lost = f", {result.lost_frames} frames lost to damage" if result.lost_frames else ""
        print(f"wrote {result.output}: {result.frames} frames in {result.seconds:.1f} s "
              f"({result.fps:.1f} frames/s on {result.engine} {result.precision}, style {result.style}{lost})")
    for skipped in result.skipped_streams:
        note(f"{skipped} was not copied")
    return 0


def _shots(args) -> int:
    from stream.core.progress import terminal
    from stream.edit.cuts import find_shots
    from stream.edit.shots import list_format
    from stream.media.image_sequence import check_rate

    if args.output is not None:
        list_format(args.output)  # a wrong extension is refused before the clip is read
    check_rate(args.fps)
    with ExitStack() as stack:
        shots = find_shots(args.input, args.fps, terminal(stack, enabled=False if args.json else None))
    if args.output is not None:
        shots.write(args.output, args.overwrite, media=args.input, looks=_per_shot(args.style_per_shot, len(shots.shots)))
    if args.json:
        print(shots.text(".json"), end="")
    elif args.output is not None:
        print(f"wrote {args.output}: {len(shots.shots)} shots, {shots.frames} frames")
    else:
        print(f"{'shot':>4}  {'frames':<13}  {'in':<11}  {'out':<11}  seconds")
        for s in shots.shots:
            print(f"{s.shot:>4}  {f'{s.first_frame}-{s.last_frame}':<13}  {s.timecode_in}  {s.timecode_out}  "
                  f"{s.start:.3f}-{s.end:.3f}")
    return 0


def _per_shot(spec: str | None, count: int) -> dict[int, str]:
    """``--style-per-shot`` for ``shots``: shot N's style spec, checked; the last holds for the rest."""
    if spec is None:
        return {}
    from engines import resolve
    from stream.edit.looks import split_per_shot

    styles = split_per_shot(spec)
    for text in styles:
        resolve(text)
    return {n: styles[min(n, len(styles)) - 1] for n in range(1, count + 1)}


def _styles(args) -> int:
    rows = style_list()
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['index']:>3}  {row['name']:<15} {row['kind']}")
        print(f"Source of all {len(rows)}: {rows[0]['source']}.")
        print("Also: any picture (--style painting.jpg), blends (--style 3:0.5,mosaic:0.5), .onnx and .pth models.")
    return 0


def _sheet(args) -> int:
    from stream.render.sheet import write_sheet

    width, height = write_sheet(args.image, args.output, args.tile, args.overwrite)
    print(f"wrote {args.output} ({width}x{height})")
    return 0


def _build_engine(args) -> int:
    from engines.build_engine import build_ahead
    from stream.core.progress import spinner

    with spinner(f"TensorRT engine for {args.style}", enabled=False if args.json else None):
        summary = build_ahead(args.style, args.max_side, args.precision, progress=None if args.json else note)
    print(json.dumps(summary) if args.json else f"engine ready: {summary['engine']} ({summary['seconds']} s)")
    return 0


def _doctor(args) -> int:
    from engines.runtimes.runtime_choice import runtime_rows
    from stream.framepath.support import frame_path_rows
    from stream.links.live_support import live_rows
    from stream.media.media_support import media_rows

    rows = [{**engine_status(n).__dict__, "kind": "engine"} for n in ENGINE_NAMES] + runtime_rows() \
        + frame_path_rows() + media_rows() + live_rows()
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['name']:<11} {'yes' if row['available'] else 'no ':<4} {row['reason']}")
    return 0


def _live(args) -> int:
    from stream.live.job import LiveJob, LiveOptions

    stop = threading.Event()
    job = LiveJob.open(_options(LiveOptions, args), stop)
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    show = sys.stderr.isatty() and not args.json
    if job.server and not args.json:
        host, port = job.server.address[:2]
        print(f"control: http://{host}:{port}/stats, POST /style", file=sys.stderr)
    try:
        summary = job.run(status=(lambda line: print(f"\r{line}", end="", file=sys.stderr, flush=True)) if show else None)
    except KeyboardInterrupt:
        stop.set()
        summary = job.snapshot()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if show:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['frames_out']} frames out in {summary['seconds']:.1f} s ({summary['fps_out']:.1f} fps), "
              f"{summary['dropped']} dropped, latency p50 {summary['latency_p50_ms']:.0f} ms "
              f"p95 {summary['latency_p95_ms']:.0f} ms")
    return 0


def _studio(args) -> int:
    from stream.studio.server import Studio

    studio = Studio(_options(StudioOptions, args))

    return _until_signalled(lambda stop: studio.run(
        stop, ready=lambda url: print(f"stylecast: studio on {url} (folder {studio.folder})", flush=True)))


def _until_signalled(run) -> int:
    """Run the server coroutine ``run(stop)`` until SIGINT or SIGTERM sets ``stop``."""
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(stop)

    asyncio.run(main())
    return 0


def _serve(args) -> int:
    from stream.serve.server import StyleServer

    server = StyleServer(_options(ServeOptions, args))
    return _until_signalled(lambda stop: server.run(stop, ready=lambda url: print(f"stylecast: serving on {url}",
                                                                                    flush=True)))


COMMANDS = {"render": _render, "shots": _shots, "live": _live, "serve": _serve, "studio": _studio, "build-engine": _build_engine, "styles": _styles,
            "sheet": _sheet, "doctor": _doctor}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except StylecastError as exc:
        print(f"stylecast: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("stylecast: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The ``stylecast`` command: ``main``, then leave at once. Everything is closed and written by
    then; tearing the interpreter down with torch loaded would add 0.2 s to every command."""
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (``stylecast styles --json | head``): no traceback
        code = 1
    os._exit(code)


if __name__ == "__main__":
    run()
