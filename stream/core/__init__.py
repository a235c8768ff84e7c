"""What every part of stylecast shares: the frame and its time (``frame.py``), notes to the user
(``notes.py``), threads joined by bounded queues and one-frame slots (``pipeline.py``), and the
progress bar (``progress.py``).

May import: ``engines`` (its errors) and nothing else of ``stream``.
"""
