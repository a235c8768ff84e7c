"""The edit: a clip's shots and the look each shot has over time. The shot list (``shots.py``)
and where its cuts are found (``cuts.py``), to and from editing software (``timelines.py``: OTIO,
EDL, FCP XML), the looks file and a render's look timeline (``looks.py``), and painted keyframes
(``painting.py``, as the user names them; ``painted.py``, a shot's paintings as its look;
``carry.py``, the paintings carried along the shot's motion; ``painting_trainer.py``, a live
feed's painting trained beside it).

May import: ``stream.styling``, ``stream.temporal``, ``stream.media``, ``stream.core`` and ``engines``.
"""
