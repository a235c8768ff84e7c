"""The PipeWire camera (issue #21), measured: a private PipeWire daemon and WirePlumber, ``stylecast
live --sink pipewire`` at 640x360, and a separate client process (GStreamer's pipewiresrc asking for
RGB) reading the node for ``--seconds``.

    python -m bench.pipewire [--seconds 30] [--fps 25] [--json]

Reports the job's frame rate and the client's, which of the client's frames are exactly the job's
(CRC-32 against the job's ``--trace``), the time from the job's emit to the client's receipt (p50,
p95, max; CLOCK_MONOTONIC on both sides), and the resident memory of the job and of its
gst-launch child 10 s in and at the end.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.pipewire_session import CameraClient, PipeWireSession

from .machine import cpu_name


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the job's gst-launch child)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp, PipeWireSession(Path(tmp)) as pw:
        trace = Path(tmp) / "trace.csv"
        job = subprocess.Popen([sys.executable, "-m", "stream.cli", "live", "--sink", "pipewire", "--max-side",
                                str(max(width, height)), "--fps", str(args.fps), "--duration", str(args.seconds + 5),
                                "--json", "--trace", str(trace)],
                               env=pw.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parent.parent)
        pw.wait_for(lambda: 'node.name = "stylecast"' in pw.nodes(), 60, "the stylecast node")
        memory = {}
        with CameraClient(pw.env, width, height) as client:
            time.sleep(10)
            gst = children(job.pid)
            memory["after_10_s"] = {"job_mb": rss_mb(job.pid), "gst_mb": sum(rss_mb(p) for p in gst)}
            time.sleep(max(0.0, args.seconds - 10))
            memory["at_end"] = {"job_mb": rss_mb(job.pid), "gst_mb": sum(rss_mb(p) for p in gst)}
            received = list(client.frames)
        out, err = job.communicate(timeout=60)
        if job.returncode:
            sys.exit(f"the job failed: {err.strip().splitlines()[-1:]}")
        with open(trace) as f:
            sent = {int(r["crc32"], 16): float(r["emitted_at"]) for r in csv.DictReader(f)}
    summary = json.loads(out)
    matched = sorted(t - sent[crc] for t, crc in received if crc in sent)
    span = received[-1][0] - received[0][0]
    report = {
        "cpu": cpu_name(), "size": args.size, "seconds_read": round(span, 1),
        "job_fps_out": summary["fps_out"], "client_fps": round((len(received) - 1) / span, 2),
        "client_frames": len(received), "exact_job_frames": len(matched),
        "emit_to_receipt_ms": {"p50": round(1000 * matched[len(matched) // 2], 1),
                               "p95": round(1000 * matched[int(len(matched) * 0.95)], 1),
                               "max": round(1000 * matched[-1], 1)},
        "frame_interval_ms": round(1000 / args.fps, 1), "memory": memory,
    }
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
