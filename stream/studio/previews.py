"""A shot's preview: its first seconds rendered on the server in its look, stabilized, small, with
the first frame before and after and the flicker readout. It is rendered as the cut will be (from
a looks file holding that shot's look alone, in the project's own folder), so keyframes and
painted keyframes preview too.

A preview is work of its own, not a request held open: ``PreviewRuns.start`` answers at once and
the page asks for its ``state`` (its phase: training a painted shot's network, with the share of
its budget done, the step, loss and time left, then rendering) until it is done, and can ``cancel`` it (it stops at the training's
or the render's next step: within a second or two). A preview nobody has asked about for
UNWATCHED_S (its tab was closed) is cancelled; a server stopping cancels every one and a page that
asks after a restart is told so. The same shot in the same look is rendered once: asking again
gives the files already made.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

from engines.errors import InputError, StylecastError
from stream.core.progress import Cancelled, Tracker
from stream.media.decoder import open_decoder
from stream.media.picture_file import encode_picture
from stream.render.job import RenderOptions, render

from .project import Project, frames_at

PREVIEW_SIDE = 320      # pixels: previews are rendered small, to come back in seconds
PREVIEW_SECONDS = 3.0
MAX_SECONDS = 10.0
PREVIEW_TRAINING_S = 60  # a painted shot's preview trains within this budget; the render within the full one
UNWATCHED_S = 20.0      # a preview nobody asked about for this long is cancelled (its page is gone)


def preview_key(project: Project, shot, look: dict, seconds: float) -> str:
    """The preview's name: what it shows (the clip, the shot's frames, the look, the length)."""
    return hashlib.sha256(json.dumps([project.media, shot.first_frame, shot.last_frame, look, seconds],
                                     sort_keys=True).encode()).hexdigest()[:16]


def render_preview(folder: Path, project: Project, shot, shot_id: int, look: dict, seconds: float,
                   tracker: Tracker | None = None) -> dict:
    """Render the preview into ``folder`` and say where its files are, as the page fetches them;
    ``tracker`` hears the training and the render, and stops them when cancelled."""
    key = preview_key(project, shot, look, seconds)
    out = folder / f"{key}.mp4"
    end = min(shot.end, shot.start + seconds)
    sheet = project.look_sheet({shot_id: look})  # the look in memory, this shot's only (only it trains)
    result = render(RenderOptions(input=project.path, output=out, start=repr(shot.start), end=repr(end), overwrite=True,
                                  look_sheet=sheet, max_side=PREVIEW_SIDE, keyframe_seconds=PREVIEW_TRAINING_S),
                    tracker or (lambda total, label: lambda n=1, info=None: None))
    with open_decoder(out) as written:
        after = written.frames_at({0})[0]
    before = frames_at(project.path, {shot.first_frame}, max(after.shape[:2]))[shot.first_frame]
    (folder / f"{key}-before.jpg").write_bytes(encode_picture(before, ".jpg"))
    (folder / f"{key}-after.jpg").write_bytes(encode_picture(after, ".jpg"))
    style = "painted keyframes" if "keyframe" in look else look.get("style", result.style)
    done = {"video": f"/api/previews/{key}.mp4", "before": f"/api/previews/{key}-before.jpg",
            "after": f"/api/previews/{key}-after.jpg", "frames": result.frames, "style": style,
            "flicker": result.flicker, "source_flicker": result.source_flicker}
    (folder / f"{key}.json").write_text(json.dumps(done))
    return done


class _Run:
    def __init__(self, key: str):
        self.key, self.tracker = key, Tracker()
        self.state, self.result, self.error = "running", None, None
        self.asked = time.monotonic()


class PreviewRuns:
    """The previews being rendered, each on a thread of its own, by key."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self._watch = threading.Thread(target=self._watchdog, name="preview-watchdog", daemon=True)
        self._watch.start()

    def start(self, project: Project, shot, shot_id: int, look: dict, seconds: float) -> dict:
        key = preview_key(project, shot, look, seconds)
        made = self.folder / f"{key}.json"
        if made.is_file() and (self.folder / f"{key}.mp4").is_file():
            return {"key": key, "state": "done", **json.loads(made.read_text())}
        with self._lock:
            run = self._runs.get(key)
            if run is None or run.state in ("cancelled", "failed"):
                run = self._runs[key] = _Run(key)
                threading.Thread(target=self._render, args=(run, project, shot, shot_id, look, seconds),
                                 name=f"preview-{key}", daemon=True).start()
        return self.state(key)

    def _render(self, run: _Run, project, shot, shot_id, look, seconds) -> None:
        try:
            run.result = render_preview(self.folder, project, shot, shot_id, look, seconds, run.tracker)
            run.state = "done"
        except Cancelled as exc:
            run.state, run.error = "cancelled", str(exc)
        except StylecastError as exc:
            run.state, run.error = "failed", str(exc)
        except Exception as exc:  # a preview's failure is shown on the page; the server goes on
            run.state, run.error = "failed", f"{type(exc).__name__}: {exc}"

    def state(self, key: str) -> dict:
        """Where the preview is: ``state`` running, done (with its files), failed or cancelled (with
        why), and while running the phase (training: the share of its budget done, in percent, the
        step and the loss; rendering: frames), the progress 0..1 and the seconds left."""
        with self._lock:
            run = self._runs.get(key)
        if run is None:
            made = self.folder / f"{key}.json"
            if made.is_file():
                return {"key": key, "state": "done", **json.loads(made.read_text())}
            raise InputError(f"preview {key} not found: it was stopped when the server stopped; preview the shot again")
        run.asked = time.monotonic()
        out = {"key": key, "state": run.state}
        if run.state == "running":
            figures = run.tracker.figures()
            training = (figures["phase"] or "").startswith("painting")
            out.update(figures, training=training,
                       progress=round(figures["done"] / figures["total"], 4) if figures["total"] else 0.0)
        elif run.state == "done":
            out.update(run.result)
        else:
            out["error"] = run.error
        return out

    def cancel(self, key: str, why: str = "cancelled") -> dict:
        with self._lock:
            run = self._runs.get(key)
        if run is None:
            raise InputError(f"preview {key} not found")
        run.tracker.cancel(why)
        return self.state(key)

    def stop(self) -> None:
        """The server is stopping: every preview under way stops at its next step."""
        self._stopping = True
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.tracker.cancel("stopped: the server stopped")

    def _watchdog(self) -> None:
        while not self._stopping:
            time.sleep(1.0)
            with self._lock:
                runs = list(self._runs.values())
            for run in runs:
                if run.state == "running" and time.monotonic() - run.asked > UNWATCHED_S:
                    run.tracker.cancel("cancelled: no page was watching it")
