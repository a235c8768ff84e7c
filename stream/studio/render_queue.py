"""The studio's render jobs, one at a time on a thread of their own, kept in the store.

A job renders its project's cut as ``stylecast render CLIP --looks LOOKS.json`` does. When it
first starts, the looks and the cut are written as the job's own copy in FOLDER/.stylecast/jobs/
(never beside the clip), which the render reads, so a look changed on the page while a job runs
changes the next job, not this one. A whole clip renders in chunks (stream/cluster/): on Ray with
``--cluster``, else here one chunk after another; a server stopped mid-render finds the job
``running`` in the store when it starts again and renders only the chunks not finished. A range
(``from``/``to``) or an image sequence renders in one piece and starts again from its beginning.
Cancel stops at the next frame or training step (a Tracker, stream/core/progress.py) and throws
the job's chunks away; a server stopping stops the job the same way but keeps it to resume. The
output appears only when complete.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from engines import DEFAULT_STYLE
from engines.errors import StylecastError
from stream.cluster.chunk_plan import ChunkFolder
from stream.cluster.job import ClusterRenderOptions, render_on_cluster
from stream.core.progress import FRAMES, Cancelled, Tracker
from stream.render.job import RenderOptions, render
from stream.styling.controls import values_in

from .look_check import style_spec
from .project import Project
from .store import Store

SAVE_EVERY_S = 0.5  # how often a running job's progress is written to the store
STOPPED = "stopped: the studio stopped"  # a job stopped so; it resumes when the studio starts again


def file_stamp(path: Path) -> str | None:
    """What tells a job's own output from a file put at its name later: its size, time and inode."""
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


class RenderQueue:
    def __init__(self, store: Store, folder: Path, cluster: str | None, chunk_seconds: float,
                 project: Callable[[int], Project]):
        self.store, self.folder, self.cluster, self.chunk_seconds = store, folder, cluster, chunk_seconds
        self.project = project  # id -> Project
        self._wake = threading.Event()
        self._stop = False
        self.running: dict[int, Tracker] = {}  # the running job's progress and its stop
        self._thread = threading.Thread(target=self._loop, name="studio-renders", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """The running job stops at its next frame or step (kept as running: it resumes on the next start)."""
        self._stop = True
        for tracker in list(self.running.values()):
            tracker.cancel(STOPPED)
        self._wake.set()

    def add(self, project: Project, output: str, settings: dict) -> int:
        job = self.store.add_job(project.id, output, settings)
        self._wake.set()
        return job

    def retry(self, row: dict) -> None:
        """A failed or cancelled job queued again, as it was (its finished chunks kept)."""
        self.store.update_job(row["id"], state="queued", error=None, finished=None, frames_done=0)
        self._wake.set()

    def cancel(self, job: int) -> None:
        row = self.store.job(job)
        if row and row["state"] == "queued":
            self.store.update_job(job, state="cancelled", finished=time.time())
        elif row and row["state"] == "running" and job in self.running:
            self.running[job].cancel()

    def view(self, row: dict) -> dict:
        """A job as the page shows it: progress 0..1 with frames/s and seconds left while it renders;
        while a painted shot's network trains first, that phase (``training``: percent of its budget
        done, the step and loss, time left)."""
        out = dict(row, phase=None, training=None, eta_s=None)
        total, done = out.get("frames_total"), out.get("frames_done") or 0
        tracker = self.running.get(row["id"])
        if tracker is not None:
            figures = tracker.figures()
            if figures["phase"] and figures["phase"] != FRAMES:  # a painted shot's training
                out["phase"] = f"{figures['phase']}: {figures['done']}%" + \
                    (f" ({figures['info']})" if figures["info"] else "")  # of its budget; the step and loss
                out["training"] = {k: figures[k] for k in ("done", "total", "info", "eta_s")}
                out["eta_s"] = figures["eta_s"]
            elif figures["phase"] == FRAMES:
                done = tracker.done
                out["frames_done"] = done
                if figures["rate"]:
                    out["fps"] = round(figures["rate"], 2)
                    out["eta_s"] = round((total - done) / figures["rate"], 1) if total else None
        out["progress"] = round(done / total, 4) if total else 0.0
        return out

    def _loop(self) -> None:
        while not self._stop:
            row = self.store.next_job()
            if row is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            self._run(row)

    def _options(self, row: dict) -> RenderOptions:
        """The job's render; its looks and cut are written (the job's own copy, in FOLDER/.stylecast/jobs)
        when it first starts, and kept from then on."""
        project, settings = self.project(row["project"]), row["settings"]
        own = self.folder / ".stylecast" / "jobs"
        own.mkdir(parents=True, exist_ok=True)
        stem = f"job-{row['id']}"
        looks, shots = own / f"{stem}.looks.json", own / f"{stem}.shots.csv"
        if not looks.is_file() or not row["runs"]:
            project.write_render_files()  # the project's own (FOLDER/.stylecast/projects/ID/): to replay from a shell
            looks, shots = project.write_render_files(own, stem)
        # the shots without a look of their own render in the project's default look; the output
        # name was free when the job was queued and is this job's alone (never overwritten)
        default = values_in(project.default_look)
        base = dict(input=project.path, output=self.folder / row["output"], looks=looks, shots=shots,
                    codec=settings.get("codec"), start=settings.get("from"), end=settings.get("to"),
                    style=style_spec(self.folder, project.default_look.get("style", DEFAULT_STYLE)),
                    fps=float(project.rate) if project.path.is_dir() else None, **default)
        if base["start"] is not None or base["end"] is not None or project.path.is_dir():
            return RenderOptions(**base)  # one piece: --cluster takes a whole video file
        return ClusterRenderOptions(**base, cluster=self.cluster or "here", chunk_seconds=self.chunk_seconds)

    def _run(self, row: dict) -> None:
        job = row["id"]
        self.store.update_job(job, state="running", started=row["started"] or time.time(), runs=row["runs"] + 1)
        saved, rendering, chunked = [0.0], [False], [False]

        def piece(total: int | None, label: str) -> None:
            rendering[0] = label == FRAMES
            if rendering[0]:
                self.store.update_job(job, frames_total=total)

        def advanced(n: int) -> None:
            if not rendering[0]:
                return
            if tracker.done == n and chunked[0]:  # the first report: the chunks finished before, counted not timed
                self.store.update_job(job, resumed_frames=n)
            if time.monotonic() - saved[0] >= SAVE_EVERY_S:
                saved[0] = time.monotonic()
                self.store.update_job(job, frames_done=tracker.done)

        tracker = Tracker(piece, advanced)
        self.running[job] = tracker
        try:
            opts = self._options(row)
            chunked[0] = isinstance(opts, ClusterRenderOptions)
            result = (render_on_cluster if chunked[0] else render)(opts, tracker)
            self.store.update_job(job, state="done", frames_done=result.frames, finished=time.time(),
                                  fps=result.fps, stamp=file_stamp(self.folder / row["output"]))
        except Cancelled as exc:
            if str(exc) != STOPPED:  # cancelled from the page; a stopped job stays running, to resume
                ChunkFolder(self.folder / row["output"]).remove()
                self.store.update_job(job, state="cancelled", finished=time.time())
        except StylecastError as exc:
            self.store.update_job(job, state="failed", error=str(exc), finished=time.time())
        except Exception as exc:  # a job's failure is reported on the page; the queue goes on
            self.store.update_job(job, state="failed", error=f"{type(exc).__name__}: {exc}", finished=time.time())
        finally:
            self.running.pop(job, None)
