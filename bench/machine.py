"""What machine a benchmark ran on, for its report (absolute figures mean little without it)."""
from __future__ import annotations

import os
from pathlib import Path


def cpu_name() -> str:
    """``AMD EPYC x2``: the CPU's model name and how many cores this process may use."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()} x{os.cpu_count()}"
    return "unknown"
