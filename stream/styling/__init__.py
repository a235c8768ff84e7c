"""A look on an engine, frame by frame: a look's values at a moment (``controls.py``: style,
strength, keep colours, stability), the options every job extends (``options.py``), values between
keyframes (``keyframes.py``), one look on a shared engine (``stylist.py``: the network, the mix and
the stabilizer, changed while running) with its governor of the network's size (``adapt.py``),
and the figures a live job reports (``stats.py``).

May import: ``stream.framepath``, ``stream.temporal``, ``stream.media``, ``stream.core`` and ``engines``.
"""
