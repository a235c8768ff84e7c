"""``stylecast live``: a source to a sink at the source's rate. Sources (``sources.py``: test scene,
file, URL, camera; AAC split per frame in ``adts.py``; what queued while nobody read skipped by
``live_edge.py``) → the job (``job.py``: four threads and one-frame slots, frames kept in order by
``in_order.py``) → sinks (``sinks.py``: null, file, stream URL, virtual camera, NDI, WHIP, a
monitor window), with live's links beyond PyAV in stream/links/, the control
endpoint (``control_server.py``), the sink kept fed at the output rate (``sink_feed.py``) with the
no-signal picture while the source is stalled (``no_signal.py``), and the per-frame trace (``trace.py``).

May import: ``stream.links``, ``stream.edit``, ``stream.styling``, ``stream.temporal``, ``stream.media``, ``stream.core`` and ``engines``; not ``render``,
``serve`` or ``cluster``.
"""
