"""Files in and out. In: one reader behind the ``Decoder`` protocol (``decoder.py``), for a media
file through PyAV (``decode.py``; a range's sound through ``range_cut.py``) or numbered pictures
(``image_sequence.py``), giving upright RGB frames with their timestamps. Out: one ``Writer``
protocol and the checked ``OutputPlan`` (``writer.py``) for a video file (``encode.py`` with the
codecs of ``codecs.py``, made atomic by ``output_file.py``) or a folder of pictures
(``sequence_output.py``). What an edit needs kept: ``colour.py``, ``timecode.py``,
``time_range.py``; single pictures (``picture_file.py``); the built-in moving test scene
(``testsrc.py``); what this FFmpeg reads and writes (``media_support.py``). ``av.open`` is called
here and nowhere else.

May import: ``stream.core`` and ``engines``.
"""
