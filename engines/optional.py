"""torch, imported where it is first used: a concept's two backends sit side by side in one module
(numpy and OpenCV for the host, torch for a device: the mix, the working size, colour, the
stabilizer), and a job on the host path, or a user without torch, never pays torch's import (one
to two seconds) or needs it installed. ``torch.zeros(...)`` and ``F.interpolate(...)`` read as they
always do; the import happens on the first attribute asked for.
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


def is_tensor(x) -> bool:
    """Whether ``x`` is a torch tensor (a device picture), without importing torch to ask."""
    return type(x).__module__.startswith("torch") and hasattr(x, "device")
