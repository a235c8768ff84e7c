"""Sources, the pipeline, and sinks: the data path from decode to encode."""
from .frame import Frame
from .render import RenderOptions, RenderResult, render

__all__ = ["Frame", "RenderOptions", "RenderResult", "render"]
