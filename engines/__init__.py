"""Style networks and the engines that run them, by role: ``networks/`` (what a network computes
and where its weights come from), ``runtimes/`` (what runs one: CPU, bf16, torch CUDA, TensorRT),
``training/`` (networks stylecast trains itself). At the top: the engine contract (``engine.py``:
uint8 RGB frames in and out), the style catalog (``catalog.py``, ``models.py``: the packaged
files), the mix after the network (``mix.py``), errors (``errors.py``), the cache folder
(``cache_dir.py``), the networks a render moves through (``network_cache.py``), the network run at
``--style-scale`` (``style_scale.py``), the contact sheet's tiles (``sheet.py``), and the choice of
an engine (``registry.py``) and a TensorRT engine built ahead (``build_engine.py``), the two at
the top that reach into ``runtimes/``.

Inside ``engines/`` a module imports from its own part or one below: registry and build_engine >
training > runtimes > networks > the rest of the top (checked by tests/test_layers.py).
"""
from .catalog import BUILTIN_NAMES, DEFAULT_STYLE, Style, resolve, style_list
from .engine import Engine
from .errors import StylecastError
from .mix import Mix
from .registry import ENGINE_NAMES, engine_status, open_engine

__all__ = ["BUILTIN_NAMES", "DEFAULT_STYLE", "ENGINE_NAMES", "Engine", "Mix", "Style", "StylecastError",
           "engine_status", "open_engine", "resolve", "style_list"]
