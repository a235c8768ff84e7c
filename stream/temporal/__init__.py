"""What holds stylized video steady from frame to frame, and measures it: the temporal stabilizer
(``stabilize.py``: the previous output carried along the optical flow where the flow is trusted)
and the flicker readout (``flicker.py``).

May import: ``stream.media``, ``stream.core`` and ``engines``.
"""
