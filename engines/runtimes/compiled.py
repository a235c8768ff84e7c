"""A network compiled by ``torch.compile`` (TorchInductor: Triton kernels on a GPU, C++ on a CPU)
without ever holding a frame back for it.

Compiling takes 19 s for the style network at 1080p on an H200 (more with more kernels to tune), per
input shape. So each new shape starts compiling in a thread of its own, the eager network runs
meanwhile, and the compiled form takes over when it is ready, if it is ready within COMPILE_LIMIT_S
(a compile that takes longer is left: the eager form stays). A compile that fails (no Triton, no C
compiler, an op inductor cannot take) leaves the eager form too; either way the reason is told once
(``notes``). Compiled code is kept in stylecast's cache (``inductor/``, unless
``TORCHINDUCTOR_CACHE_DIR`` says where: the GPU check shares one with its tests), so the next run of
the same network and shape takes seconds. ``version_for`` tells a captured CUDA graph of one shape
when that shape's compiled form took over (never when another shape's did).

On a GPU the compile's first run (its kernels' tuning and warm-up) runs on a stream of its own,
holding engines/runtimes/gpu_network.py's CAPTURE_LOCK, and waits for that stream alone: a device-
wide synchronize there would break a CUDA graph being captured in another thread. Frames meanwhile
run uncaptured. Dynamo's limit on recompiles is raised to the shapes a network keeps (MAX_SIZES):
past its default of 8, new shapes would silently run uncompiled.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Callable

import torch

from engines.cache_dir import cache_dir

from .gpu_network import CAPTURE_LOCK, MAX_SIZES

COMPILE_LIMIT_S = 240.0   # seconds a shape may take to compile before the eager form is kept for it


def _cache() -> None:
    """Inductor's own cache (its FX graphs, Triton kernels) in stylecast's cache folder, unless set."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir("inductor")))


class CompiledNetwork:
    """``net(x)`` for float tensors of any fixed shape: eager until the compiled form of that shape
    is ready. Safe from several threads (frames of one shape may come from several)."""

    def __init__(self, net: torch.nn.Module, notes: Callable[[str], None] | None = None,
                 limit_s: float = COMPILE_LIMIT_S, mode: str = "default"):
        self.net, self.notes, self.limit_s, self.mode = net, notes, limit_s, mode
        self.version = 0          # goes up each time a shape's compiled form takes over (any shape)
        self._versions: dict[tuple, int] = {}  # (n, h, w) -> the version at which that shape's form took over
        self.failed: str | None = None
        self._compiled = None
        self._ready: dict[tuple, bool] = {}   # shape -> compiled and usable
        self._started: dict[tuple, float] = {}
        self._lock = threading.Lock()

    def state(self, x: torch.Tensor) -> str:
        """"compiled", "compiling" or "eager" (with the reason in ``failed``) for tensors like ``x``."""
        key = _key(x)
        if self._ready.get(key):
            return "compiled"
        return "compiling" if key in self._started and not self.failed else "eager"

    def __call__(self, x: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        """``rest``: more inputs of the network (a look per frame), part of the shape compiled for."""
        key = _key(x, *rest)
        if self._ready.get(key):
            return self._compiled(x, *rest)
        with self._lock:
            if self.failed is None and key not in self._started:
                self._started[key] = time.monotonic()
                example = (x.detach().clone(), *(r.detach().clone() for r in rest))
                threading.Thread(target=self._compile, args=(key, example), name="compile", daemon=True).start()
        return self.net(x, *rest)

    def version_for(self, n: int, h: int, w: int) -> int:
        """The form of the network for inputs of batch ``n`` and size ``h`` x ``w`` (0: eager)."""
        return self._versions.get((n, h, w), 0)

    def wait(self, x: torch.Tensor, timeout: float | None = None) -> str:
        """Block until the compiled form of ``x``'s shape is ready or given up (benchmarks, tests)."""
        self(x)
        deadline = time.monotonic() + (self.limit_s if timeout is None else timeout)
        while self.state(x) == "compiling" and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.state(x)

    def _compile(self, key: tuple, example: tuple[torch.Tensor, ...]) -> None:
        started = self._started[key]
        try:
            _cache()
            with self._lock:
                if self._compiled is None:
                    torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, MAX_SIZES)
                    self._compiled = torch.compile(self.net, mode=self.mode, dynamic=False)
            with torch.inference_mode():
                if example[0].is_cuda:
                    stream = torch.cuda.Stream(device=example[0].device)
                    with CAPTURE_LOCK, torch.cuda.stream(stream):  # no graph is captured meanwhile
                        self._compiled(*example)
                        stream.synchronize()  # this stream alone, never the device
                else:
                    self._compiled(*example)
        except Exception as exc:  # the eager network stays; the reason is told once
            self.failed = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            self._tell(f"the network runs uncompiled: torch.compile failed ({self.failed})")
            return
        took = time.monotonic() - started
        if took > self.limit_s:
            self._tell(f"the network runs uncompiled at {_shape(key)}: compiling took {took:.0f} s "
                       f"(over {self.limit_s:.0f} s)")
            return
        self._ready[key] = True
        self.version += 1
        n, _, h, w = key[0]
        self._versions[(n, h, w)] = self.version
        self._tell(f"compiled network ready for {_shape(key)} in {took:.1f} s")

    def _tell(self, line: str) -> None:
        if self.notes is not None:
            self.notes(line)


def _key(x: torch.Tensor, *rest: torch.Tensor) -> tuple:
    return tuple(x.shape), x.dtype, x.device, x.is_contiguous(memory_format=torch.channels_last), \
        tuple(tuple(r.shape) for r in rest)


def _shape(key: tuple) -> str:
    n, _, h, w = key[0]
    return f"{n} x {w}x{h}"
