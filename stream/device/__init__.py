"""The frame path on a device: frames that never leave the GPU between the decoder and the encoder.
Torch code that runs on any device, the CPU included (which is how it is tested here): the 4:2:0
picture up and down (``frames.py``), colour both ways as the host's swscale does it
(``colour.py``), the mix and the network's working size (``mix.py``), the stabilizer's full-size
work (``stabilizer.py``), and the parts a render or live job calls (``path.py``).

May import: ``stream.temporal``, ``stream.media``, ``stream.core`` and ``engines``; torch is
imported here and only when the device path is taken.
"""
