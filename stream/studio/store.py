"""What the studio keeps between runs: its projects (a clip, its cuts, a look per shot, the look of
shots without one, and the history of changes to undo and redo) and its render jobs, in one
SQLite file in FOLDER's ``.stylecast/`` folder (Python's own sqlite3; no server).

A server killed mid-render finds its job here as ``running`` when it starts again, and puts it
back in the queue; the render then starts from the chunks already finished (stream/cluster/).
One connection, used under a lock from the server's threads; each change is its own transaction.
A file made by an earlier studio gains the newer columns as it is opened.

Every change to a project's cut or looks is one ``commit``: made only on the version the change
was made on (the page's ``If-Match``; a tab that missed a change gets ``Stale``), with the version
counted up, the history kept and who made it noted, all in one transaction. Project, job and shot
ids are never given twice, deleted ones included (``counters``).
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from stream.web.errors import Refusal

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
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
"""
# columns added after the first studio: (table, column, declaration)
LATER_COLUMNS = (("projects", "default_look", "TEXT"), ("projects", "updated", "REAL"),
                 ("projects", "position", "INTEGER NOT NULL DEFAULT 0"), ("projects", "fps", "REAL"),
                 ("jobs", "stamp", "TEXT"), ("jobs", "fps", "REAL"),
                 ("projects", "name", "TEXT"), ("projects", "shot_ids", "TEXT"), ("projects", "next_shot", "INTEGER"),
                 ("projects", "version", "INTEGER NOT NULL DEFAULT 1"), ("projects", "changed_by", "TEXT"),
                 ("projects", "change", "TEXT"))
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")


class Stale(Refusal):
    """A change made on a version of a project that is no longer its version: ``current``, made by
    the change ``what`` from the tab ``by`` (HTTP 412, with that change and the ETag it is at)."""

    def __init__(self, current: int, what: str | None = None, by: str | None = None):
        super().__init__("changed elsewhere: reload to see it", 412, {"ETag": f'"{current}"'}, version=current,
                         change={"what": what, "by": by})
        self.current, self.what, self.by = current, what, by


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

    def _new_id(self, db: sqlite3.Connection, table: str) -> int:
        """The next id of ``table``: above every id it ever gave (SQLite alone gives a deleted last id again)."""
        row = db.execute("SELECT last FROM counters WHERE name = ?", (table,)).fetchone()
        highest = db.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0] or 0
        new = max(highest, row[0] if row else 0) + 1
        db.execute("INSERT INTO counters (name, last) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET last = ?",
                   (table, new, new))
        return new

    # projects
    def add_project(self, media: str, fps: float | None = None, default_look: dict | None = None) -> int:
        """A new project of ``media``, named after it (``bikes.mp4 (2)`` beside an earlier project of it)."""
        now = time.time()
        with self.transaction() as db:
            names = {r[0] for r in db.execute("SELECT COALESCE(name, media) FROM projects")}
            name, n = media, 1
            while name in names:
                n += 1
                name = f"{media} ({n})"
            project = self._new_id(db, "projects")
            db.execute("INSERT INTO projects (id, media, name, state, created, updated, fps, default_look, version) "
                       "VALUES (?, ?, ?, 'finding', ?, ?, ?, ?, 1)",
                       (project, media, name, now, now, fps, json.dumps(default_look or {})))
            return project

    def project(self, project: int) -> dict | None:
        rows = self.rows("SELECT * FROM projects WHERE id = ?", (project,))
        if not rows:
            return None
        row = rows[0]
        row["cuts"] = json.loads(row["cuts"])
        row["shot_ids"] = json.loads(row["shot_ids"]) if row["shot_ids"] else None
        row["name"] = row["name"] or row["media"]
        row["default_look"] = json.loads(row["default_look"] or "{}")
        row["looks"] = {r["shot"]: json.loads(r["look"]) for r in
                        self.rows("SELECT shot, look FROM looks WHERE project = ?", (project,))}
        return row

    def projects(self) -> list[dict]:
        """Every project, the latest changed first, with how many shots and looks it has."""
        rows = self.rows("SELECT p.id, p.media, COALESCE(p.name, p.media) AS name, p.state, p.frames, p.created, "
                         "p.updated, p.cuts, "
                          "(SELECT COUNT(*) FROM looks l WHERE l.project = p.id) AS looks FROM projects p "
                          "ORDER BY COALESCE(p.updated, p.created) DESC, p.id DESC")
        for row in rows:
            row["shots"] = len(json.loads(row.pop("cuts")))
        return rows

    def update_project(self, project: int, **fields) -> None:
        """Fields of a project that are not its cut or looks (finding its shots: state, progress ...)."""
        for key in ("cuts", "default_look", "shot_ids"):
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
        """Every shot's look at once, by shot id (the shots just found)."""
        with self.transaction() as db:
            self._looks(db, project, looks)

    @staticmethod
    def _looks(db: sqlite3.Connection, project: int, looks: dict[int, dict]) -> None:
        db.execute("DELETE FROM looks WHERE project = ?", (project,))
        db.executemany("INSERT INTO looks (project, shot, look) VALUES (?, ?, ?)",
                       [(project, shot, json.dumps(look)) for shot, look in looks.items()])

    def commit(self, project: int, version: int | None, state: dict, what: str, by: str | None,
               position: int | None = None) -> int:
        """The project's cut and looks become ``state`` (``cuts``, ``ids``, ``next_id``, ``looks`` by shot
        id, ``default_look``), if its version is still ``version`` (None: whatever it is), else
        ``Stale``. The change is kept in the history as ``what`` (undo and redo give the history
        ``position`` they move to instead). Returns the new version."""
        with self.transaction() as db:
            row = db.execute("SELECT version, position, next_shot, change, changed_by FROM projects WHERE id = ?",
                             (project,)).fetchone()
            if row is None:
                raise KeyError(project)
            if version is not None and row["version"] != version:
                raise Stale(row["version"], row["change"], row["changed_by"])
            self._looks(db, project, {int(n): look for n, look in state["looks"].items()})
            next_id = max(state.get("next_id") or 1, row["next_shot"] or 1)  # an undo never gives an id again
            kept = {**state, "next_id": next_id}
            if position is None:
                position = row["position"] + 1
                db.execute("DELETE FROM history WHERE project = ? AND position >= ?", (project, position))
                db.execute("INSERT INTO history (project, position, state, what) VALUES (?, ?, ?, ?)",
                           (project, position, json.dumps(kept), what))
            db.execute("UPDATE projects SET cuts = ?, shot_ids = ?, next_shot = ?, default_look = ?, version = ?, "
                       "position = ?, updated = ?, changed_by = ?, change = ? WHERE id = ?",
                       (json.dumps(state["cuts"]), json.dumps(state["ids"]), next_id, json.dumps(state["default_look"]),
                        row["version"] + 1, position, time.time(), by, what, project))
            return row["version"] + 1

    # jobs
    def add_job(self, project: int, output: str, settings: dict) -> int:
        with self.transaction() as db:
            job = self._new_id(db, "jobs")
            db.execute("INSERT INTO jobs (id, project, output, settings, state, created) VALUES (?, ?, ?, ?, 'queued', ?)",
                       (job, project, output, json.dumps(settings), time.time()))
            return job

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
