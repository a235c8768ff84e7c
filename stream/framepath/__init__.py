"""A frame's way between its decoder and its writer: one protocol, ``FramePath`` (``path.py``: the
protocol and the one factory that chooses), with two backends: on the host (``host.py``: numpy and
OpenCV) and on a device (``device.py``: torch, on the engine's device or the CPU), whose bus
crossings (``transfer.py``: pinned buffers, 4:2:0 up and down) and CUDA streams (``streams.py``) are
its own, and what ``stylecast doctor`` says of it (``support.py``). The concepts a frame meets on
the way keep their two backends side by side in their own modules: colour (stream/media/colour.py),
the mix and the working size (engines/mix.py, engines/style_scale.py), the motion and the
stabilizer (stream/temporal/).

May import: ``stream.temporal``, ``stream.media``, ``stream.core`` and ``engines``; torch only where
the device path is taken.
"""
