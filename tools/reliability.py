"""The long runs of the reliability suite (issue #8), each a pytest module with larger counts.

    python -m tools.reliability sdp        # 10,000 mutated offers
    python -m tools.reliability corrupt --seeds 100 --kills 20
    python -m tools.reliability garbage --seconds 60
    python -m tools.reliability soak --cycles 200 --stream 5
    python -m tools.reliability outage --seconds 30   # a UDP source gone 30 s (300 for 5 min)
    python -m tools.reliability film --minutes 120    # a generated two-hour film through render
    python -m tools.reliability all

Prints each run's outcome and time; the figures go to docs/reliability.md.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(module: str, env: dict) -> int:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-n", "0", "-p", "no:cacheprovider", f"tests/{module}"],
                          cwd=ROOT, env={**os.environ, **env})
    print(f"== {module} {env}: exit {proc.returncode} in {time.monotonic() - started:.0f} s", flush=True)
    return proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("sdp", "corrupt", "garbage", "soak", "outage", "film", "all"))
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60, help="garbage: how long; outage: how long the source is gone")
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=120, help="film: its length")
    parser.add_argument("--stream", type=float, default=5, help="seconds each soak cycle streams")
    args = parser.parse_args()
    runs = {"sdp": ("test_sdp_fuzz.py", {"STYLECAST_FUZZ_EXAMPLES": str(args.examples)}),
            "corrupt": ("test_corrupt_inputs.py", {"STYLECAST_CORRUPT_SEEDS": str(args.seeds),
                                                   "STYLECAST_KILL_RUNS": str(args.kills)}),
            "garbage": ("test_serve_faults.py", {"STYLECAST_GARBAGE_SECONDS": str(args.seconds)}),
            "soak": ("test_soak.py", {"STYLECAST_SOAK_CYCLES": str(args.cycles),
                                      "STYLECAST_SOAK_STREAM_S": str(args.stream)}),
            "outage": ("test_outages.py::test_udp_source_gone_and_back", {"STYLECAST_OUTAGE_S": str(args.seconds)}),
            "film": ("test_long_film.py", {"STYLECAST_FILM_MINUTES": str(args.minutes)})}
    chosen = runs.values() if args.what == "all" else [runs[args.what]]
    return max(run(module, env) for module, env in chosen)


if __name__ == "__main__":
    sys.exit(main())
