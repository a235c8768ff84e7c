"""The studio's routes for renders: queue one (checked whole before it is queued), list the jobs,
cancel one, download its output."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from aiohttp import web

from engines.errors import InputError, OptionError
from stream.media.codecs import choose_codec
from stream.media.encode import container_format
from stream.media.time_range import parse_range
from stream.serve.request_guard import json_error

from .project import Project, checked_name
from .render_queue import RenderQueue
from .store import Store


class JobRoutes:
    def __init__(self, store: Store, queue: RenderQueue, folder: Path, project: Callable[[int], Project], read_json):
        self.store, self.queue, self.folder, self.project, self.read_json = store, queue, folder, project, read_json

    async def queue_render(self, request: web.Request) -> web.Response:
        """``{"output", "codec", "from", "to"}``: the output is a name in FOLDER, by its extension a
        container stylecast writes, never the clip; ``from``/``to`` as ``render`` takes them."""
        project = self.project(int(request.match_info["id"]))
        if project.row["state"] != "ready":
            raise OptionError("the shots are not found yet")
        body = await self.read_json(request)
        output = checked_name(body.get("output") or f"{Path(project.media).stem}-styled.mp4", "output")
        codec = body.get("codec") or None
        choose_codec(codec, container_format(Path(output)))  # refuses an extension or codec it cannot write
        if (self.folder / output).resolve() == project.path.resolve():
            raise OptionError("the output would replace the clip; choose another name")
        start, end = (None if body.get(k) in (None, "") else str(body[k]) for k in ("from", "to"))
        if start is not None or end is not None:
            shots = project.shots()
            parse_range(start, end, project.rate, shots.first, float(shots.frames / project.rate))
        busy = [j for j in self.store.jobs() if j["output"] == output and j["state"] in ("queued", "running")]
        if busy:
            return json_error(409, f"job {busy[0]['id']} is already rendering {output}")
        job = self.queue.add(project, output, {"codec": codec, "from": start, "to": end})
        return web.json_response({"job": job}, status=201)

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

    async def download(self, request: web.Request) -> web.Response:
        row = self._job(request)
        path = self.folder / row["output"]
        if row["state"] != "done" or not path.is_file():
            return json_error(409, f"job {row['id']} has no output to download ({row['state']})")
        return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{row["output"]}"'})

    def routes(self) -> list[tuple]:
        return [("POST", "/api/projects/{id:\\d+}/render", self.queue_render), ("GET", "/api/jobs", self.jobs),
                ("POST", "/api/jobs/{id:\\d+}/cancel", self.cancel), ("GET", "/api/jobs/{id:\\d+}/download", self.download)]
