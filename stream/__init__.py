"""stylecast's video side, by role, each layer importing only those below it:

- ``cli.py``: the ``stylecast`` command (parses, calls, prints);
- ``cluster/``: a render spread over Ray;
- ``render/``, ``live/``, ``serve/``: the jobs (file to file, source to sink, the WebRTC demo);
- ``look/``: what a frame should look like over time, and the stabilizer;
- ``media/``: files in and out (decode, encode, colour, timecode, image sequences);
- ``core/``: the frame, notes, the pipeline's threads and queues, the progress bar.

``engines`` (the networks and what runs them) sits below all of them.
"""
from stream.core.frame import Frame
from stream.live.job import LiveJob, LiveOptions
from stream.render.job import RenderOptions, RenderResult, render
from stream.styling.controls import Controls

__all__ = ["Controls", "Frame", "LiveJob", "LiveOptions", "RenderOptions", "RenderResult", "render"]
