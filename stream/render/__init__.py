"""The file-to-file jobs: ``stylecast render`` (``job.py``) with its output, a video file or a
numbered picture folder (``render_output.py``), and ``stylecast sheet``, the contact sheet of every style
(``sheet.py``).

May import: ``stream.edit``, ``stream.styling``, ``stream.temporal``, ``stream.media``, ``stream.core`` and ``engines``; not ``live``,
``serve`` or ``cluster``.
"""
