"""A project's history, to undo and redo: each change to its cut (merge, split) or its looks is
kept with the state it left (cuts, looks, the default look), in the store (stream/studio/store.py),
so undo and redo survive a reload and a restart. Undo goes back to the state before; redo forward
again; a new change drops the redo steps beyond it, as an editor's does."""
from __future__ import annotations

import json
import time

from .store import Store


class History:
    def __init__(self, store: Store):
        self.store = store

    def around(self, project: int, position: int) -> tuple[str | None, str | None]:
        """What an undo would take back and what a redo would do again, in words (None: nothing)."""
        rows = {r["position"]: r["what"] for r in
                self.store.rows("SELECT position, what FROM history WHERE project = ? AND position IN (?, ?)",
                                (project, position, position + 1))}
        return rows.get(position) if position > 0 else None, rows.get(position + 1)

    def start(self, project: int, state: dict) -> None:
        """The project's first state (its shots just found or read): where undo stops."""
        with self.store.transaction() as db:
            db.execute("DELETE FROM history WHERE project = ?", (project,))
            db.execute("INSERT INTO history (project, position, state, what) VALUES (?, 0, ?, 'open')",
                       (project, json.dumps(state)))
            db.execute("UPDATE projects SET position = 0 WHERE id = ?", (project,))

    def record(self, project: int, what: str, state: dict) -> None:
        """A change made (``what``, in words) and the project's state after it."""
        with self.store.transaction() as db:
            position = db.execute("SELECT position FROM projects WHERE id = ?", (project,)).fetchone()[0] + 1
            db.execute("DELETE FROM history WHERE project = ? AND position >= ?", (project, position))
            db.execute("INSERT INTO history (project, position, state, what) VALUES (?, ?, ?, ?)",
                       (project, position, json.dumps(state), what))
            db.execute("UPDATE projects SET position = ?, updated = ? WHERE id = ?", (position, time.time(), project))

    def step(self, project: int, back: bool) -> dict | None:
        """Undo (``back``) or redo: the state to go to (now the project's position), or None."""
        with self.store.transaction() as db:
            position = db.execute("SELECT position FROM projects WHERE id = ?", (project,)).fetchone()[0]
            target = position - 1 if back else position + 1
            row = db.execute("SELECT state FROM history WHERE project = ? AND position = ?", (project, target)).fetchone()
            if target < 0 or row is None:
                return None
            db.execute("UPDATE projects SET position = ?, updated = ? WHERE id = ?", (target, time.time(), project))
            return json.loads(row["state"])
