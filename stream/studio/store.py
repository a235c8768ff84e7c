"""What the studio keeps between runs: its projects (a clip, its cuts, a look per shot) and its
render jobs, in one SQLite file in FOLDER's ``.stylecast/`` folder (Python's own sqlite3; no server).

A server killed mid-render finds its job here as ``running`` when it starts again, and puts it
back in the queue; the render then starts from the chunks already finished (stream/cluster/).
One connection, used under a lock from the server's threads; each change is its own transaction.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY, media TEXT NOT NULL, rate TEXT, frames INTEGER, timecode TEXT,
    cuts TEXT NOT NULL DEFAULT '[]', state TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0,
    error TEXT, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS looks (
    project INTEGER NOT NULL, shot INTEGER NOT NULL, look TEXT NOT NULL, PRIMARY KEY (project, shot));
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, project INTEGER NOT NULL, output TEXT NOT NULL, settings TEXT NOT NULL,
    state TEXT NOT NULL, frames_done INTEGER NOT NULL DEFAULT 0, frames_total INTEGER,
    resumed_frames INTEGER NOT NULL DEFAULT 0, runs INTEGER NOT NULL DEFAULT 0, error TEXT,
    created REAL NOT NULL, started REAL, finished REAL);
"""
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")


class Store:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    def _rows(self, sql: str, args: tuple = ()) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    # projects
    def add_project(self, media: str) -> int:
        return self._run("INSERT INTO projects (media, state, created) VALUES (?, 'finding', ?)",
                         (media, time.time())).lastrowid

    def project(self, project: int) -> dict | None:
        rows = self._rows("SELECT * FROM projects WHERE id = ?", (project,))
        if not rows:
            return None
        row = rows[0]
        row["cuts"] = json.loads(row["cuts"])
        row["looks"] = {r["shot"]: json.loads(r["look"]) for r in
                        self._rows("SELECT shot, look FROM looks WHERE project = ?", (project,))}
        return row

    def projects(self) -> list[dict]:
        return self._rows("SELECT id, media, state, frames, created FROM projects ORDER BY id")

    def update_project(self, project: int, **fields) -> None:
        if "cuts" in fields:
            fields["cuts"] = json.dumps(fields["cuts"])
        names = ", ".join(f"{k} = ?" for k in fields)
        self._run(f"UPDATE projects SET {names} WHERE id = ?", (*fields.values(), project))

    def set_looks(self, project: int, looks: dict[int, dict]) -> None:
        """Every shot's look at once (after a merge or split renumbers them)."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM looks WHERE project = ?", (project,))
            self._db.executemany("INSERT INTO looks (project, shot, look) VALUES (?, ?, ?)",
                                 [(project, shot, json.dumps(look)) for shot, look in looks.items()])
            self._db.execute("COMMIT")

    # jobs
    def add_job(self, project: int, output: str, settings: dict) -> int:
        return self._run("INSERT INTO jobs (project, output, settings, state, created) VALUES (?, ?, ?, 'queued', ?)",
                         (project, output, json.dumps(settings), time.time())).lastrowid

    def job(self, job: int) -> dict | None:
        rows = self._rows("SELECT * FROM jobs WHERE id = ?", (job,))
        if rows:
            rows[0]["settings"] = json.loads(rows[0]["settings"])
        return rows[0] if rows else None

    def jobs(self) -> list[dict]:
        rows = self._rows("SELECT * FROM jobs ORDER BY id")
        for row in rows:
            row["settings"] = json.loads(row["settings"])
        return rows

    def update_job(self, job: int, **fields) -> None:
        names = ", ".join(f"{k} = ?" for k in fields)
        self._run(f"UPDATE jobs SET {names} WHERE id = ?", (*fields.values(), job))

    def next_job(self) -> dict | None:
        """The oldest job that is running (a server stopped in it) or queued."""
        rows = self._rows("SELECT id FROM jobs WHERE state IN ('running', 'queued') "
                          "ORDER BY state = 'running' DESC, id LIMIT 1")
        return self.job(rows[0]["id"]) if rows else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
