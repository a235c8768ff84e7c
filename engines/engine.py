"""The Engine interface: a batch of host frames in, the same frames stylized out.

Contract (every engine, CPU or GPU):
- in: uint8 RGB frames [N, H, W, 3] on the host, C-contiguous; out: the same shape and dtype.
- the engine converts to its own layout (float NCHW/NHWC, on the host or the device) inside its
  network and back; nothing outside an engine sees a float tensor.
- sessions, buffers and style vectors are built once (construction, ``set_style``) and reused.
- ``set_style`` and ``set_mix`` may be called from another thread while frames run: the new
  network is built aside and swapped in whole, so a frame never sees half of a change.
- many users of one engine (the sessions of a server) each keep their own network from
  ``network(style)`` and their own mix, and pass them to ``stylize``; the engine's sessions and
  buffers are shared.
- an engine that can run frames of different styles in one batch says so with ``batch_key``
  (a family and a look per style) and runs them with ``run_batch`` (a server's viewers together,
  stream/serve/batcher.py); the others run each frame alone.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, ClassVar

import numpy as np

from .catalog import Style, resolve
from .errors import OptionError
from .mix import Mix

Network = Callable[[np.ndarray], np.ndarray]  # uint8 HWC RGB -> uint8 HWC RGB, same size
MAX_SIDE = 8192  # pixels: the longest side of a frame any job or engine takes


class Engine(ABC):
    name: ClassVar[str]
    parallel_frames: int = 1  # how many stylize() calls may usefully run at once (from separate threads)
    precision: str = "fp32"   # the number format the built-in styles run in
    batches: bool = False     # runs frames of different styles in one batch (``batch_key``, ``run_batch``)
    device = None             # the torch device whose tensors its networks take (``network.on_device``), or
                              # None: host frames only (the device frame path goes round by the host)

    def __init__(self, style: Style | str, mix: Mix = Mix()):
        self.style = resolve(style)
        self.mix = mix
        self._network = self._load(self.style)

    @abstractmethod
    def _load(self, style: Style) -> Network:
        """Build what ``style`` needs (sessions, vectors) and return its per-frame network."""

    @property
    def own_network(self) -> Network:
        """The network of the engine's own style (what ``stylize`` runs when given none)."""
        return self._network

    def network(self, style: Style | str) -> Network:
        """The per-frame network of ``style`` on this engine's sessions, for a caller to keep."""
        return self._load(resolve(style))

    def stylize(self, frames: np.ndarray, network: Network | None = None, mix: Mix | None = None) -> np.ndarray:
        """uint8 RGB [N, H, W, 3] -> stylized uint8 RGB [N, H, W, 3], with the mix applied.
        ``network`` and ``mix`` default to the engine's own (``set_style``, ``set_mix``)."""
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise OptionError(f"engine input must be uint8 [N,H,W,3], got {frames.dtype} {frames.shape}")
        network = self._network if network is None else network
        mix = self.mix if mix is None else mix
        out = np.empty_like(frames)
        for i, frame in enumerate(frames):
            stylized = network(frame)
            out[i] = stylized if mix.is_plain else mix.apply(stylized, frame)
        return out

    def stylize_one(self, frame: np.ndarray, network: Network | None = None, mix: Mix | None = None) -> np.ndarray:
        """Convenience for a single uint8 HWC RGB frame."""
        return self.stylize(frame[None], network, mix)[0]

    def batch_key(self, style: Style) -> tuple[str, object] | None:
        """(family, look) when frames of ``style`` can share a batch with other styles of the same
        family (``run_batch``); None where they run alone (the default)."""
        return None

    def run_batch(self, family: str, frames: np.ndarray, looks: list) -> np.ndarray:
        """uint8 RGB [N, H, W, 3], frame i in the style whose ``batch_key`` gave ``looks[i]`` ->
        stylized, the same shape (no mix: each caller applies its own)."""
        raise NotImplementedError(f"the {self.name} engine runs each frame alone")

    def network_forms(self) -> dict | None:
        """Frames its networks ran by form ("compiled", "eager") where it compiles them, else None."""
        return None

    def precision_for(self, style: Style) -> str:
        """The number format ``style`` actually runs in on this engine (summaries say this)."""
        return self.precision

    def set_style(self, style: Style | str) -> None:
        style = resolve(style)
        self._network, self.style = self._load(style), style

    def set_mix(self, mix: Mix) -> None:
        self.mix = mix
