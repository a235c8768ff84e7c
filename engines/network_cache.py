"""The networks of the styles a render moves through, each built once (the steps of a crossfade,
a look per shot); the least recently used is dropped past ``size``. Safe from several threads."""
from __future__ import annotations

import threading
from collections import OrderedDict

from .catalog import Style
from .engine import Engine, Network


def style_key(style: Style) -> tuple:
    weights = None if style.weights is None else style.weights.tobytes()
    return style.kind, style.name, style.path, weights


class NetworkCache:
    def __init__(self, engine: Engine, size: int = 64):
        self.engine, self.size = engine, size
        self._own = style_key(engine.style)
        self._networks: OrderedDict[tuple, Network] = OrderedDict()
        self._lock = threading.Lock()
        self.built = 0

    def get(self, style: Style) -> Network | None:
        """The network of ``style``; None for the engine's own style (``Engine.stylize`` runs that)."""
        key = style_key(style)
        if key == self._own:
            return None
        with self._lock:  # a build is rare and may take a moment: one at a time
            if key in self._networks:
                self._networks.move_to_end(key)
                return self._networks[key]
            network = self._networks[key] = self.engine.network(style)
            self.built += 1
            if len(self._networks) > self.size:
                self._networks.popitem(last=False)
            return network
