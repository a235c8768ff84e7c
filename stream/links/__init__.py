"""Live's links to other programs and devices, beyond what PyAV opens: a PipeWire camera node
(``pipewire_camera.py``), SRT through ``srt-live-transmit`` (``srt_relay.py``), NDI in and out
(``ndi.py``), WHIP out (``whip_sink.py``), the set monitor's window (``window_sink.py``, drawn by
its own process ``monitor_window.py`` with ``monitor_overlays.py``), output times that only move
forward (``retimer.py``), and what ``doctor`` says of them (``live_support.py``). stream/live/'s
sources and sinks open them.

May import: ``stream.media``, ``stream.core`` and ``engines``.
"""
