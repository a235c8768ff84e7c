"""tools/gpu_check.sh, the one call a lent GPU gets, run here end to end with ``--dry`` (the same parts
on the CPU, tiny), so it is known to work before a GPU sees it: every part runs under its limit and
reports, every case is a line of JSON, and the summary is written whatever happens; a budget the
parts' limits do not fit is refused before anything runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the GPU check's parts run the torch engine and device path")
ROOT = Path(__file__).resolve().parents[2]


def check(out: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "tools" / "gpu_check.sh"), "--dry"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "OUT": str(out), "PYTHON": sys.executable,
                                                       "STYLECAST_CACHE": str(out / "cache"), **env})


def test_the_gpu_check_runs_every_part_on_the_cpu_and_keeps_every_figure(tmp_path):
    done = check(tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    whole = json.loads((tmp_path / "gpu_check.json").read_text())
    assert whole["dry"] is True and whole["seconds"] < 330
    parts = whole["parts"]
    assert set(parts) == {"install", "nvidia-smi", "doctor", "pytest-gpu", "networks", "renders", "live", "serve"}
    assert all(p["status"] == "ok" or p["status"].startswith("skipped (--dry") for p in parts.values()), parts
    cases = {(c["part"], c["case"]): c for c in whole["cases"]}
    assert whole["failed_cases"] == [], whole["failed_cases"]
    assert ("setup", "doctor") in cases and any(r["name"] == "frames" for r in cases["setup", "doctor"]["rows"])
    assert cases["networks", "fast / 160x96 batch 4"]["fps"] > 0
    assert cases["renders", "testscene-90p.mp4 / cuda, device path, stabilized"]["frame_path"] == "cpu"
    assert cases["live", "160x90 at 30 frames/s, stabilized"]["frames_received"] > 0
    assert cases["serve", "admission: the batched network at start-up"]["capacity"]["admitted"] >= 1
    lines = (tmp_path / "gpu_check.jsonl").read_text().splitlines()
    assert sum(1 for line in lines if line.startswith('{"part"')) == len(whole["cases"])  # each as it came


def test_limits_that_do_not_fit_the_call_are_refused_before_anything_runs(tmp_path):
    done = check(tmp_path, GPU_CHECK_BUDGET_S="100")
    assert done.returncode == 2 and "over the 100 s budget" in done.stdout + done.stderr
    assert not (tmp_path / "gpu_check.json").exists() or json.loads((tmp_path / "gpu_check.json").read_text())["cases"] == []
