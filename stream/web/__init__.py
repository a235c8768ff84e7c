"""What a page's server is made of, shared by the WebRTC demo (stream/serve/) and the studio
(stream/studio/): where it listens and the address to open (``site.py``), the check every request
passes (``request_guard.py``: origin, token), errors as one line of JSON with their status
(``errors.py``), and the style gallery (``gallery.py``, with its thumbnails, ``thumbnails.py``).

May import: ``stream.media``, ``stream.core`` and ``engines``.
"""
