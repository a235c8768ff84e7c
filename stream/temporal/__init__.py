"""What holds stylized video steady from frame to frame, and measures it: how the picture moved
(``motion.py``: the optical flow both ways on small greys, its trust, the cut), the temporal
stabilizer (``stabilize.py``: the previous output carried along that motion where it is trusted,
on the host and on a device) and the flicker readout (``flicker.py``).

May import: ``stream.media``, ``stream.core`` and ``engines``.
"""
