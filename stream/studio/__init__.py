"""``stylecast studio``: the page where a film crew styles a whole cut.

Holds: server.py (the aiohttp routes; the page in web/), shot_routes.py (a project's cut, looks,
history, frames and previews) and job_routes.py (the renders), store.py (projects and jobs in
SQLite) with history.py (undo and redo), project.py (a clip's cuts, a look per shot and the
default, and the files a render reads), look_check.py (a look checked as a render reads it),
names.py (names in FOLDER, and outputs that overwrite nothing), render_queue.py (the render jobs,
in chunks, resumed after a restart), previews.py, uploads.py.

May import: stream.cluster (renders in chunks, here or on Ray), the jobs below it (render's
options for previews, serve's request guard), and every layer under them; nothing imports it but
stream/cli.py.
"""
