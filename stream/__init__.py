"""Sources, the pipeline, and sinks: the data path from decode to encode."""
from .controls import Controls
from .frame import Frame
from .live import LiveJob, LiveOptions
from .render import RenderOptions, RenderResult, render

__all__ = ["Controls", "Frame", "LiveJob", "LiveOptions", "RenderOptions", "RenderResult", "render"]
