"""The ``stylecast`` command: parses, calls, prints. Errors meet the user once: one line, exit 2."""
from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from engines import DEFAULT_STYLE, ENGINE_NAMES, engine_status, style_list
from engines.cpu_features import PRECISIONS
from engines.errors import StylecastError
from stream.notes import note
from stream.stabilize import DEFAULT_STABILITY

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_style_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--style", default=DEFAULT_STYLE,
                   help="built-in name or index, a blend like 3:0.5,mosaic:0.5, a picture, or a .onnx/.pth model "
                        f"(default {DEFAULT_STYLE})")
    p.add_argument("--strength", type=float, default=1.0, help="0..1, how much of the style to apply (default 1)")
    p.add_argument("--keep-colors", action="store_true", help="stylized brightness, the original's colours")
    p.add_argument("--engine", default="auto", choices=("auto", *ENGINE_NAMES),
                   help="where to run the network (default auto: the fastest available)")
    _add_precision_arg(p)


def _add_precision_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="the CPU engine's number format for built-in styles: bf16 where the CPU has AMX or "
                        "AVX-512 BF16, else fp32 (default auto)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stylecast", description="Real-time neural style filter for video.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("render", help="stylize a video file into a new file (sound and timing kept)")
    r.add_argument("input", nargs="?", type=Path, help="video file (default: the built-in test scene)")
    r.add_argument("-o", "--output", type=Path, help="output .mp4/.mkv/.mov (default: <input>-<style>.mp4)")
    _add_style_args(r)
    r.add_argument("--max-side", type=int, help="scale so the longer side is at most N pixels (default: source size)")
    r.add_argument("--stability", type=float, default=DEFAULT_STABILITY,
                   help=f"0..1, how strongly texture is held still between frames (default {DEFAULT_STABILITY})")
    r.add_argument("--no-stabilize", action="store_true", help="per-frame output, no temporal stabilization")
    r.add_argument("--crf", type=int, default=18, help="H.264 quality, 0 (lossless) to 51 (default 18)")
    r.add_argument("--preset", default="faster", help="x264 preset, ultrafast..veryslow (default faster)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing output")
    r.add_argument("--ignore-errors", action="store_true", help="render past damaged data; report lost frames")
    r.add_argument("--fragmented", action=argparse.BooleanOptionalAction,
                   help="write .mp4/.mov in fragments, each with its own index: memory stays flat however long "
                        "the film (default: for inputs over 30 minutes)")
    r.add_argument("--json", action="store_true", help="print one JSON summary at the end")

    s = sub.add_parser("styles", help="list the built-in styles")
    s.add_argument("--json", action="store_true")

    c = sub.add_parser("sheet", help="render every built-in style on a picture, labelled")
    c.add_argument("image", type=Path)
    c.add_argument("-o", "--output", type=Path, default=Path("styles.png"))
    c.add_argument("--tile", type=int, default=256, help="tile width in pixels (default 256)")
    c.add_argument("--overwrite", action="store_true")

    lv = sub.add_parser("live", help="stylize a camera or stream live (default: the test scene, no output)")
    lv.add_argument("--source", default="testsrc",
                    help="testsrc (default), a file, /dev/videoN, or udp:// srt:// rtsp:// rtmp:// http(s):// URL")
    lv.add_argument("--sink", default="null", help="null (default), vcam, a .mkv/.ts/.mp4 file, or udp:// srt:// "
                                                   "rtmp:// rtsp:// URL")
    _add_style_args(lv)
    lv.add_argument("--max-side", type=int, help="scale so the longer side is at most N pixels")
    lv.add_argument("--fps", type=float, default=25.0, help="test scene and camera rate; a cap for other sources")
    lv.add_argument("--duration", type=float, help="stop after this many seconds")
    lv.add_argument("--stability", type=float, default=DEFAULT_STABILITY, help="0..1 temporal stabilization")
    lv.add_argument("--no-stabilize", action="store_true")
    lv.add_argument("--loop", action="store_true", help="play a file source again and again")
    lv.add_argument("--control", metavar="HOST:PORT", help="HTTP control endpoint: POST /style, GET /stats")
    lv.add_argument("--trace", metavar="FILE", help="write a CSV line per frame sent: pts, capture and send times")
    lv.add_argument("--json", action="store_true", help="print one JSON summary at exit")

    sv = sub.add_parser("serve", help="the WebRTC demo: open the page, see your camera stylized")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need a token)")
    sv.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    sv.add_argument("--style", default=DEFAULT_STYLE, help=f"default style for new viewers (default {DEFAULT_STYLE})")
    sv.add_argument("--max-sessions", type=int,
                    help="viewers at once; the next gets 503 (default: 80%% of the viewers this machine holds at "
                         "15 frames/s, measured when the server starts)")
    sv.add_argument("--token", help="the token the page must present (made and printed when bound beyond loopback)")
    sv.add_argument("--max-side", type=int, default=640, help="scale camera frames to at most N pixels (default 640)")
    sv.add_argument("--engine", default="auto", choices=("auto", *ENGINE_NAMES))
    _add_precision_arg(sv)
    sv.add_argument("--offer-rate", type=int, default=10, metavar="N",
                    help="offers one address may make per 10 s; more get 429 (default 10)")
    sv.add_argument("--stun", action="append", default=[], metavar="URL",
                    help="a STUN/TURN server for viewers beyond this network (none by default)")
    sv.add_argument("--ice-address", action="append", metavar="IP",
                    help="offer only this host address to viewers (repeatable; default: the bound address)")

    b = sub.add_parser("build-engine", help="build a style's TensorRT engine ahead of use (once per GPU)")
    b.add_argument("--style", default=DEFAULT_STYLE, help=f"built-in style or blend (default {DEFAULT_STYLE})")
    b.add_argument("--max-side", type=int, default=1920, help="largest frame side it must take (default 1920)")
    b.add_argument("--precision", default="fp16", choices=("fp16", "fp32"))
    b.add_argument("--json", action="store_true")

    d = sub.add_parser("doctor", help="which engines can run here, and why not")
    d.add_argument("--json", action="store_true")
    return parser


def _render(args) -> int:
    from stream.progress import progress_bar
    from stream.render import RenderOptions, default_output, render
    from engines import resolve

    output = args.output or default_output(args.input, resolve(args.style).name)
    opts = RenderOptions(input=args.input, output=output, style=args.style, strength=args.strength,
                         keep_colors=args.keep_colors, max_side=args.max_side, engine=args.engine,
                         precision=args.precision, crf=args.crf, preset=args.preset, overwrite=args.overwrite,
                         ignore_errors=args.ignore_errors, fragmented=args.fragmented,
                         stability=0.0 if args.no_stabilize else args.stability)
    with ExitStack() as stack:  # the bar opens once the frame count is known, and closes with the render
        result = render(opts, lambda total: stack.enter_context(
            progress_bar("render", total, enabled=False if args.json else None)))
    if args.json:
        print(json.dumps(result.as_dict()))
    else:
        lost = f", {result.lost_frames} frames lost to damage" if result.lost_frames else ""
        print(f"wrote {result.output}: {result.frames} frames in {result.seconds:.1f} s "
              f"({result.fps:.1f} frames/s on {result.engine} {result.precision}, style {result.style}{lost})")
    for skipped in result.skipped_streams:
        note(f"{skipped} was not copied")
    return 0


def _styles(args) -> int:
    rows = style_list()
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['index']:>3}  {row['name']:<15} {row['kind']}")
        print("Also: any picture (--style painting.jpg), blends (--style 3:0.5,mosaic:0.5), .onnx and .pth models.")
    return 0


def _sheet(args) -> int:
    import cv2

    from engines import open_engine
    from engines.errors import OptionError
    from engines.onnx_networks import read_style_image
    from stream.output_file import AtomicOutput

    if not 64 <= args.tile <= 1024:
        raise OptionError(f"--tile must be between 64 and 1024 pixels, got {args.tile}")
    if args.output.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise OptionError(f"the sheet is written as .png or .jpg, got {args.output.name!r}")
    if not args.image.is_file():
        raise StylecastError(f"image not found: {args.image}")
    picture = read_style_image(args.image)
    from engines.sheet import contact_sheet

    sheet = contact_sheet(open_engine("auto", "0"), picture, args.tile)
    with AtomicOutput(args.output, args.overwrite) as partial:
        ok, data = cv2.imencode(args.output.suffix.lower(), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
        partial.write_bytes(data.tobytes())
    print(f"wrote {args.output} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


def _build_engine(args) -> int:
    import time

    from engines import resolve
    from engines.cuda import gpu_only
    from engines.errors import OptionError
    from engines.registry import choose_engine

    if not 64 <= args.max_side <= 8192:
        raise OptionError(f"--max-side must be between 64 and 8192 pixels, got {args.max_side}")
    style = resolve(args.style)
    gpu_only("tensorrt", style)
    choose_engine("tensorrt", style)  # not available here: one line, exit 2
    from engines.tensorrt import engine_for
    from stream.progress import spinner

    started = time.perf_counter()
    with spinner(f"TensorRT engine for {style.name}", enabled=False if args.json else None):
        _, path = engine_for(style, args.max_side, args.precision, progress=None if args.json else note)
    summary = {"style": style.name, "engine": str(path), "max_side": args.max_side, "precision": args.precision,
               "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(summary) if args.json else f"engine ready: {path} ({summary['seconds']} s)")
    return 0


def _doctor(args) -> int:
    rows = [engine_status(n).__dict__ for n in ENGINE_NAMES]
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['name']:<9} {'yes' if row['available'] else 'no ':<4} {row['reason']}")
    return 0


def _live(args) -> int:
    import signal
    import threading

    from stream.live import LiveJob, LiveOptions

    stop = threading.Event()
    opts = LiveOptions(source=args.source, sink=args.sink, style=args.style, strength=args.strength,
                       keep_colors=args.keep_colors, max_side=args.max_side, fps=args.fps, duration=args.duration,
                       stability=0.0 if args.no_stabilize else args.stability, engine=args.engine, loop=args.loop,
                       control=args.control, precision=args.precision, trace=args.trace)
    job = LiveJob(opts, stop)
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


def _serve(args) -> int:
    import asyncio
    import signal

    from stream.server import ServeOptions, StyleServer

    server = StyleServer(ServeOptions(host=args.host, port=args.port, style=args.style,
                                      max_sessions=args.max_sessions, token=args.token, max_side=args.max_side,
                                      engine=args.engine, precision=args.precision, stun=args.stun, ice_addresses=args.ice_address,
                                      offers_per_window=args.offer_rate))

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.run(stop, ready=lambda url: print(f"stylecast: serving on {url}", flush=True))

    asyncio.run(serve())
    return 0


COMMANDS = {"render": _render, "live": _live, "serve": _serve, "build-engine": _build_engine, "styles": _styles, "sheet": _sheet, "doctor": _doctor}


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
