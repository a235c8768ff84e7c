"""Files in and out: PyAV demux and decode (``decode.py``) or numbered pictures
(``image_sequence.py``) into upright RGB frames with their timestamps; the codecs and encode with
stream copy (``codecs.py``, ``encode.py``); the atomic output file and picture folder
(``output_file.py``, ``sequence_output.py``); what an edit needs kept (``colour.py``,
``timecode.py``, ``time_range.py``, ``range_cut.py``); single pictures (``picture_file.py``); the
built-in moving test scene (``testsrc.py``); what this FFmpeg reads and writes
(``media_support.py``).

May import: ``stream.core`` and ``engines``.
"""
