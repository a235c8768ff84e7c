"""A project's cut with stable shot ids: each shot keeps its id through every merge and split, so a
page that still shows an older cut can never put a look on the wrong shot (a shot it names by an
id that is gone is refused; a shot number would silently be another shot).

A cut is its shots' first frames and their ids, and the next id to give. A split gives the new
second part a new id (the first part keeps the shot's id and both keep its look); a merge keeps
the first shot's id and look, and the second's id is retired. Ids are never given twice in a
project, undo and redo included (``next_id`` only grows).
"""
from __future__ import annotations

from dataclasses import dataclass

from engines.errors import InputError, OptionError


@dataclass(frozen=True)
class Cut:
    firsts: tuple[int, ...]   # each shot's first frame, the first 0, rising
    ids: tuple[int, ...]      # each shot's id, in the same order
    next_id: int

    @classmethod
    def of(cls, firsts: list[int], ids: list[int] | None = None, next_id: int | None = None) -> Cut:
        """A cut from its first frames; ``ids`` None (a project of an earlier studio, or shots just
        found): 1, 2, 3 ... in order."""
        ids = list(ids) if ids else list(range(1, len(firsts) + 1))
        if len(ids) != len(firsts):
            raise ValueError(f"{len(firsts)} shots but {len(ids)} ids")
        return cls(tuple(firsts), tuple(ids), max([next_id or 0, *(i + 1 for i in ids), 1]))

    def number(self, shot_id: int) -> int:
        """The shot's place in the cut (1 first), by its id; 404 when it is gone."""
        try:
            return self.ids.index(shot_id) + 1
        except ValueError:
            raise InputError(f"shot {shot_id} not found: it is no longer in the cut (merged, or undone in "
                             "another tab); reload to see the cut as it is") from None

    def merged(self, shot_id: int) -> Cut:
        """The shot ``shot_id`` and the one after it as one shot, with the first one's id."""
        n = self.number(shot_id)
        if n == len(self.ids):
            raise OptionError(f"shot {shot_id} is the last shot: there is no next shot to merge it with")
        return Cut(self.firsts[:n] + self.firsts[n + 1:], self.ids[:n] + self.ids[n + 1:], self.next_id)

    def split(self, frame: int, frames: int) -> tuple[Cut, int, int]:
        """A new shot from ``frame`` of a clip of ``frames``: (the cut, the id of the shot split, the new id)."""
        if not 0 < frame < frames:
            raise OptionError(f"split at a frame from 1 to {frames - 1}, got {frame}")
        if frame in self.firsts:
            raise OptionError(f"a shot already starts at frame {frame}")
        at = sum(1 for f in self.firsts if f < frame)  # the new shot's index; the shot split is the one before
        new = self.next_id
        return (Cut(self.firsts[:at] + (frame,) + self.firsts[at:], self.ids[:at] + (new,) + self.ids[at:], new + 1),
                self.ids[at - 1], new)

    def as_state(self) -> dict:
        return {"cuts": list(self.firsts), "ids": list(self.ids), "next_id": self.next_id}

    @classmethod
    def from_state(cls, state: dict) -> Cut:
        """A cut kept by the store or the history (an earlier studio's: first frames alone)."""
        return cls.of(state["cuts"], state.get("ids"), state.get("next_id"))
