"""``stylecast studio [FOLDER]``: a page where a film crew styles a whole cut, with no command line.

Routes (everything under /api/ asks for the token when there is one, as ``stylecast serve``):
- ``GET /`` the page (``web/``), ``GET /favicon.ico``; ``GET /api/media`` the clips, folders of
  pictures, pictures, models and shot lists of FOLDER; ``POST /api/upload?name=clip.mp4`` a clip
  (body) into FOLDER, checked as media before it appears;
- ``GET /api/styles``, ``GET /api/thumbs/NAME.jpg`` the style gallery;
- ``GET /api/projects`` every project (latest changed first); ``POST /api/projects {"media"[,
  "shots"][, "fps"]}`` opens a clip and finds its shots, or reads them from a shot list of FOLDER
  (an editor's EDL, FCP XML or OTIO, with the looks its clips carry; a CSV); ``GET
  /api/projects/ID`` its progress, then its shots (each with its stable ``id``), looks, history,
  version (its ``ETag``) and the output name offered; ``GET .../events`` its changes as they are
  made (server-sent events); ``DELETE /api/projects/ID``; ``GET .../cut.otio`` (.edl, .xml, .csv)
  the cut for an editor, each clip with its whole look, ``GET .../looks.json`` the looks file a
  render reads; ``GET .../shots/ID.jpg`` a thumbnail; ``GET .../frames/F.jpg[?look=1]`` a frame
  before or in its shot's look;
- changes, each with ``If-Match: "VERSION"`` (412 when the project changed since, 428 without):
  ``POST .../merge {"shot": ID}``, ``POST .../split {"frame"}``; ``PUT .../looks/ID {look}``,
  ``PUT .../looks {"shots": [ID...], "look"}``, ``PUT .../default-look {look}``; ``POST
  .../undo``, ``POST .../redo``;
- ``POST .../shots/ID/preview {"seconds"}`` starts rendering a few seconds of the shot in its look,
  stabilized (202; 200 when made before); ``GET /api/previews/KEY/state`` its phase (a painted
  shot's training: steps, loss, time left), then its video, first frame before and after and
  flicker readout; ``POST /api/previews/KEY/cancel``;
- ``POST .../render {"output", "codec", "from", "to"}`` queues a render (an output name nothing in
  FOLDER has, nor any job will write); ``GET /api/jobs``; ``POST /api/jobs/ID/cancel``, ``.../retry``;
  ``DELETE /api/jobs/ID``; ``GET /api/jobs/ID/download[?play=1]`` the job's own output.

Everything the studio keeps is in FOLDER/.stylecast/ (the SQLite store, each project's looks and
shot files, thumbnails, previews, exports); in FOLDER itself it writes only the renders, under
names nothing has (stream/studio/names.py), and the clips uploaded; it never changes a file it did
not write. Names from the page are names in FOLDER, never paths: anything else is 400. Safe
defaults as ``serve``: bound to 127.0.0.1; any other address needs a token (made and printed when
not given). SIGTERM stops a render and a training at their next step (the render resumes when the
studio starts again) and the server within seconds.
"""
from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web

from engines import BUILTIN_NAMES, open_engine
from engines.errors import InputError, OptionError
from stream.edit.shots import LIST_SUFFIXES, list_format
from stream.media.image_sequence import check_rate
from stream.web.errors import error_replies
from stream.web.gallery import StyleGallery
from stream.web.request_guard import request_guard
from stream.web.site import open_site, page_address

from .job_routes import JobRoutes
from .look_check import PICTURES
from .names import checked_name
from .options import StudioOptions
from .project import Project, find_cuts, media_in
from .render_queue import RenderQueue
from .shot_routes import ShotRoutes
from .store import Store
from .uploads import receive_upload
from .versions import with_etag

WEB = Path(__file__).with_name("web")


async def _json(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise OptionError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise OptionError("the request body is a JSON object")
    return body


class Studio:
    def __init__(self, opts: StudioOptions):
        opts.check()
        opts = opts.with_token()
        self.opts, self.folder = opts, opts.folder.resolve()
        self.home = self.folder / ".stylecast"
        for sub in ("thumbs", "previews", "uploads"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        self.store = Store(self.home / "studio.sqlite")
        self.executor = ThreadPoolExecutor(2, thread_name_prefix="studio")
        self.stopping = asyncio.Event()  # set when the server stops: the pages' event streams end
        self.queue = RenderQueue(self.store, self.folder, opts.cluster, opts.chunk_seconds, self.project)
        self.job_routes = JobRoutes(self.store, self.queue, self.folder, self.project, _json)
        self.shot_routes = ShotRoutes(self.store, self.home, self.project, self._run, _json, self.stopping)
        self.gallery = StyleGallery(lambda: open_engine("cpu", BUILTIN_NAMES[0]), self._run_fn, BUILTIN_NAMES[0])

    def project(self, project: int) -> Project:
        row = self.store.project(project)
        if row is None:
            raise InputError(f"project {project} not found")
        return Project(self.folder, row)

    def _media(self, name) -> Path:
        path = self.folder / checked_name(name, "clip")
        if not path.is_file() and not (path.is_dir() and name in media_in(self.folder)):
            raise InputError(f"clip not found in the folder: {name}")
        return path

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def _run_fn(self, fn):
        return await self._run(fn)

    async def page(self, request):
        return web.FileResponse(WEB / "index.html")

    async def media(self, request):
        """The clips, pictures, models and shot lists of FOLDER (not the looks files renders write)."""
        pictures = sorted(p.name for p in self.folder.iterdir() if p.suffix.lower() in PICTURES)
        models = sorted(p.name for p in self.folder.iterdir() if p.suffix.lower() in (".onnx", ".pth", ".pt"))
        lists = sorted(p.name for p in self.folder.iterdir() if p.suffix.lower() in LIST_SUFFIXES and p.is_file()
                       and not p.name.lower().endswith(".looks.json"))
        media = media_in(self.folder)
        return web.json_response({"media": media, "sequences": [m for m in media if (self.folder / m).is_dir()],
                                  "pictures": pictures, "models": models, "shot_lists": lists,
                                  "builtin": list(BUILTIN_NAMES)})

    async def upload(self, request):
        return await receive_upload(request, self.folder, self.home / "uploads", self.opts.max_upload_mb, self._run)

    async def open_project(self, request):
        """``{"media"[, "shots"][, "fps"]}``: a new project of a clip (a folder of pictures at ``fps``,
        default 24), its shots found or read from a shot list of FOLDER."""
        body = await _json(request)
        path = self._media(body.get("media"))
        shot_list = None
        if body.get("shots"):
            shot_list = self.folder / checked_name(body["shots"], "shot list")
            list_format(shot_list)
            if not shot_list.is_file():
                raise InputError(f"shot list not found in the folder: {body['shots']}")
        fps = body.get("fps")
        if fps is not None:
            if isinstance(fps, bool) or not isinstance(fps, (int, float)):
                raise OptionError(f"a picture sequence's rate is a number of frames a second, got {fps!r}")
            check_rate(float(fps))
        project = self.store.add_project(path.name, fps=fps if path.is_dir() else None)
        asyncio.get_running_loop().run_in_executor(self.executor, find_cuts, self.store, project, path, shot_list,
                                                   fps if path.is_dir() else None)
        return web.json_response({"id": project}, status=201)

    async def get_project(self, request):
        project = self.project(int(request.match_info["id"]))
        reply = json.loads(self.shot_routes.view(project).text)
        reply["suggested_output"] = self.job_routes.suggested(project) if project.row["state"] == "ready" else None
        return with_etag(web.json_response(reply), reply["version"])

    async def delete_project(self, request):
        project = self.project(int(request.match_info["id"]))
        if any(j["project"] == project.id and j["state"] in ("queued", "running") for j in self.store.jobs()):
            raise OptionError(f"project {project.id} has a render queued or running: cancel it first")
        self.store.delete_project(project.id)
        return web.json_response({"deleted": project.id})

    async def projects(self, request):
        return web.json_response({"projects": self.store.projects()})

    async def favicon(self, request):
        return web.FileResponse(WEB / "favicon.svg", headers={"Content-Type": "image/svg+xml"})

    async def health(self, request):
        return web.json_response({"ok": True})

    def app(self) -> web.Application:
        app = web.Application(middlewares=[request_guard(self.opts.token), error_replies], client_max_size=1 << 20)
        routes = [("GET", "/", self.page), ("GET", "/favicon.ico", self.favicon), ("GET", "/api/health", self.health),
                  ("GET", "/api/media", self.media), ("DELETE", "/api/projects/{id:\\d+}", self.delete_project),
                  ("POST", "/api/upload", self.upload), *self.gallery.routes(), ("GET", "/api/projects", self.projects),
                  ("POST", "/api/projects", self.open_project), ("GET", "/api/projects/{id:\\d+}", self.get_project),
                  *self.shot_routes.routes(), *self.job_routes.routes()]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        app.router.add_static("/static/", WEB)
        return app

    async def run(self, stop: asyncio.Event, ready=None) -> None:
        """Listen and serve until ``stop`` is set; ``ready(url)`` once listening. Renders left
        running by a server that stopped resume first."""
        runner, port = await open_site(self.app(), self.opts.host, self.opts.port)
        try:
            self.queue.start()
            if ready:
                ready(page_address(self.opts.host, port, self.opts.token))
            await stop.wait()
        finally:
            self.stopping.set()          # event streams end
            self.shot_routes.previews.stop()  # previews and their training stop at their next step
            self.queue.stop()            # the render too: it resumes when the studio starts again
            await runner.cleanup()
            self.executor.shutdown(wait=False, cancel_futures=True)
