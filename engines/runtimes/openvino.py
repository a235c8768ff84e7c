"""OpenVINO (Intel's runtime for CPUs, integrated GPUs and NPUs; it runs on AMD CPUs too) for the
ONNX networks the CPU engine runs: the same files ONNX Runtime takes (the fused built-in network,
engines/networks/graph_rewrite.py), in fp32, bf16 where the CPU has it, or int8.

- **int8**: post-training quantization by NNCF (the ``mixed`` preset: symmetric weights,
  asymmetric activations), calibrated on frames the package draws itself
  (engines/runtimes/calibration.py), each under another built-in style, since the style weights
  move the activations. The quantized model is kept in the cache (``openvino/``) under the source
  model's hash: it is made once per machine (about 6 s on 2 cores), then read.
- **shapes**: the model is compiled for each frame size it meets (a static shape runs 25% faster
  than the dynamic one, measured at 640x360 and 1280x720), at most MAX_SHAPES kept.
- **threads**: one infer request per thread, and one OpenVINO stream per frame the CPU engine runs
  at once (``streams``: its parallel frames), each on ``threads`` cores. A model compiled for one
  stream runs the requests one after another whatever the threads calling it: the two frames of a
  2-core render then took 97 ms a frame at 640x272 where ONNX Runtime took 58 (and two streams 49).
- **device**: ``CPU`` here; ``GPU`` (an Intel integrated GPU) where OpenVINO lists one. No such GPU
  is on the machines this was built on: that path is the same calls with another device name,
  untested.

``OpenVinoSession`` answers ONNX Runtime's ``run(None, feeds)`` and ``get_inputs()``, so the
networks that take an ONNX Runtime session (engines/networks/onnx_networks.py) take it as they are.
"""
from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import numpy as np

from engines.cache_dir import cache_dir, file_digest
from engines.errors import EngineUnavailable, StyleError

OV_PRECISIONS = ("fp32", "bf16", "int8")
MAX_SHAPES = 8           # compiled sizes kept per model
CALIBRATION_FRAMES = 12  # frames NNCF calibrates int8 on
CALIBRATION_VERSION = 1  # bump when the calibration changes: the cached int8 models stop matching
_HINTS = {"fp32": "f32", "bf16": "bf16", "int8": "f32"}  # int8 layers run int8; the rest in f32


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def openvino_devices() -> list[str]:
    """The devices OpenVINO can run on here (``CPU``, ``GPU``...), or none when it is not installed."""
    if not openvino_installed():
        return []
    return list(_core().available_devices)


_core_lock = threading.Lock()
_the_core = None


def _core():
    global _the_core
    with _core_lock:
        if _the_core is None:
            import openvino as ov

            _the_core = ov.Core()
        return _the_core


class _Input:
    def __init__(self, name: str):
        self.name = name


class OpenVinoSession:
    """``path``'s ONNX model in OpenVINO at ``precision`` on ``device`` with ``threads`` per frame,
    ``streams`` frames at once (from as many threads).
    ``calibration`` (int8 only): the feeds NNCF calibrates on, asked for only when the quantized
    model is not in the cache yet."""

    def __init__(self, path: Path, precision: str = "fp32", threads: int = 1, device: str = "CPU",
                 calibration: Callable[[], list[dict]] | None = None, streams: int = 1):
        if not openvino_installed():
            raise EngineUnavailable("OpenVINO is not installed (pip install 'stylecast[openvino]')")
        if precision not in OV_PRECISIONS:
            raise StyleError(f"OpenVINO runs {', '.join(OV_PRECISIONS)}, not {precision!r}")
        self.path, self.precision, self.threads, self.device = Path(path), precision, threads, device
        self.streams = max(1, streams)
        core = _core()
        try:
            source = quantized(self.path, calibration) if precision == "int8" else self.path
            self._model = core.read_model(str(source))
        except (StyleError, EngineUnavailable):
            raise
        except Exception as exc:  # OpenVINO raises its own kinds for a file it cannot read
            raise StyleError(f"OpenVINO cannot load {self.path.name}: {str(exc).splitlines()[0][:200]}") from None
        self._names = [i.get_any_name() for i in self._model.inputs]
        self._compiled: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()
        self._local = threading.local()

    def get_inputs(self) -> list[_Input]:
        return [_Input(n) for n in self._names]

    def _compiled_for(self, shapes: tuple):
        with self._lock:
            compiled = self._compiled.get(shapes)
            if compiled is None:
                model = self._model.clone()
                model.reshape(dict(zip(self._names, [list(s) for s in shapes])))
                compiled = _core().compile_model(model, self.device, {
                    "INFERENCE_NUM_THREADS": self.threads * self.streams, "NUM_STREAMS": self.streams,
                    "PERFORMANCE_HINT": "LATENCY" if self.streams == 1 else "THROUGHPUT",
                    "INFERENCE_PRECISION_HINT": _HINTS[self.precision]})
                self._compiled[shapes] = compiled
                while len(self._compiled) > MAX_SHAPES:
                    self._compiled.popitem(last=False)
            else:
                self._compiled.move_to_end(shapes)
            return compiled

    def run(self, outputs, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """ONNX Runtime's call: every output for ``feeds`` ({input name: array})."""
        shapes = tuple(tuple(feeds[n].shape) for n in self._names)
        compiled = self._compiled_for(shapes)
        requests = self._local.__dict__.setdefault("requests", {})
        request = requests.get(id(compiled))
        if request is None or request[0] is not compiled:
            request = requests[id(compiled)] = (compiled, compiled.create_infer_request())
        result = request[1].infer({n: feeds[n] for n in self._names})
        return [np.array(result[o]) for o in compiled.outputs]


def quantized(path: Path, calibration: Callable[[], list[dict]] | None) -> Path:
    """The int8 model of ``path`` (an OpenVINO IR in the cache): made once with NNCF from the
    ``calibration`` feeds, then read from there."""
    folder = cache_dir("openvino")
    out = folder / f"{file_digest(path)[:24]}-int8-v{CALIBRATION_VERSION}.xml"
    if out.is_file() and out.with_suffix(".bin").is_file():
        return out
    if calibration is None:
        raise StyleError(f"int8 needs calibration frames for {path.name}")
    if importlib.util.find_spec("nncf") is None:
        raise EngineUnavailable("int8 on OpenVINO quantizes with NNCF, which is not installed "
                                "(pip install 'stylecast[openvino]')")
    import logging

    import nncf
    import openvino as ov

    logging.getLogger("nncf").setLevel(logging.WARNING)  # its per-layer notes are not the user's business
    feeds = calibration()
    model = _core().read_model(str(path))
    with contextlib.redirect_stdout(sys.stderr):  # its progress bar: stdout is a job's --json summary
        int8 = nncf.quantize(model, nncf.Dataset(feeds), subset_size=len(feeds),
                             preset=nncf.QuantizationPreset.MIXED)
    tmp = out.with_name(out.stem + ".part.xml")
    ov.save_model(int8, str(tmp))
    tmp.with_suffix(".bin").replace(out.with_suffix(".bin"))
    tmp.replace(out)  # the .xml last: a reader that finds it finds its weights
    return out
