"""Style networks and the engines that run them."""
from .catalog import BUILTIN_NAMES, DEFAULT_STYLE, Style, resolve, style_list
from .engine import Engine
from .errors import StylecastError
from .look import Look
from .registry import ENGINE_NAMES, engine_status, open_engine

__all__ = ["BUILTIN_NAMES", "DEFAULT_STYLE", "ENGINE_NAMES", "Engine", "Look", "Style", "StylecastError",
           "engine_status", "open_engine", "resolve", "style_list"]
