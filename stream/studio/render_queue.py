"""The studio's render jobs, one at a time on a thread of their own, kept in the store.

A job renders its project's cut as ``stylecast render CLIP --looks CLIP.looks.json`` does. When
it first starts, the looks and the cut are written twice: beside the clip (to replay from the
shell) and as the job's own copy in FOLDER/.stylecast/jobs/, which the render reads, so a look
changed on the page while a job runs changes the next job, not this one. A whole clip renders in
chunks (stream/cluster/): on Ray with ``--cluster``, else here one chunk after another; a server
stopped mid-render finds the job ``running`` in the store when it starts again and renders only
the chunks not finished. A range (``from``/``to``) or an image sequence renders in one piece and
starts again from its beginning. Cancel stops between frames and throws the job's chunks away;
the output appears only when complete.
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
from stream.core.progress import Advance
from stream.render.job import RenderOptions, render

from .look_check import style_spec
from .project import Project
from .store import Store

SAVE_EVERY_S = 0.5  # how often a running job's progress is written to the store


class Cancelled(StylecastError):
    """A job cancelled from the page (raised inside the render, between frames)."""


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
        self._cancel: set[int] = set()
        self.live: dict[int, dict] = {}  # the running job's progress between saves
        self._thread = threading.Thread(target=self._loop, name="studio-renders", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
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
        elif row and row["state"] == "running":
            self._cancel.add(job)

    def view(self, row: dict) -> dict:
        """A job as the page shows it: progress 0..1, frames/s and seconds left while it runs."""
        out = dict(row, **self.live.get(row["id"], {}))
        total, done = out.get("frames_total"), out.get("frames_done") or 0
        out["progress"] = round(done / total, 4) if total else 0.0
        rate = out.pop("rate", None)
        out["fps"] = round(rate, 2) if rate else out.get("fps")
        out["eta_s"] = round((total - done) / rate, 1) if rate and total else None
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
        """The job's render; its looks and cut are written (beside the clip, and the job's own copy)
        when it first starts, and kept from then on."""
        project, settings = self.project(row["project"]), row["settings"]
        own = self.folder / ".stylecast" / "jobs"
        own.mkdir(parents=True, exist_ok=True)
        stem = f"job-{row['id']}"
        looks, shots = own / f"{stem}.looks.json", own / f"{stem}.shots.csv"
        if not looks.is_file() or not row["runs"]:
            project.write_render_files()
            looks, shots = project.write_render_files(own, stem)
        # the shots without a look of their own render in the project's default look; the output
        # name was free when the job was queued and is this job's alone (never overwritten)
        default = {k: v for k, v in project.default_look.items() if k in ("strength", "keep_colors", "stability")}
        base = dict(input=project.path, output=self.folder / row["output"], looks=looks, shots=shots,
                    codec=settings.get("codec"), start=settings.get("from"), end=settings.get("to"),
                    style=style_spec(self.folder, project.default_look.get("style", DEFAULT_STYLE)),
                    fps=float(project.rate) if project.path.is_dir() else None, **default)
        if base["start"] is not None or base["end"] is not None or project.path.is_dir():
            return RenderOptions(**base)  # one piece: --cluster takes a whole video file
        return ClusterRenderOptions(**base, cluster=self.cluster or "here", chunk_seconds=self.chunk_seconds)

    def _run(self, row: dict) -> None:
        job, started = row["id"], time.time()
        self.store.update_job(job, state="running", started=row["started"] or started, runs=row["runs"] + 1)
        state = {"frames_done": 0, "rate": None, "phase": None}
        self.live[job] = state
        first, saved, begun = [True], [0.0], [time.monotonic(), 0]
        chunked = [False]

        def check() -> None:
            if job in self._cancel:
                raise Cancelled("cancelled")

        def progress(total: int | None, label: str) -> Advance:  # the job's page row (a Progress)
            if label != "render":  # a painted shot's network training, before the frames
                def step(n: int = 1, info: str | None = None) -> None:
                    check()
                    state["phase"] = f"{label}, {info}" if info else label
                return step
            state["phase"] = None
            self.store.update_job(job, frames_total=total)

            def advance(n: int = 1, info: str | None = None) -> None:
                check()
                if first[0]:  # frames/s count from the first frame (after any training)
                    begun[0] = time.monotonic()
                    if chunked[0]:  # the chunks finished before: counted, not timed
                        self.store.update_job(job, resumed_frames=n)
                        begun[1] = n
                first[0] = False
                state["frames_done"] += n
                spent = time.monotonic() - begun[0]
                if spent > 0.5:
                    state["rate"] = (state["frames_done"] - begun[1]) / spent
                if time.monotonic() - saved[0] >= SAVE_EVERY_S:
                    saved[0] = time.monotonic()
                    self.store.update_job(job, frames_done=state["frames_done"])

            return advance

        try:
            opts = self._options(row)
            chunked[0] = isinstance(opts, ClusterRenderOptions)
            result = (render_on_cluster if isinstance(opts, ClusterRenderOptions) else render)(opts, progress)
            self.store.update_job(job, state="done", frames_done=result.frames, finished=time.time(),
                                  fps=result.fps, stamp=file_stamp(self.folder / row["output"]))
        except Cancelled:
            ChunkFolder(self.folder / row["output"]).remove()
            self.store.update_job(job, state="cancelled", finished=time.time())
        except StylecastError as exc:
            self.store.update_job(job, state="failed", error=str(exc), finished=time.time())
        except Exception as exc:  # a job's failure is reported on the page; the queue goes on
            self.store.update_job(job, state="failed", error=f"{type(exc).__name__}: {exc}", finished=time.time())
        finally:
            self._cancel.discard(job)
            self.live.pop(job, None)
