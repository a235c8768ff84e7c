"""The studio's routes for renders: queue one (checked whole before it is queued: its output a name
of FOLDER that nothing has, nor any job will write), list the jobs, cancel, retry or delete one,
and download or play its own output (and only its own: a file put at its name since is refused)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from aiohttp import web

from engines.errors import InputError, OptionError
from stream.media.codecs import choose_codec
from stream.media.encode import container_format
from stream.media.time_range import parse_range
from stream.web.errors import json_error

from .names import checked_name, fitted, free_output, taken_as
from .project import Project
from .render_queue import RenderQueue, file_stamp
from .store import Store

ACTIVE = ("queued", "running")


def download_header(name: str, inline: bool = False) -> str:
    """Content-Disposition for any name (RFC 6266: an ASCII fallback, and the name in UTF-8)."""
    from urllib.parse import quote

    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f'{"inline" if inline else "attachment"}; filename="{fallback}"; filename*=UTF-8\'\'{quote(name)}'


class JobRoutes:
    def __init__(self, store: Store, queue: RenderQueue, folder: Path, project: Callable[[int], Project], read_json):
        self.store, self.queue, self.folder, self.project, self.read_json = store, queue, folder, project, read_json

    def taken(self) -> set[str]:
        """Output names some job will write or has written (its file kept at that name)."""
        return {j["output"] for j in self.store.jobs() if j["state"] in ACTIVE or j["state"] == "done"}

    def suggested(self, project: Project) -> str:
        """The name the page offers for a render of ``project``: CLIP-styled.mp4, or the next free -vN."""
        return free_output(self.folder, fitted(f"{Path(project.media).stem}-styled", ".mp4"), self.taken())

    async def queue_render(self, request: web.Request) -> web.Response:
        """``{"output", "codec", "from", "to"}``: the output is a name in FOLDER, by its extension a
        container stylecast writes, that no file or folder of FOLDER has and no job will write:
        anything else is refused (409) with the next free name offered; ``from``/``to`` as
        ``render`` takes them."""
        project = self.project(int(request.match_info["id"]))
        if project.row["state"] != "ready":
            raise OptionError("the shots are not found yet")
        body = await self.read_json(request)
        output = checked_name(body.get("output") or self.suggested(project), "output")
        codec = body.get("codec") or None
        choose_codec(codec, container_format(Path(output)))  # refuses an extension or codec it cannot write
        taken = self.taken()
        holder = taken_as(self.folder, output, taken)
        if holder is not None:
            what = "the clip" if holder == project.media else \
                "a render's output" if holder in taken else "something in the folder"
            alias = f" (as {holder}: names that differ only by case are one name)" if holder != output else ""
            return json_error(409, f"{output} is already {what}{alias}: nothing is overwritten; choose another name, "
                                   f"such as {free_output(self.folder, output, taken)}")
        start, end = (None if body.get(k) in (None, "") else str(body[k]) for k in ("from", "to"))
        if start is not None or end is not None:
            shots = project.shots()
            parse_range(start, end, project.rate, shots.first, float(shots.frames / project.rate))
        job = self.queue.add(project, output, {"codec": codec, "from": start, "to": end})
        return web.json_response({"job": job, "output": output}, status=201)

    async def jobs(self, request: web.Request) -> web.Response:
        return web.json_response({"jobs": [self.queue.view(row) for row in self.store.jobs()]})

    def _job(self, request: web.Request) -> dict:
        row = self.store.job(int(request.match_info["id"]))
        if row is None:
            raise InputError(f"job {request.match_info['id']} not found")
        return row

    async def cancel(self, request: web.Request) -> web.Response:
        row = self._job(request)
        self.queue.cancel(row["id"])
        return web.json_response(self.queue.view(self.store.job(row["id"])))

    async def retry(self, request: web.Request) -> web.Response:
        row = self._job(request)
        if row["state"] not in ("failed", "cancelled"):
            raise OptionError(f"job {row['id']} is {row['state']}: only a failed or cancelled job is tried again")
        if taken_as(self.folder, row["output"]) is not None:
            return json_error(409, f"{row['output']} is in the folder now: nothing is overwritten; render anew "
                                   "under another name")
        self.queue.retry(row)
        return web.json_response(self.queue.view(self.store.job(row["id"])))

    async def delete(self, request: web.Request) -> web.Response:
        """A finished, failed or cancelled job off the list (a done job's file stays in the folder)."""
        row = self._job(request)
        if row["state"] in ACTIVE:
            raise OptionError(f"job {row['id']} is {row['state']}: cancel it first")
        self.store.delete_job(row["id"])
        return web.json_response({"deleted": row["id"]})

    async def download(self, request: web.Request) -> web.Response:
        """The job's own output (``?play=1``: to play in the page)."""
        row = self._job(request)
        path = self.folder / row["output"]
        if row["state"] != "done" or not path.is_file():
            return json_error(409, f"job {row['id']} has no output to download ({row['state']})")
        if row["stamp"] and file_stamp(path) != row["stamp"]:
            return json_error(410, f"{row['output']} in the folder is no longer job {row['id']}'s render: it was "
                                   "changed or replaced since")
        inline = request.query.get("play") == "1"
        return web.FileResponse(path, headers={"Content-Disposition": download_header(row["output"], inline)})

    def routes(self) -> list[tuple]:
        job = "/api/jobs/{id:\\d+}"
        return [("POST", "/api/projects/{id:\\d+}/render", self.queue_render), ("GET", "/api/jobs", self.jobs),
                ("POST", job + "/cancel", self.cancel), ("POST", job + "/retry", self.retry),
                ("DELETE", job, self.delete), ("GET", job + "/download", self.download)]
