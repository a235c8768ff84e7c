"""Which runtime and number format the CPU engine runs the built-in styles in, chosen by measuring
them on this machine (issue #49): the fastest that keeps the look.

The candidates are ONNX Runtime fp32 (the reference), torch bf16 where the CPU has AMX or AVX-512
BF16 (engines/runtimes/bf16_network.py), and OpenVINO fp32 and bf16 (where the CPU has it;
engines/runtimes/openvino.py) where it is installed. Two measurements, each made once and kept in
the cache (``runtimes/choice.json``), keyed by the CPU (its model and the flags that matter), the
runtimes' versions, the network's file (its rewrites change what each runtime does with it) and
its size:

- **speed**, per size (the job's, up to SPEED_SIDE on the longer side), threads and frames at
  once: milliseconds a frame for each candidate, timed as the job runs it (``parallel`` frames side
  by side, each on ``threads`` cores: a runtime that runs one frame fast may not run two at once;
  OpenVINO compiled for one stream ran them one after the other), the same network whatever the
  style;
- **look**, per style (at up to LOOK_SIDE): SSIM/4 of each lossy candidate against ONNX Runtime
  fp32 on frames the package draws itself (engines/runtimes/calibration.py), sharp ones and smooth
  colour fields; kept at KEEPS_LOOK or above.

int8 is not a candidate: on held-out real footage it scored SSIM/4 0.70-0.94 against fp32 (five
styles, Big Buck Bunny and bikes; docs/benchmarks/cpu.md). The sharp drawn frames said 0.87-0.98
and did not show it; the smooth colour fields do (0.18-0.26), but it is not worth timing. It stays
a choice the user makes (``--precision int8``) after looking at their own footage.

The choice is the fastest candidate that keeps the look; ``stylecast doctor`` shows what was
measured, and ``--engine``/``--precision`` override it. Without OpenVINO nothing is measured: bf16
where the CPU has it, else fp32, as measured once for all (docs/benchmarks/cpu.md).
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from engines.cache_dir import cache_dir
from engines.quality import ssim_quarter

from .calibration import calibration_frames, smooth_frames
from .cpu_features import bf16_usable, cpu_has_bf16
from .openvino import openvino_installed

KEEPS_LOOK = 0.97        # SSIM/4 against fp32 a lossy candidate must keep
MARGIN = 0.05            # and how much faster than ONNX Runtime fp32 it must be to be taken over it
SPEED_SIDE = 1280        # the longest side the speed is measured at: the runtimes' order changes with the
                         # size (AVX-512 BF16: OpenVINO bf16 first at 640x360, torch bf16 at 1280x720)
LOOK_SIDE = 640          # and the look (an SSIM/4 of a precision holds across sizes: docs/benchmarks/cpu.md)
TIMED_FRAMES = 4
LOOK_FRAMES = 4
SMOOTH_FRAMES = 2        # and soft colour fields beside them: what a rounding loses shows there first
_lock = threading.Lock()


@dataclass(frozen=True)
class Runtime:
    """A way to run the built-in network: ``runtime`` onnxruntime, torch or openvino, in ``precision``."""

    runtime: str
    precision: str

    def __str__(self) -> str:
        return f"{self.runtime} {self.precision}"


REFERENCE = Runtime("onnxruntime", "fp32")


def candidates() -> list[Runtime]:
    """What can run here, the reference first."""
    out = [REFERENCE]
    if bf16_usable():
        out.append(Runtime("torch", "bf16"))
    if openvino_installed():
        out.append(Runtime("openvino", "fp32"))
        if cpu_has_bf16():
            out.append(Runtime("openvino", "bf16"))
    return out


def measured_size(size: tuple[int, int] | None, side: int = LOOK_SIDE) -> tuple[int, int]:
    """The size a job's frames are measured at: theirs, the longest side at most ``side``,
    multiples of 4 (640x360 where the job does not know its frames' size)."""
    w, h = size or (640, 360)
    scale = min(1.0, side / max(w, h))
    return max(16, round(w * scale / 4) * 4), max(16, round(h * scale / 4) * 4)


@functools.lru_cache(maxsize=1)
def machine_key() -> str:
    """The CPU's model and the flags that decide the kernels, with the runtimes' versions, the
    built-in network's rewritten file (engines/networks/graph_rewrite.py: its name carries the
    rewrites and the packaged file's digest) and the form of torch's bf16 network."""
    from engines.catalog import builtin_model
    from engines.networks.graph_rewrite import fused_model

    model, flags = "unknown", set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    wanted = sorted(f for f in flags if f.startswith(("avx", "amx")) or f in ("fma", "f16c", "vnni"))
    versions = []
    for package in ("onnxruntime", "openvino", "torch"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    text = f"{model} | {' '.join(wanted)} | {', '.join(versions)} | {fused_model(builtin_model()).stem}"
    if bf16_usable():  # and what torch's bf16 network does with it
        from .bf16_network import FORM

        text += f" | {FORM}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _store() -> dict:
    path = cache_dir("runtimes") / "choice.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _keep(store: dict) -> None:
    path = cache_dir("runtimes") / "choice.json"
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(store, indent=1, sort_keys=True))
    tmp.replace(path)


@dataclass
class Choice:
    """The runtime chosen for a style at a size, and what it was chosen from: ms a frame and
    SSIM/4 against fp32 per candidate (``str(Runtime)`` keys)."""

    chosen: Runtime
    size: tuple[int, int]
    threads: int
    ms: dict[str, float]
    look: dict[str, float]


Runner = Callable[[Runtime], Callable[[np.ndarray], np.ndarray]]  # a candidate -> its network on frames


def choose(style_key: str, size: tuple[int, int] | None, threads: int, runner: Runner,
           notes: Callable[[str], None] | None = None, only: str | None = None, parallel: int = 1) -> Choice:
    """The fastest candidate that keeps ``style_key``'s look at ``size`` with ``threads`` a frame
    and ``parallel`` frames at once: from the cache, or measured now with ``runner`` (which opens a
    candidate's network); ``only``: among one runtime's candidates (``--engine openvino``), its
    fp32 where none keeps the look."""
    w, h = measured_size(size)
    sw, sh = measured_size(size, SPEED_SIDE)
    speed_key = f"{machine_key()} speed {sw}x{sh} t{threads}x{max(1, parallel)}"
    look_key = f"{machine_key()} look {style_key} {w}x{h}"
    with _lock:
        store = _store()
        ms, look = store.get(speed_key), store.get(look_key)
        if ms is None or look is None:
            if notes:
                notes(f"measuring the CPU's runtimes for this network at {sw}x{sh} (once; kept in the cache)")
            networks = {str(c): runner(c) for c in candidates()}
            if ms is None:
                timed = calibration_frames(sw, sh, TIMED_FRAMES, seed=7)
                ms = store[speed_key] = {name: round(_ms(net, timed, parallel), 2) for name, net in networks.items()}
            if look is None:
                looked = calibration_frames(w, h, LOOK_FRAMES, seed=7) + smooth_frames(w, h, SMOOTH_FRAMES, seed=7)
                look = store[look_key] = _looks(networks, looked)
            _keep(store)
    kept = [c for c in candidates() if str(c) in ms and look.get(str(c), 0.0) >= KEEPS_LOOK
            and (only is None or c.runtime == only)]
    # another runtime than the reference only where clearly faster (a timing's noise is a few percent)
    chosen = min(kept, key=lambda c: ms[str(c)] * (1.0 if c == REFERENCE else 1 + MARGIN)) if kept \
        else Runtime(only, "fp32") if only else REFERENCE
    return Choice(chosen, (sw, sh), threads, ms, look)


def _ms(network, frames: list[np.ndarray], parallel: int = 1) -> float:
    """ms a frame with ``parallel`` threads each running every frame at once, after a warm-up in
    each (the first call compiles or tunes; OpenVINO makes each thread's request)."""
    together(lambda: network(frames[0]), parallel)
    started = time.perf_counter()
    together(lambda: [network(frame) for frame in frames], parallel)
    return (time.perf_counter() - started) / (len(frames) * max(1, parallel)) * 1000


def together(work: Callable[[], object], at_once: int) -> None:
    """``work`` in ``at_once`` threads at the same time (the CPU engine's frames at once)."""
    threads = [threading.Thread(target=work) for _ in range(max(1, at_once))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _looks(networks: dict, frames: list[np.ndarray]) -> dict[str, float]:
    reference = [networks[str(REFERENCE)](f) for f in frames]
    out = {str(REFERENCE): 1.0}
    for name, network in networks.items():
        if name != str(REFERENCE):
            out[name] = round(float(np.mean([ssim_quarter(a, network(f)) for a, f in zip(reference, frames)])), 4)
    return out


def runtime_rows() -> list[dict]:
    """What has been measured on this machine, for ``stylecast doctor``."""
    store, mine = _store(), machine_key()
    rows = []
    for key, value in sorted(store.items()):
        parts = key.split(" ")
        if parts[0] != mine:
            continue
        if parts[1] == "speed":
            fastest = min(value, key=value.get)
            threads, _, parallel = parts[3][1:].partition("x")
            rows.append({"name": "cpu runtime", "available": True, "kind": "runtime",
                         "reason": f"{parts[2]} t{threads}: {parallel or 1} frame(s) at once, " + ", ".join(f"{k} {v:.0f} ms" for k, v in
                                                                         sorted(value.items(), key=lambda kv: kv[1]))
                                   + f" (fastest: {fastest})"})
        elif parts[1] == "look":
            kept = [k for k, v in value.items() if v >= KEEPS_LOOK]
            rows.append({"name": "cpu look", "available": True, "kind": "runtime",
                         "reason": f"{parts[2]} at {parts[3]}: SSIM/4 against fp32 " + ", ".join(
                             f"{k} {v:.3f}" for k, v in value.items()) + f" (keep the look: {', '.join(kept)})"})
    return rows
