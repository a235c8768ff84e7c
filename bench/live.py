"""Live latency and rate over a real network hop on 127.0.0.1: a publisher sends the test scene as
MPEG-TS over UDP in real time, ``stylecast live`` stylizes it to another UDP port, a receiver
matches frames by timestamp. Latency is from the publisher's send to the receiver's decode.

    python -m bench.live [--width 640 --height 360 --fps 25 --seconds 20] [--extra "--no-stabilize"]
    python -m bench.live --srt 20     # the same through SRT both ways (latency 20 ms a hop)
    python -m bench.live --tree /tmp/base   # another checkout's stylecast, to alternate with this one

stylecast runs with ``--fps`` set to the publisher's rate (its default, 25, caps a faster source).
The rate and latency are given for the whole run, for its first 5 s (the engine loading, the stream
probed, the network's size found) and for the rest, every frame sent counted.

With ``--srt MS`` stylecast listens for SRT (``srt://...?mode=listener``) and calls its receiver
(``mode=caller``): the publisher's UDP goes through one ``srt-live-transmit`` relay into SRT, and
the receiver's SRT through another back to UDP, so the path adds two SRT hops (each holding packets
``MS`` ms, SRT's latency option) beside stylecast's own relays.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
from stream.links.srt_relay import free_udp_port
from tests.support.loopback import Receiver, publish


def srt_ends(args, src: int, dst: int) -> tuple[str, str, list[subprocess.Popen]]:
    """stylecast's source and sink as SRT, with the publisher's and the receiver's relays started."""
    into, out = free_udp_port(), free_udp_port()
    opts = f"latency={args.srt}"
    relays = [subprocess.Popen(["srt-live-transmit", "-q", f"srt://127.0.0.1:{out}?mode=listener&{opts}",
                                f"udp://127.0.0.1:{dst}"])]
    source, sink = f"srt://127.0.0.1:{into}?mode=listener&{opts}", f"srt://127.0.0.1:{out}?mode=caller&{opts}"
    return source, sink, relays


def publisher_relay(args, source: str, src: int) -> subprocess.Popen:
    return subprocess.Popen(["srt-live-transmit", "-q", f"udp://127.0.0.1:{src}",
                             source.replace("mode=listener", "mode=caller")])


def direct_hop(args) -> None:
    port = free_udp_port()
    receiver = Receiver(port, keep_pictures=False)
    receiver.start()
    time.sleep(0.5)
    sent_at: dict = {}
    publish(port, args.seconds, args.width, args.height, args.fps, sent_at=sent_at)
    receiver.join(args.seconds + 30)
    latency = np.array([(arrived - sent_at[pts]) * 1000 for pts, _, arrived in receiver.frames if pts in sent_at])
    settled = latency[len(latency) // 10:]
    print(json.dumps({"size": f"{args.width}x{args.height}", "direct": True, "frames_sent": len(sent_at),
                      "frames_received": len(latency), "latency_p50_ms": _pct(settled, 50),
                      "latency_p95_ms": _pct(settled, 95)}))


def stage_times(rows: list[list[str]], sent_at: dict, received_at: dict) -> dict:
    """Where a frame's time goes, p50 per stage (ms), from the trace's columns (stream/live/trace.py)
    and the two ends' own clocks (CLOCK_MONOTONIC, shared by every process here)."""
    spans = {"publisher send -> demuxed": [], "demuxed -> captured (decode)": [],
             "captured -> to the sink (network, stabilizer, waits)": [], "sink (encode, mux, send)": [],
             "sent -> decoded at the receiver": []}
    for r in rows:
        pts = int(r[0])
        if r[5] != "0" or pts not in sent_at or float(r[7]) == 0:
            continue
        demuxed, captured, sink_at, emitted = float(r[7]), float(r[2]), float(r[8]), float(r[3])
        for name, value in zip(spans, (demuxed - sent_at[pts], captured - demuxed, sink_at - captured,
                                       emitted - sink_at, received_at.get(pts, np.nan) - emitted)):
            spans[name].append(value * 1000)
    return {name: round(float(np.nanmedian(v[len(v) // 10:])), 1) for name, v in spans.items() if v}


def _pct(values: np.ndarray, q: float) -> float | None:
    """The ``q``th percentile in ms, to 0.1; None when nothing arrived."""
    return round(float(np.percentile(values, q)), 1) if len(values) else None


FIRST_S = 5.0  # the start (the engine loading, the stream probed, the network's size found) reported apart


def _part(sent_at: dict, received: list, start: float, end: float) -> dict:
    """Frames sent from ``start`` to ``end`` (publisher's clock): the rate at which they arrived and
    their latency, send to the receiver's decode, every frame counted (none left out as warm-up)."""
    sent = {pts: at for pts, at in sent_at.items() if start <= at < end}
    latency = np.array([(arrived - sent[pts]) * 1000 for pts, _, arrived in received if pts in sent])
    if not len(latency):
        return {"frames_sent": len(sent), "frames_received": 0}
    return {"frames_sent": len(sent), "frames_received": len(latency),
            "fps_received": round(len(latency) / max(end - start, 1e-9), 2),
            "latency_p50_ms": _pct(latency, 50),
            "latency_p95_ms": _pct(latency, 95),
            "latency_max_ms": _pct(latency, 100)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--extra", default="", help="extra `stylecast live` flags")
    ap.add_argument("--direct", action="store_true", help="no stylecast: the publisher sends straight to the "
                                                          "receiver (what one hop of the harness costs)")
    ap.add_argument("--srt", type=int, metavar="MS", help="SRT in and out, latency MS a hop, instead of UDP")
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose stylecast runs (default: this "
                                                            "one), to compare two commits side by side")
    args = ap.parse_args()
    if args.direct:
        return direct_hop(args)
    src, dst = free_udp_port(), free_udp_port()
    receiver = Receiver(dst, keep_pictures=False)
    receiver.start()
    trace = Path(tempfile.mkdtemp()) / "trace.csv"
    source, sink, relays = srt_ends(args, src, dst) if args.srt else \
        (f"udp://127.0.0.1:{src}", f"udp://127.0.0.1:{dst}", [])
    proc = subprocess.Popen([sys.executable, "-m", "stream.cli", "live", "--source", source,
                             "--sink", sink, "--duration", str(args.seconds + 3), "--json", "--fps", str(args.fps),
                             "--trace", str(trace), *args.extra.split()],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=args.tree)
    time.sleep(1.5)
    if args.srt:
        relays.append(publisher_relay(args, source, src))
        time.sleep(0.5)
    sent_at: dict = {}
    publish(src, args.seconds, args.width, args.height, args.fps, sent_at=sent_at)
    out, err = proc.communicate(timeout=args.seconds + 60)
    receiver.join(args.seconds + 30)
    for relay in relays:
        relay.terminate()
        relay.wait()
    if proc.returncode != 0:
        sys.exit(err)
    summary = json.loads(out)
    latency = np.array([(arrived - sent_at[pts]) * 1000 for pts, _, arrived in receiver.frames if pts in sent_at])
    settled = latency[len(latency) // 10:]  # after the first second or so
    # send -> sink out: the publisher's send to stylecast's write to its sink (one network hop), from
    # stylecast's trace; both sides read CLOCK_MONOTONIC, which every process on the machine shares
    with open(trace) as f:
        rows = [line.split(",") for line in f.read().splitlines()[1:]]
    to_sink = np.array([(float(r[3]) - sent_at[int(r[0])]) * 1000 for r in rows if r[5] == "0" and int(r[0]) in sent_at])
    to_sink = to_sink[len(to_sink) // 10:]
    stages = stage_times(rows, sent_at, {pts: arrived for pts, _, arrived in receiver.frames})
    shutil.rmtree(trace.parent)
    # the rate once running: frames sent after the first 3 s (start-up, probing the stream) that arrived
    first = min(sent_at.values()) + 3.0
    steady_sent = {pts for pts, at in sent_at.items() if at >= first}
    steady_received = sum(1 for pts, _, _ in receiver.frames if pts in steady_sent)
    steady_seconds = max(sent_at.values()) - first
    start = min(sent_at.values())
    first_5s = _part(sent_at, receiver.frames, start, start + FIRST_S)
    after_5s = _part(sent_at, receiver.frames, start + FIRST_S, max(sent_at.values()) + 1e-6)
    whole = _part(sent_at, receiver.frames, start, max(sent_at.values()) + 1e-6)
    result = {"size": f"{args.width}x{args.height}", "transport": f"SRT latency {args.srt} ms" if args.srt else "UDP",
              "source_fps": args.fps, "seconds": args.seconds,
              "frames_sent": len(sent_at), "frames_received": len(latency),
              "fps_received": round(len(latency) / args.seconds, 2),
              "fps_received_after_3s": round(steady_received / max(steady_seconds, 1e-9), 2),
              "latency_p50_ms": _pct(settled, 50),
              "latency_p95_ms": _pct(settled, 95),
              "send_to_sink_p50_ms": _pct(to_sink, 50),
              "send_to_sink_p95_ms": _pct(to_sink, 95),
              "stages_p50_ms": stages,
              "whole_run": whole, "first_5s": first_5s, "after_5s": after_5s,
              "stylecast": {k: summary.get(k) for k in ("fps_in", "fps_out", "dropped", "behind", "engine_ms",
                                                        "latency_p50_ms", "latency_p95_ms", "style_scale")}}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
