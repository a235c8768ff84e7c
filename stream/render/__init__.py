"""The file-to-file jobs: ``stylecast render`` (``job.py``: a decoder, the engine, the stabilizer
and a writer, stream/media/decoder.py and writer.py, joined by stream/core/pipeline.py), and
``stylecast sheet``, the contact sheet of every style (``sheet.py``).

May import: ``stream.edit``, ``stream.styling``, ``stream.temporal``, ``stream.media``, ``stream.core`` and ``engines``; not ``live``,
``serve`` or ``cluster``.
"""
