"""What a frame should look like, and over time: the controls of a look (``controls.py``), the
options every job extends (``options.py``), the temporal stabilizer (``stabilize.py``), the shot
list (``shots.py``; to and from editing software, ``timelines.py``: OTIO, EDL, FCP XML), values
between keyframes (``keyframes.py``), the looks file and a render's look timeline (``looks.py``),
one look on a shared engine (``stylist.py``) with its governor of the network's size
(``adapt.py``), and the figures a job reports (``stats.py``, ``flicker.py``).

May import: ``stream.media``, ``stream.core`` and ``engines``.
"""
