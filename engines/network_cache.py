"""The networks of the styles a render moves through, each built once (the steps of a crossfade,
a look per shot); the least recently used is dropped past ``size``. Safe from several threads.
``build`` makes a network of a style (``engine.network`` by default; a server's batcher gives its
viewers networks that run in its batches, stream/serve/batcher.py)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from .catalog import Style
from .engine import Engine, Network


def style_key(style: Style) -> tuple:
    weights = None if style.weights is None else style.weights.tobytes()
    return style.kind, style.name, style.path, weights


class NetworkCache:
    def __init__(self, engine: Engine, size: int = 64, build: Callable[[Style], Network] | None = None):
        self.engine, self.size = engine, size
        self._build = build
        self._own = style_key(engine.style) if build is None else None
        self._networks: OrderedDict[tuple, Network] = OrderedDict()
        self._lock = threading.Lock()
        self.built = 0

    def get(self, style: Style) -> Network | None:
        """The network of ``style``; None for the engine's own style (``Engine.stylize`` runs that),
        unless a ``build`` of its own was given."""
        key = style_key(style)
        if key == self._own:
            return None
        with self._lock:  # a build is rare and may take a moment: one at a time
            if key in self._networks:
                self._networks.move_to_end(key)
                return self._networks[key]
            network = self._networks[key] = (self._build or self.engine.network)(style)
            self.built += 1
            if len(self._networks) > self.size:
                self._networks.popitem(last=False)
            return network
