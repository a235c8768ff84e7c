"""The studio's routes for one project's cut: a shot's thumbnail, any frame before and after its
look (the wipe), merge and split, the looks of one or several shots and the default look, undo
and redo, a shot's preview, the cut exported for an editor, and the project's changes as they
happen. Shots are named by their stable ids (stream/studio/cut.py). Each change is made on the
version the page showed (``If-Match``, stream/studio/versions.py) and kept in the project's
history (stream/studio/history.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from aiohttp import web

from engines import open_engine
from engines.errors import InputError, OptionError
from engines.style_scale import stylize_scaled
from stream.media.picture_file import encode_picture
from stream.styling.controls import Controls, values_in

from .history import History
from .job_routes import download_header
from .look_check import style_spec
from .names import checked_name
from .previews import MAX_SECONDS, PREVIEW_SECONDS, PreviewRuns
from .project import Project, frames_at
from .store import Stale, Store
from .versions import event_stream, expected_version, tab, with_etag

THUMB_SIDE = 160
FRAME_SIDE = 480  # pixels, the longer side of a frame shown before and after its look (the wipe)


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"give {what} as a whole number, got {value!r}")
    return value


class ShotRoutes:
    def __init__(self, store: Store, home: Path, project: Callable[[int], Project], run, read_json, stopping):
        self.store, self.home, self.project, self._run, self.read_json = store, home, project, run, read_json
        self.stopping = stopping  # an asyncio.Event set when the server stops (the event streams end)
        self.history = History(store)
        self.previews = PreviewRuns(home / "previews")
        self._engine = None  # the CPU engine that paints a single frame for the wipe

    def view(self, project: Project) -> web.Response:
        project = self.project(project.id)
        reply = web.json_response(project.as_dict(self.history.around(project.id, project.row["position"])))
        return with_etag(reply, project.version)

    def _project(self, request: web.Request) -> Project:
        """The project a change is for, refused at once (412, 428) unless it is made on the version it
        is now: a stale page's change is said to be stale before anything else is said of it."""
        project = self.project(int(request.match_info["id"]))
        made_on = expected_version(request)
        if made_on != project.version:
            raise Stale(project.version, project.row.get("change"), project.row.get("changed_by"))
        return project

    def _commit(self, request: web.Request, project: Project, change: tuple[dict, str],
                position: int | None = None) -> web.Response:
        """The change made, on the version the page showed (412 when another tab changed it since:
        checked again as it is written, so two changes at once cannot both pass)."""
        state, what = change
        self.store.commit(project.id, expected_version(request), state, what, tab(request), position)
        return self.view(project)

    async def shot_thumb(self, request):
        project = self.project(int(request.match_info["id"]))
        shot = project.shot(int(request.match_info["n"]))
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
        number = next(s.shot for s in project.shots().shots if s.first_frame <= index <= s.last_frame)
        look = project.renders(project.cut.ids[number - 1])
        if "keyframe" in look:
            raise OptionError("a painted shot is shown by its preview (its network is trained for it)")
        controls = Controls().updated(**values_in(look))
        if self._engine is None:
            self._engine = open_engine("cpu", "starry-night", throughput=True)
        network = self._engine.network(style_spec(project.folder, look["style"]))
        return stylize_scaled(self._engine, image, network, controls.mix)

    async def export(self, request):
        """``GET /api/projects/ID/cut.otio`` (or .edl, .xml, .csv): the cut for an editor, each clip
        carrying its shot's look, as a download; ``looks.json``: the looks file a render reads."""
        project = self.project(int(request.match_info["id"]))
        fmt = request.match_info["fmt"]
        if fmt == "json":
            looks, _ = await self._run(project.write_render_files)
            return web.FileResponse(looks, headers={"Content-Disposition": download_header(
                f"{Path(project.media).stem}.looks.json")})
        name = f"{Path(project.media).stem}.{fmt}"
        path = self.home / "exports" / f"project-{project.id}.{fmt}"
        path.parent.mkdir(exist_ok=True)
        await self._run(project.export, path)
        return web.FileResponse(path, headers={"Content-Disposition": download_header(name)})

    async def recut(self, request):
        """``merge {"shot": ID}`` (that shot and the next as one) or ``split {"frame": F}`` (a shot from F)."""
        project = self._project(request)
        body = await self.read_json(request)
        if request.match_info["kind"] == "merge":
            change = project.merged(_whole(body.get("shot"), "the shot"))
        else:
            change = project.split(_whole(body.get("frame"), "the frame"))
        return self._commit(request, project, change)

    async def set_look(self, request):
        """``PUT .../looks/ID {look}``: the shot's look (an empty look: none of its own, the default)."""
        project = self._project(request)
        shot = int(request.match_info["n"])
        look = project.checked_look(await self.read_json(request), shot)
        return self._commit(request, project, project.with_looks({shot: look}))

    async def set_looks(self, request):
        """``PUT .../looks {"shots": [ID, ...], "look": {...}}``: one look given to several shots."""
        project = self._project(request)
        body = await self.read_json(request)
        shots = body.get("shots")
        if not isinstance(shots, list) or not shots:
            raise OptionError('give "shots", a list of shot ids')
        checked = {_whole(n, "a shot"): project.checked_look(body.get("look"), _whole(n, "a shot")) for n in shots}
        return self._commit(request, project, project.with_looks(checked))

    async def set_default_look(self, request):
        """``PUT .../default-look {look}``: what shots without a look of their own render in."""
        project = self._project(request)
        look = project.checked_look(await self.read_json(request), None)
        if "style" not in look:
            raise OptionError("the look of shots without one needs a style")
        return self._commit(request, project, project.with_default(look))

    async def step(self, request):
        """``POST .../undo`` or ``.../redo``."""
        project = self._project(request)
        way = request.match_info["way"]
        found = self.history.target(project.id, way == "undo")
        if found is None:
            raise OptionError(f"nothing to {way}")
        state, position, what = found
        return self._commit(request, project, (state, what), position)

    async def preview(self, request):
        """``POST .../shots/ID/preview {"seconds"}``: the preview started (202) or already made (200)."""
        project = self.project(int(request.match_info["id"]))
        shot_id = int(request.match_info["n"])
        shot = project.shot(shot_id)
        body = await self.read_json(request)
        seconds = min(float(body.get("seconds", PREVIEW_SECONDS)), MAX_SECONDS)
        state = self.previews.start(project, shot, shot_id, project.renders(shot_id), seconds)
        return web.json_response(state, status=200 if state["state"] == "done" else 202)

    async def preview_state(self, request):
        return web.json_response(self.previews.state(request.match_info["key"]))

    async def preview_cancel(self, request):
        return web.json_response(self.previews.cancel(request.match_info["key"]))

    async def preview_file(self, request):
        name = checked_name(request.match_info["name"])
        path = self.home / "previews" / name
        if not path.is_file():
            raise InputError(f"preview not found: {name}")
        return web.FileResponse(path)

    async def events(self, request):
        """``GET .../events[?since=V]``: the project's changes as server-sent events."""
        project = self.project(int(request.match_info["id"]))

        def version_of():
            rows = self.store.rows("SELECT version, change, changed_by FROM projects WHERE id = ?", (project.id,))
            return (rows[0]["version"], rows[0]["change"], rows[0]["changed_by"]) if rows else None

        return await event_stream(request, version_of, self.stopping)

    def routes(self) -> list[tuple]:
        project = "/api/projects/{id:\\d+}"
        key = "/api/previews/{key:[0-9a-f]{16}}"
        return [("GET", project + "/shots/{n:\\d+}.jpg", self.shot_thumb),
                ("GET", project + "/frames/{f:\\d+}.jpg", self.frame),
                ("POST", project + "/{kind:merge|split}", self.recut),
                ("POST", project + "/{way:undo|redo}", self.step),
                ("GET", project + "/cut.{fmt:otio|edl|xml|csv}", self.export),
                ("GET", project + "/looks.{fmt:json}", self.export),
                ("GET", project + "/events", self.events),
                ("PUT", project + "/looks/{n:\\d+}", self.set_look),
                ("PUT", project + "/looks", self.set_looks),
                ("PUT", project + "/default-look", self.set_default_look),
                ("POST", project + "/shots/{n:\\d+}/preview", self.preview),
                ("GET", key + "/state", self.preview_state),
                ("POST", key + "/cancel", self.preview_cancel),
                ("GET", "/api/previews/{name}", self.preview_file)]
