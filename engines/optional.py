"""torch and onnx, imported where they are first used.

torch: a concept's two backends sit side by side in one module (numpy and OpenCV for the host, torch
for a device: the mix, the working size, colour, the stabilizer), and a job on the host path, or a
user without torch, never pays torch's import (one to two seconds) or needs it installed.

onnx: the graph rewrites (engines/networks/) read and write ONNX files once, into the cache; a job
that finds them there never imports onnx, whose ml_dtypes alone costs 0.4 s of every start.

``torch.zeros(...)``, ``F.interpolate(...)`` and ``helper.make_node(...)`` read as they always do;
the import happens on the first attribute asked for.
"""
from __future__ import annotations

import importlib
from types import ModuleType


class _Lazily:
    """A module imported on first use (``__getattr__``); ``ImportError`` then, as ``import`` would."""

    def __init__(self, name: str):
        self.__dict__["_name"], self.__dict__["_module"] = name, None

    def _load(self) -> ModuleType:
        if self._module is None:
            self.__dict__["_module"] = importlib.import_module(self._name)
        return self._module

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<{self._name}, imported on first use>"


torch = _Lazily("torch")
F = _Lazily("torch.nn.functional")
onnx = _Lazily("onnx")
helper = _Lazily("onnx.helper")
numpy_helper = _Lazily("onnx.numpy_helper")


def is_tensor(x) -> bool:
    """Whether ``x`` is a torch tensor (a device picture), without importing torch to ask."""
    return type(x).__module__.startswith("torch") and hasattr(x, "device")
