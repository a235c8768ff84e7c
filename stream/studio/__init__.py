"""``stylecast studio``: the page where a film crew styles a whole cut.

Holds: server.py (the aiohttp routes; the page in web/), store.py (projects and jobs in SQLite),
project.py (a clip's cuts and a look per shot, and the files a render reads), render_queue.py
(the render jobs, in chunks, resumed after a restart).

May import: stream.cluster (renders in chunks, here or on Ray), the jobs below it (render's
options for previews, serve's request guard), and every layer under them; nothing imports it but
stream/cli.py.
"""
