"""What the studio keeps between runs: its projects (a clip, its cuts, a look per shot, the look of
shots without one, and the history of changes to undo and redo) and its render jobs, in one
SQLite file in FOLDER's ``.stylecast/`` folder (Python's own sqlite3; no server).

A server killed mid-render finds its job here as ``running`` when it starts again, and puts it
back in the queue; the render then starts from the chunks already finished (stream/cluster/).
One connection, used under a lock from the server's threads; each change is its own transaction.
A file made by an earlier studio gains the newer columns as it is opened.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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
CREATE TABLE IF NOT EXISTS history (
    project INTEGER NOT NULL, position INTEGER NOT NULL, state TEXT NOT NULL, what TEXT NOT NULL,
    PRIMARY KEY (project, position));
"""
# columns added after the first studio: (table, column, declaration)
LATER_COLUMNS = (("projects", "default_look", "TEXT"), ("projects", "updated", "REAL"),
                 ("projects", "position", "INTEGER NOT NULL DEFAULT 0"), ("projects", "fps", "REAL"),
                 ("jobs", "stamp", "TEXT"), ("jobs", "fps", "REAL"))
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
            for table, column, declaration in LATER_COLUMNS:
                if column not in {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    def rows(self, sql: str, args: tuple = ()) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, for changes made whole or not at all."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # projects
    def add_project(self, media: str, fps: float | None = None, default_look: dict | None = None) -> int:
        now = time.time()
        return self._run("INSERT INTO projects (media, state, created, updated, fps, default_look) "
                         "VALUES (?, 'finding', ?, ?, ?, ?)",
                         (media, now, now, fps, json.dumps(default_look or {}))).lastrowid

    def project(self, project: int) -> dict | None:
        rows = self.rows("SELECT * FROM projects WHERE id = ?", (project,))
        if not rows:
            return None
        row = rows[0]
        row["cuts"] = json.loads(row["cuts"])
        row["default_look"] = json.loads(row["default_look"] or "{}")
        row["looks"] = {r["shot"]: json.loads(r["look"]) for r in
                        self.rows("SELECT shot, look FROM looks WHERE project = ?", (project,))}
        return row

    def projects(self) -> list[dict]:
        """Every project, the latest changed first, with how many shots and looks it has."""
        rows = self.rows("SELECT p.id, p.media, p.state, p.frames, p.created, p.updated, p.cuts, "
                          "(SELECT COUNT(*) FROM looks l WHERE l.project = p.id) AS looks FROM projects p "
                          "ORDER BY COALESCE(p.updated, p.created) DESC, p.id DESC")
        for row in rows:
            row["shots"] = len(json.loads(row.pop("cuts")))
        return rows

    def update_project(self, project: int, **fields) -> None:
        for key in ("cuts", "default_look"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        fields["updated"] = time.time()
        names = ", ".join(f"{k} = ?" for k in fields)
        self._run(f"UPDATE projects SET {names} WHERE id = ?", (*fields.values(), project))

    def delete_project(self, project: int) -> None:
        with self.transaction() as db:
            for table in ("looks", "history"):
                db.execute(f"DELETE FROM {table} WHERE project = ?", (project,))
            db.execute("DELETE FROM projects WHERE id = ?", (project,))

    def set_looks(self, project: int, looks: dict[int, dict]) -> None:
        """Every shot's look at once (after a merge or split renumbers them)."""
        with self.transaction() as db:
            db.execute("DELETE FROM looks WHERE project = ?", (project,))
            db.executemany("INSERT INTO looks (project, shot, look) VALUES (?, ?, ?)",
                           [(project, shot, json.dumps(look)) for shot, look in looks.items()])

    # jobs
    def add_job(self, project: int, output: str, settings: dict) -> int:
        return self._run("INSERT INTO jobs (project, output, settings, state, created) VALUES (?, ?, ?, 'queued', ?)",
                         (project, output, json.dumps(settings), time.time())).lastrowid

    def job(self, job: int) -> dict | None:
        rows = self.rows("SELECT * FROM jobs WHERE id = ?", (job,))
        if rows:
            rows[0]["settings"] = json.loads(rows[0]["settings"])
        return rows[0] if rows else None

    def jobs(self) -> list[dict]:
        rows = self.rows("SELECT j.*, p.media AS clip FROM jobs j LEFT JOIN projects p ON p.id = j.project ORDER BY j.id")
        for row in rows:
            row["settings"] = json.loads(row["settings"])
        return rows

    def delete_job(self, job: int) -> None:
        self._run("DELETE FROM jobs WHERE id = ?", (job,))

    def update_job(self, job: int, **fields) -> None:
        names = ", ".join(f"{k} = ?" for k in fields)
        self._run(f"UPDATE jobs SET {names} WHERE id = ?", (*fields.values(), job))

    def next_job(self) -> dict | None:
        """The oldest job that is running (a server stopped in it) or queued."""
        rows = self.rows("SELECT id FROM jobs WHERE state IN ('running', 'queued') "
                          "ORDER BY state = 'running' DESC, id LIMIT 1")
        return self.job(rows[0]["id"]) if rows else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
