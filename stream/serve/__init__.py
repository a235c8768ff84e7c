"""``stylecast serve``: the WebRTC demo. The aiohttp routes (``server.py``) with what guards them
(``request_guard.py``, ``offer_body.py``, ``offer_limiter.py``) and what they measure
(``capacity.py``, ``diagnostics.py``); a viewer (``session.py``: its peer connection from
``peer.py``, its newest-frame-wins track from ``stylized_track.py``) and all viewers
(``sessions.py``) and their frames in one batch through one network (``batcher.py``); pictures as
styles (``uploads.py``), style thumbnails (``thumbnails.py``), the addresses offered (``ice.py``);
the page itself is ``web/``.

May import: ``stream.edit``, ``stream.styling``, ``stream.temporal``, ``stream.media``, ``stream.core`` and ``engines``; not ``render``,
``live`` or ``cluster``.
"""
