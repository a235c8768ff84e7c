"""A project's history, to undo and redo: each change to its cut (merge, split) or its looks is
kept with the state it left (the cut with its shot ids, looks, the default look), in the store
(stream/studio/store.py, which writes it with the change, ``Store.commit``), so undo and redo
survive a reload and a restart. Undo goes back to the state before; redo forward again; a new
change drops the redo steps beyond it, as an editor's does."""
from __future__ import annotations

import json

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

    def target(self, project: int, back: bool) -> tuple[dict, int, str] | None:
        """Undo (``back``) or redo: the state to go to, its position and what is undone or redone in
        words; None when there is nothing to undo or redo. The store's ``commit`` moves there."""
        rows = self.store.rows("SELECT position FROM projects WHERE id = ?", (project,))
        if not rows:
            return None
        position = rows[0]["position"]
        target = position - 1 if back else position + 1
        found = {r["position"]: r for r in self.store.rows(
            "SELECT position, state, what FROM history WHERE project = ? AND position IN (?, ?)",
            (project, target, position))}
        if target < 0 or target not in found:
            return None
        what = found[position]["what"] if back else found[target]["what"]
        return json.loads(found[target]["state"]), target, f"{'undo' if back else 'redo'} {what}"
