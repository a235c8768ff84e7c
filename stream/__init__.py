"""stylecast's video side, by role, each layer importing only those below it:

- ``cli.py``: the ``stylecast`` command (parses, calls, prints);
- ``studio/``: the film studio page; ``cluster/``: a render in chunks, on Ray or here;
- ``render/``, ``live/``, ``serve/``: the jobs (file to file, source to sink, the WebRTC demo);
- ``web/``: what the demo's and the studio's servers share;
- ``edit/``: a clip's shots and each shot's look over time; ``styling/``: a look on an engine;
- ``framepath/``: a frame's way from decoder to writer, on the host or on a device;
- ``temporal/``: the motion, the stabilizer and the flicker readout;
- ``media/``: files in and out (decode, encode, colour, timecode, image sequences);
- ``core/``: the frame, notes, the pipeline's threads and queues, progress.

``engines`` (the networks and what runs them) sits below all of them.
"""
from stream.core.frame import Frame
from stream.live.job import LiveJob, LiveOptions
from stream.render.job import RenderOptions, RenderResult, render
from stream.styling.controls import Controls

__all__ = ["Controls", "Frame", "LiveJob", "LiveOptions", "RenderOptions", "RenderResult", "render"]
