"""The studio's routes for one project's cut: a shot's thumbnail, merge and split, a shot's look,
its preview, and the cut exported for an editor."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from aiohttp import web

from engines.errors import InputError, OptionError
from stream.media.picture_file import encode_picture

from .previews import MAX_SECONDS, PREVIEW_SECONDS, render_preview
from .project import Project, checked_name, frames_at
from .store import Store

THUMB_SIDE = 160


class ShotRoutes:
    def __init__(self, store: Store, home: Path, project: Callable[[int], Project], run, read_json):
        self.store, self.home, self.project, self._run, self.read_json = store, home, project, run, read_json

    async def shot_thumb(self, request):
        project = self.project(int(request.match_info["id"]))
        shot = project.shots().shot(int(request.match_info["n"]))
        key = f"{project.id}-{shot.first_frame}-{shot.last_frame}.jpg"
        path = self.home / "thumbs" / key
        if not path.is_file():
            middle = (shot.first_frame + shot.last_frame) // 2
            image = (await self._run(frames_at, project.path, {middle}, THUMB_SIDE))[middle]
            path.write_bytes(encode_picture(image, ".jpg"))
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def export(self, request):
        """``GET /api/projects/ID/cut.otio`` (or .edl, .xml, .csv): the cut for an editor, each clip
        carrying its shot's style, as a download."""
        project = self.project(int(request.match_info["id"]))
        name = f"{Path(project.media).stem}.{request.match_info['fmt']}"
        path = self.home / "exports" / name
        path.parent.mkdir(exist_ok=True)
        await self._run(project.export, path)
        return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def recut(self, request):
        """``merge {"shot": N}`` (N and the next as one) or ``split {"frame": F}`` (a shot from F)."""
        project = self.project(int(request.match_info["id"]))
        body = await self.read_json(request)
        try:
            cuts = (project.merged(int(body.get("shot", 0))) if request.match_info["kind"] == "merge"
                    else project.split(int(body.get("frame", -1))))
        except (TypeError, ValueError):
            raise OptionError("give a whole number") from None
        self.store.set_looks(project.id, project.looks_for(cuts))
        self.store.update_project(project.id, cuts=cuts)
        return web.json_response(self.project(project.id).as_dict())

    async def set_look(self, request):
        project = self.project(int(request.match_info["id"]))
        shot = int(request.match_info["n"])
        project.shots().shot(shot)
        look = project.checked_look(await self.read_json(request))
        self.store.set_looks(project.id, {**project.looks, shot: look})
        return web.json_response(self.project(project.id).as_dict())

    async def preview(self, request):
        project = self.project(int(request.match_info["id"]))
        shot = project.shots().shot(int(request.match_info["n"]))
        body = await self.read_json(request)
        seconds = min(float(body.get("seconds", PREVIEW_SECONDS)), MAX_SECONDS)
        look = project.looks.get(shot.shot, {})
        return web.json_response(await self._run(render_preview, self.home / "previews", project, shot, look, seconds))

    async def preview_file(self, request):
        name = checked_name(request.match_info["name"])
        path = self.home / "previews" / name
        if not path.is_file():
            raise InputError(f"preview not found: {name}")
        return web.FileResponse(path)

    def routes(self) -> list[tuple]:
        project = "/api/projects/{id:\\d+}"
        return [("GET", project + "/shots/{n:\\d+}.jpg", self.shot_thumb),
                ("POST", project + "/{kind:merge|split}", self.recut),
                ("GET", project + "/cut.{fmt:otio|edl|xml|csv}", self.export),
                ("PUT", project + "/looks/{n:\\d+}", self.set_look),
                ("POST", project + "/shots/{n:\\d+}/preview", self.preview),
                ("GET", "/api/previews/{name}", self.preview_file)]
