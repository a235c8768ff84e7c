"""Live production's ways in and out (issue #48), each beside the path it is held to, in one run:

- ``ndi``: NDI in to NDI out (a sender process, ``stylecast live --source ndi://HOST:PORT --sink
  ndi://NAME``, a receiver process matching frames by timecode), alternated round by round with the
  UDP MPEG-TS path of bench/live.py at the same size and rate: the receiver's rate after the first
  5 s and the p95 delay from the sender's send to the receiver's arrival.
- ``window``: ``stylecast live --sink window --fps 30`` on a private Xvfb for ``--window-seconds``:
  frames shown a second against the job's own, and the delay from the sink to the screen over the
  first and the last 10 s.
- ``sinks``: the two screens a window could use, fed 640x360 at 30 frames/s for 20 s on a private
  Xvfb, alternated: GStreamer's ``ximagesink`` in a ``gst-launch-1.0`` child (as the PipeWire camera
  is fed) and the monitor window's own child (SDL through pygame-ce, overlays drawn): the rate each
  took frames at, and the CPU each cost a frame (the child's user + system time).
- ``whip``: real Chromium publishing its fake camera (352x288) over WHIP and a second page playing
  it over WHEP (tests/support/whip_pages/), against the demo page's own call on the same server
  and camera: frames decoded a second by each page.

    python -m bench.live_production [--part ndi|window|sinks|whip|all] [--rounds 3] [--seconds 20]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PEER_ENV = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
FIRST_S = 5.0


def _peer(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "support.ndi_peer", *map(str, args)], cwd=ROOT, env=PEER_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ndi_round(seconds: float, width: int, height: int, fps: int) -> dict:
    sender = _peer("send", "bench-camera", seconds + 8, "--width", width, "--height", height, "--fps", fps)
    port = json.loads(sender.stdout.readline())["port"]
    job = subprocess.Popen([sys.executable, "-m", "stream.cli", "live", "--source", f"ndi://127.0.0.1:{port}",
                            "--sink", "ndi://bench-styled", "--fps", str(fps), "--json"], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = job.stderr.readline()
    out_port = int(line.rsplit(":", 1)[1])
    received = Path(tempfile.mkdtemp()) / "received.json"
    receiver = _peer("receive", f"127.0.0.1:{out_port}", seconds, received)
    receiver.wait(timeout=seconds + 60)
    job.terminate()
    summary = json.loads(job.communicate(timeout=30)[0])
    sent = {row["timecode"]: row["sent"] for row in map(json.loads, sender.communicate(timeout=30)[0].splitlines())}
    frames = json.loads(received.read_text())["frames"]
    start = frames[0]["at"] + FIRST_S
    steady = [f for f in frames if f["at"] >= start and f["timecode"] in sent]
    delays = np.array([(f["at"] - sent[f["timecode"]]) * 1000 for f in steady])
    return {"fps_received": round((len(steady) - 1) / (steady[-1]["at"] - steady[0]["at"]), 2),
            "latency_p50_ms": round(float(np.percentile(delays, 50)), 1),
            "latency_p95_ms": round(float(np.percentile(delays, 95)), 1),
            "stylecast": {k: summary.get(k) for k in ("fps_in", "fps_out", "dropped", "style_scale")}}


def udp_round(seconds: float, width: int, height: int, fps: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.live", "--seconds", str(seconds), "--width", str(width),
                          "--height", str(height), "--fps", str(fps)], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    return {"fps_received": got["after_5s"].get("fps_received"), "latency_p50_ms": got["latency_p50_ms"],
            "latency_p95_ms": got["latency_p95_ms"],
            "stylecast": got["stylecast"]}


def _xvfb() -> tuple[subprocess.Popen, str]:
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x720x24", "-nolisten", "tcp", "-noreset"],
                            pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        return xvfb, f":{f.readline().strip()}"


def window_run(seconds: float) -> dict:
    xvfb, display = _xvfb()
    try:
        out = subprocess.run([sys.executable, "-m", "stream.cli", "live", "--sink", "window", "--fps", "30",
                              "--duration", str(seconds), "--json"], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "DISPLAY": display}, check=True).stdout
    finally:
        xvfb.terminate()
        xvfb.wait()
    summary = json.loads(out)
    return {"window": summary["window"], "job_fps_out": summary["fps_out"], "job_dropped": summary["dropped"]}


def screen_sinks(rounds: int, seconds: float = 20.0, width: int = 640, height: int = 360, fps: int = 30) -> dict:
    import resource

    from stream.media.testsrc import TestScene

    scene = TestScene(width, height)
    pictures = [scene.frame(i / fps) for i in range(60)]
    gst = ["gst-launch-1.0", "-q", "fdsrc", "fd=0", f"blocksize={width * height * 3}", "!", "rawvideoparse",
           "format=rgb", f"width={width}", f"height={height}", f"framerate={fps}/1", "!", "videoconvert", "!",
           "ximagesink", "sync=false"]
    ours = [sys.executable, "-m", "stream.links.monitor_window"]
    xvfb, display = _xvfb()
    env = {**os.environ, "DISPLAY": display, "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    result: dict = {"ximagesink": [], "pygame_window": []}
    try:
        for _ in range(rounds):
            for name, cmd in (("ximagesink", gst), ("pygame_window", ours)):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
                if cmd is ours:
                    child.stdout.readline()  # ready
                start, count = time.monotonic(), int(seconds * fps)
                for i in range(count):
                    time.sleep(max(0.0, start + i / fps - time.monotonic()))
                    if cmd is ours:
                        head = {"w": width, "h": height, "before": False, "sent": time.monotonic(), "status": {}}
                        child.stdin.write(json.dumps(head).encode() + b"\n")
                    child.stdin.write(pictures[i % len(pictures)].data)
                    child.stdin.flush()
                took = count / (time.monotonic() - start)
                child.stdin.close()
                child.wait(30)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                result[name].append({"fps_taken": round(took, 2), "cpu_ms_a_frame": round(cpu / count * 1000, 2)})
    finally:
        xvfb.terminate()
        xvfb.wait()
    return result


def whip_run(seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.support.server_process import ServerProcess
    from tests.support.viewer import Viewer, launch, write_camera

    pages = ROOT / "tests" / "support" / "whip_pages"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(pages)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{httpd.server_address[1]}"
    camera = write_camera(Path(tempfile.mkdtemp()) / "camera.y4m", 352, 288, 30)
    token = "bench"
    result = {}
    with ServerProcess("--token", token, "--max-sessions", "3", "--offer-rate", "1000") as server, \
            sync_playwright() as p:
        chromium = launch(p, camera)
        end = lambda path: urllib.parse.quote(f"{server.base}{path}", safe="")  # noqa: E731
        publisher = chromium.new_context().new_page()
        publisher.goto(f"{site}/publish.html?endpoint={end('/whip')}&token={token}")
        publisher.wait_for_function("window.state !== 'starting'", timeout=30000)
        player = chromium.new_context().new_page()
        player.goto(f"{site}/play.html?endpoint={end('/whep')}&token={token}")
        player.wait_for_function("window.framesDecoded > 30", timeout=60000)
        first, t0 = player.evaluate("window.framesDecoded"), time.monotonic()
        time.sleep(seconds)
        result["whip_to_whep_fps"] = round((player.evaluate("window.framesDecoded") - first) / (time.monotonic() - t0), 2)
        publisher.evaluate("window.unpublish()")
        publisher.context.close()
        player.context.close()
        time.sleep(2)
        demo = Viewer(chromium, f"{server.base}/?token={token}")  # the demo page's own call, the same camera
        result["demo_page_fps"] = round(demo.received_fps(seconds), 2)
        demo.close()
        chromium.close()
    httpd.shutdown()
    return result


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("ndi", "window", "sinks", "whip", "all"), default="all")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--window-seconds", type=float, default=60.0)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--fps", type=int, default=25)
    args = ap.parse_args()
    result: dict = {"size": f"{args.width}x{args.height}", "fps": args.fps}
    if args.part in ("ndi", "all"):
        rounds = []
        for i in range(args.rounds):  # alternated: the machine's load falls on both alike
            rounds.append({"ndi": ndi_round(args.seconds, args.width, args.height, args.fps),
                           "udp": udp_round(args.seconds, args.width, args.height, args.fps)})
            print(json.dumps({"round": i + 1, **rounds[-1]}), file=sys.stderr)
        med = lambda path, key: round(float(np.median([r[path][key] for r in rounds])), 2)  # noqa: E731
        result["ndi_vs_udp"] = {"rounds": rounds, "median": {
            side: {k: med(side, k) for k in ("fps_received", "latency_p50_ms", "latency_p95_ms")} for side in ("ndi", "udp")}}
    if args.part in ("window", "all"):
        result["window"] = window_run(args.window_seconds)
    if args.part in ("sinks", "all"):
        result["screen_sinks"] = screen_sinks(2)
    if args.part in ("whip", "all"):
        result["whip"] = whip_run(min(args.seconds, 10))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
