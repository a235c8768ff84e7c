"""The studio's routes for one project's cut: a shot's thumbnail, any frame before and after its
look (the wipe), merge and split, the looks of one or several shots and the default look, undo
and redo, a shot's preview, and the cut exported for an editor. Each change to the cut or the
looks is kept in the project's history (stream/studio/history.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from aiohttp import web

from engines import open_engine
from engines.errors import InputError, OptionError
from engines.style_scale import stylize_scaled
from stream.media.picture_file import encode_picture

from .history import History
from .job_routes import download_header
from .look_check import style_spec
from .names import checked_name
from .previews import MAX_SECONDS, PREVIEW_SECONDS, render_preview
from .project import Project, frames_at
from .store import Store

THUMB_SIDE = 160
FRAME_SIDE = 480  # pixels, the longer side of a frame shown before and after its look (the wipe)


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"give {what} as a whole number, got {value!r}")
    return value


class ShotRoutes:
    def __init__(self, store: Store, home: Path, project: Callable[[int], Project], run, read_json):
        self.store, self.home, self.project, self._run, self.read_json = store, home, project, run, read_json
        self.history = History(store)
        self._engine = None  # the CPU engine that paints a single frame for the wipe

    def view(self, project: Project) -> web.Response:
        project = self.project(project.id)
        return web.json_response(project.as_dict(self.history.around(project.id, project.row["position"])))

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

    async def frame(self, request):
        """``GET .../frames/F.jpg`` the source frame F; ``?look=1`` in the look of the shot that holds
        it (its network on the frame alone, no stabilizer: what the wipe compares)."""
        project = self.project(int(request.match_info["id"]))
        index = int(request.match_info["f"])
        if not 0 <= index < (project.row["frames"] or 0):
            raise OptionError(f"the clip has frames 0 to {(project.row['frames'] or 1) - 1}, not {index}")
        image = (await self._run(frames_at, project.path, {index}, FRAME_SIDE)).get(index)
        if image is None:
            raise InputError(f"frame {index} could not be read")
        if request.query.get("look") == "1":
            image = await self._run(self._styled, project, index, image)
        return web.Response(body=encode_picture(image, ".jpg"), content_type="image/jpeg")

    def _styled(self, project: Project, index: int, image):
        shot = next(s for s in project.shots().shots if s.first_frame <= index <= s.last_frame)
        look = project.renders(shot.shot)
        if "keyframe" in look:
            raise OptionError("a painted shot is shown by its preview (its network is trained for it)")
        from stream.styling.controls import Controls

        controls = Controls().updated(**{k: v for k, v in look.items() if k in ("strength", "keep_colors", "stability")})
        if self._engine is None:
            self._engine = open_engine("cpu", "starry-night", throughput=True)
        network = self._engine.network(style_spec(project.folder, look["style"]))
        return stylize_scaled(self._engine, image, network, controls.mix)

    async def export(self, request):
        """``GET /api/projects/ID/cut.otio`` (or .edl, .xml, .csv): the cut for an editor, each clip
        carrying its shot's look, as a download."""
        project = self.project(int(request.match_info["id"]))
        name = f"{Path(project.media).stem}.{request.match_info['fmt']}"
        path = self.home / "exports" / f"project-{project.id}.{request.match_info['fmt']}"
        path.parent.mkdir(exist_ok=True)
        await self._run(project.export, path)
        return web.FileResponse(path, headers={"Content-Disposition": download_header(name)})

    async def recut(self, request):
        """``merge {"shot": N}`` (N and the next as one) or ``split {"frame": F}`` (a shot from F)."""
        project = self.project(int(request.match_info["id"]))
        body = await self.read_json(request)
        if request.match_info["kind"] == "merge":
            shot = _whole(body.get("shot"), "the shot")
            cuts, what = project.merged(shot), f"merge shots {shot} and {shot + 1}"
        else:
            frame = _whole(body.get("frame"), "the frame")
            cuts, what = project.split(frame), f"split at frame {frame}"
        self.store.set_looks(project.id, project.looks_for(cuts))
        self.store.update_project(project.id, cuts=cuts)
        self.history.record(project.id, what, self.project(project.id).state())
        return self.view(project)

    async def set_look(self, request):
        """``PUT .../looks/N {look}``: shot N's look (an empty look: none of its own, the default)."""
        project = self.project(int(request.match_info["id"]))
        shot = int(request.match_info["n"])
        look = project.checked_look(await self.read_json(request), shot)
        looks = {**project.looks, shot: look} if look else {n: v for n, v in project.looks.items() if n != shot}
        self.store.set_looks(project.id, looks)
        self.history.record(project.id, f"the look of shot {shot}", self.project(project.id).state())
        return self.view(project)

    async def set_looks(self, request):
        """``PUT .../looks {"shots": [N, ...], "look": {...}}``: one look given to several shots."""
        project = self.project(int(request.match_info["id"]))
        body = await self.read_json(request)
        shots = body.get("shots")
        if not isinstance(shots, list) or not shots:
            raise OptionError('give "shots", a list of shot numbers')
        checked = {_whole(n, "a shot"): project.checked_look(body.get("look"), _whole(n, "a shot")) for n in shots}
        looks = {**{n: v for n, v in project.looks.items() if n not in checked}, **{n: v for n, v in checked.items() if v}}
        self.store.set_looks(project.id, looks)
        self.history.record(project.id, f"the look of shots {', '.join(map(str, sorted(checked)))}",
                            self.project(project.id).state())
        return self.view(project)

    async def set_default_look(self, request):
        """``PUT .../default-look {look}``: what shots without a look of their own render in."""
        project = self.project(int(request.match_info["id"]))
        look = project.checked_look(await self.read_json(request), None)
        if "style" not in look:
            raise OptionError("the look of shots without one needs a style")
        self.store.update_project(project.id, default_look=look)
        self.history.record(project.id, "the default look", self.project(project.id).state())
        return self.view(project)

    async def step(self, request):
        """``POST .../undo`` or ``.../redo``."""
        project = self.project(int(request.match_info["id"]))
        back = request.match_info["way"] == "undo"
        state = self.history.step(project.id, back)
        if state is None:
            raise OptionError(f"nothing to {request.match_info['way']}")
        self.store.set_looks(project.id, {int(n): look for n, look in state["looks"].items()})
        self.store.update_project(project.id, cuts=state["cuts"], default_look=state["default_look"])
        return self.view(project)

    async def preview(self, request):
        project = self.project(int(request.match_info["id"]))
        shot = project.shots().shot(int(request.match_info["n"]))
        body = await self.read_json(request)
        seconds = min(float(body.get("seconds", PREVIEW_SECONDS)), MAX_SECONDS)
        look = project.renders(shot.shot)
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
                ("GET", project + "/frames/{f:\\d+}.jpg", self.frame),
                ("POST", project + "/{kind:merge|split}", self.recut),
                ("POST", project + "/{way:undo|redo}", self.step),
                ("GET", project + "/cut.{fmt:otio|edl|xml|csv}", self.export),
                ("PUT", project + "/looks/{n:\\d+}", self.set_look),
                ("PUT", project + "/looks", self.set_looks),
                ("PUT", project + "/default-look", self.set_default_look),
                ("POST", project + "/shots/{n:\\d+}/preview", self.preview),
                ("GET", "/api/previews/{name}", self.preview_file)]
