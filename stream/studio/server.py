"""``stylecast studio [FOLDER]``: a page where a film crew styles a whole cut, with no command line.

Routes (everything under /api/ asks for the token when there is one, as ``stylecast serve``):
- ``GET /`` the page (``web/``); ``GET /api/media`` the clips and pictures of FOLDER;
  ``POST /api/upload?name=clip.mp4`` a clip (body) into FOLDER, checked as media before it appears;
- ``GET /api/styles``, ``GET /api/thumbs/NAME.jpg`` the style gallery;
- ``POST /api/projects {"media"}`` opens a clip and finds its shots (``GET /api/projects/ID``
  shows the progress, then the shots); ``GET /api/projects/ID/shots/N.jpg`` a shot's thumbnail;
  ``POST .../merge {"shot"}``, ``POST .../split {"frame"}``; ``PUT .../looks/N {look}``;
  ``POST .../shots/N/preview {"seconds"}`` renders a few seconds of the shot in its look, stabilized
  (a video, the first frame before and after, and the flicker readout);
- ``POST .../render {"output", "codec"}`` queues a render; ``GET /api/jobs``;
  ``POST /api/jobs/ID/cancel``; ``GET /api/jobs/ID/download``.

Everything the studio keeps is in FOLDER/.stylecast/ (the SQLite store, thumbnails, previews);
the render's own files (``CLIP.looks.json``, ``CLIP.shots.csv``) and the outputs are in FOLDER.
Names from the page are names in FOLDER, never paths: anything else is 400. Safe defaults as
``serve``: bound to 127.0.0.1; any other address needs a token (made and printed when not given).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import av
from aiohttp import web

from engines import BUILTIN_NAMES, open_engine
from engines.errors import InputError, OptionError, StylecastError
from stream.look.shots import find_shots
from stream.media.encode import container_format
from stream.media.picture_file import encode_picture
from stream.render.job import RenderOptions, render
from stream.serve.ice import is_loopback
from stream.serve.request_guard import json_error, request_guard
from stream.serve.thumbnails import style_thumbnails

from .project import Project, frames_at, media_in
from .render_queue import RenderQueue
from .store import Store

WEB = Path(__file__).with_name("web")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,120}")
PICTURES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
THUMB_WIDTH = 160
PREVIEW_SIDE = 320      # pixels: previews are rendered small, to come back in seconds
PREVIEW_SECONDS = 3.0


@dataclass(kw_only=True)
class StudioOptions:
    folder: Path
    host: str = "127.0.0.1"
    port: int = 8090
    token: str | None = None
    cluster: str | None = None   # a Ray address for the renders; None: chunks rendered here
    chunk_seconds: float = 30.0
    max_upload_mb: int = 4096

    def check(self) -> None:
        if not self.folder.is_dir():
            raise InputError(f"studio folder not found: {self.folder}")
        if not 0 <= self.port <= 65535:
            raise OptionError(f"--port must be 0 to 65535, got {self.port}")
        if not 1 <= self.chunk_seconds <= 3600:
            raise OptionError(f"--chunk-seconds must be between 1 and 3600, got {self.chunk_seconds:g}")
        if self.max_upload_mb < 1:
            raise OptionError(f"--max-upload-mb must be at least 1, got {self.max_upload_mb}")
        if self.cluster is not None:
            from stream.cluster.address import parse_cluster

            parse_cluster(self.cluster)


def checked_name(name: str, what: str = "file") -> str:
    """A name in FOLDER from the page: never a path, never hidden."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or ".." in name:
        raise OptionError(f"a {what} is named by its name in the folder (letters, digits, . _ - and spaces), got {name!r}")
    return name


async def _json(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise OptionError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise OptionError("the request body is a JSON object")
    return body


@web.middleware
async def _errors(request: web.Request, handler):
    """A StylecastError from a handler is a 4xx with its one line: 404 for what is not there."""
    try:
        return await handler(request)
    except InputError as exc:
        return json_error(404 if "not found" in str(exc) else 415, str(exc))
    except StylecastError as exc:
        return json_error(400, str(exc))


class Studio:
    def __init__(self, opts: StudioOptions):
        opts.check()
        if opts.token is None and not is_loopback(opts.host):
            opts = replace(opts, token=secrets.token_urlsafe(16))
        self.opts, self.folder = opts, opts.folder.resolve()
        self.home = self.folder / ".stylecast"
        for sub in ("thumbs", "previews", "uploads"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        self.store = Store(self.home / "studio.sqlite")
        self.executor = ThreadPoolExecutor(2, thread_name_prefix="studio")
        self.queue = RenderQueue(self.store, self.folder, opts.cluster, opts.chunk_seconds, self.project)
        self._thumbs: dict[str, bytes] | None = None

    def project(self, project: int) -> Project:
        row = self.store.project(project)
        if row is None:
            raise InputError(f"project {project} not found")
        return Project(self.folder, row)

    def _media(self, name) -> Path:
        path = self.folder / checked_name(name, "clip")
        if not path.is_file():
            raise InputError(f"clip not found in the folder: {name}")
        return path

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    # -- media and styles
    async def page(self, request):
        return web.FileResponse(WEB / "index.html")

    async def media(self, request):
        pictures = sorted(p.name for p in self.folder.iterdir() if p.suffix.lower() in PICTURES)
        models = sorted(p.name for p in self.folder.iterdir() if p.suffix.lower() in (".onnx", ".pth", ".pt"))
        return web.json_response({"media": media_in(self.folder), "pictures": pictures, "models": models})

    async def upload(self, request):
        name = checked_name(request.query.get("name", ""), "clip")
        if Path(name).suffix.lower() not in {".mp4", ".mov", ".mkv", ".mxf", ".webm", ".avi", ".m4v"}:
            raise OptionError(f"upload a video clip (.mp4, .mov, .mkv, .mxf, .webm, .avi, .m4v), not {name}")
        target = self.folder / name
        if target.exists():
            return json_error(409, f"{name} is already in the folder")
        limit, size = self.opts.max_upload_mb * 1024 * 1024, 0
        part = self.home / "uploads" / f"{secrets.token_hex(8)}{Path(name).suffix}"
        try:
            with part.open("wb") as out:
                async for block in request.content.iter_chunked(1 << 20):
                    size += len(block)
                    if size > limit:
                        return json_error(413, f"the upload is over {self.opts.max_upload_mb} MB (--max-upload-mb)")
                    out.write(block)
            if size == 0:
                raise OptionError("the upload is empty")
            await self._run(_check_media, part, name)
            part.replace(target)
        finally:
            part.unlink(missing_ok=True)
        return web.json_response({"media": name, "bytes": size}, status=201)

    async def styles(self, request):
        return web.json_response({"styles": list(BUILTIN_NAMES)})

    async def thumb(self, request):
        if self._thumbs is None:
            self._thumbs = await self._run(lambda: style_thumbnails(open_engine("cpu", BUILTIN_NAMES[0])))
        data = self._thumbs.get(request.match_info["name"])
        if data is None:
            return json_error(404, "no such style")
        return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})

    # -- projects
    async def open_project(self, request):
        body = await _json(request)
        path = self._media(body.get("media"))
        project = self.store.add_project(path.name)
        asyncio.get_running_loop().run_in_executor(self.executor, self._find, project, path)
        return web.json_response({"id": project}, status=201)

    def _find(self, project: int, path: Path) -> None:
        done = [0]

        def progress(total):
            def advance(n=1):
                done[0] += n
                if total and done[0] % 10 == 0:
                    self.store.update_project(project, progress=round(done[0] / total, 3))
            return advance

        try:
            shots = find_shots(path, None, progress)
            self.store.update_project(project, rate=str(shots.rate), frames=shots.frames, cuts=shots.starts(),
                                      timecode=str(shots.first) if shots.first else None, state="ready", progress=1.0)
        except StylecastError as exc:
            self.store.update_project(project, state="failed", error=str(exc))

    async def get_project(self, request):
        return web.json_response(self.project(int(request.match_info["id"])).as_dict())

    async def projects(self, request):
        return web.json_response({"projects": self.store.projects()})

    async def shot_thumb(self, request):
        project = self.project(int(request.match_info["id"]))
        shot = project.shots().shot(int(request.match_info["n"]))
        key = f"{project.id}-{shot.first_frame}-{shot.last_frame}.jpg"
        path = self.home / "thumbs" / key
        if not path.is_file():
            middle = (shot.first_frame + shot.last_frame) // 2
            image = (await self._run(frames_at, project.path, {middle}, THUMB_WIDTH))[middle]
            path.write_bytes(encode_picture(image, ".jpg"))
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def merge(self, request):
        return await self._recut(request, lambda project, body: project.merged(int(body.get("shot", 0))))

    async def split(self, request):
        return await self._recut(request, lambda project, body: project.split(int(body.get("frame", -1))))

    async def _recut(self, request, cut):
        project = self.project(int(request.match_info["id"]))
        try:
            cuts = cut(project, await _json(request))
        except (TypeError, ValueError):
            raise OptionError("give a whole number") from None
        self.store.set_looks(project.id, project.looks_for(cuts))
        self.store.update_project(project.id, cuts=cuts)
        return web.json_response(self.project(project.id).as_dict())

    async def set_look(self, request):
        project = self.project(int(request.match_info["id"]))
        shot = int(request.match_info["n"])
        project.shots().shot(shot)
        look = project.checked_look(await _json(request))
        self.store.set_looks(project.id, {**project.looks, shot: look})
        return web.json_response(self.project(project.id).as_dict())

    async def preview(self, request):
        project = self.project(int(request.match_info["id"]))
        shot = project.shots().shot(int(request.match_info["n"]))
        body = await _json(request)
        seconds = min(float(body.get("seconds", PREVIEW_SECONDS)), 10.0)
        look = project.looks.get(shot.shot, {})
        return web.json_response(await self._run(self._preview, project, shot, look, seconds))

    def _preview(self, project: Project, shot, look: dict, seconds: float) -> dict:
        key = hashlib.sha256(json.dumps([project.media, shot.first_frame, shot.last_frame, look, seconds],
                                        sort_keys=True).encode()).hexdigest()[:16]
        out = self.home / "previews" / f"{key}.mp4"
        end = min(shot.end, shot.start + seconds)
        controls = {k: look[k] for k in ("strength", "keep_colors", "stability") if k in look}
        opts = RenderOptions(input=project.path, output=out, start=repr(shot.start), end=repr(end), overwrite=True,
                             style=project.style_spec(look["style"]) if "style" in look else RenderOptions.style,
                             max_side=PREVIEW_SIDE, **controls)
        result = render(opts)
        with av.open(str(out)) as container:
            after = next(container.decode(video=0)).to_ndarray(format="rgb24")
        before = frames_at(project.path, {shot.first_frame}, after.shape[1])[shot.first_frame]
        (self.home / "previews" / f"{key}-before.jpg").write_bytes(encode_picture(before, ".jpg"))
        (self.home / "previews" / f"{key}-after.jpg").write_bytes(encode_picture(after, ".jpg"))
        return {"video": f"/api/previews/{key}.mp4", "before": f"/api/previews/{key}-before.jpg",
                "after": f"/api/previews/{key}-after.jpg", "frames": result.frames, "style": result.style,
                "flicker": result.flicker, "source_flicker": result.source_flicker}

    async def preview_file(self, request):
        name = checked_name(request.match_info["name"])
        path = self.home / "previews" / name
        if not path.is_file():
            raise InputError(f"preview not found: {name}")
        return web.FileResponse(path)

    # -- renders
    async def queue_render(self, request):
        project = self.project(int(request.match_info["id"]))
        if project.row["state"] != "ready":
            raise OptionError("the shots are not found yet")
        body = await _json(request)
        output = checked_name(body.get("output") or f"{Path(project.media).stem}-styled.mp4", "output")
        container_format(Path(output))  # refuses an extension it cannot write
        codec = body.get("codec") or None
        if codec is not None:
            from stream.media.codecs import choose_codec

            choose_codec(codec, container_format(Path(output)))
        if (self.folder / output).resolve() == project.path.resolve():
            raise OptionError("the output would replace the clip; choose another name")
        busy = [j for j in self.store.jobs() if j["output"] == output and j["state"] in ("queued", "running")]
        if busy:
            return json_error(409, f"job {busy[0]['id']} is already rendering {output}")
        job = self.queue.add(project, output, {"codec": codec})
        return web.json_response({"job": job}, status=201)

    async def jobs(self, request):
        return web.json_response({"jobs": [self.queue.view(row) for row in self.store.jobs()]})

    def _job(self, request) -> dict:
        row = self.store.job(int(request.match_info["id"]))
        if row is None:
            raise InputError(f"job {request.match_info['id']} not found")
        return row

    async def cancel(self, request):
        row = self._job(request)
        self.queue.cancel(row["id"])
        return web.json_response(self.queue.view(self.store.job(row["id"])))

    async def download(self, request):
        row = self._job(request)
        path = self.folder / row["output"]
        if row["state"] != "done" or not path.is_file():
            return json_error(409, f"job {row['id']} has no output to download ({row['state']})")
        return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{row["output"]}"'})

    async def health(self, request):
        return web.json_response({"ok": True})

    def app(self) -> web.Application:
        app = web.Application(middlewares=[request_guard(self.opts.token), _errors], client_max_size=1 << 20)
        routes = [("GET", "/", self.page), ("GET", "/api/health", self.health), ("GET", "/api/media", self.media),
                  ("POST", "/api/upload", self.upload), ("GET", "/api/styles", self.styles),
                  ("GET", "/api/thumbs/{name}.jpg", self.thumb), ("GET", "/api/projects", self.projects),
                  ("POST", "/api/projects", self.open_project), ("GET", "/api/projects/{id:\\d+}", self.get_project),
                  ("GET", "/api/projects/{id:\\d+}/shots/{n:\\d+}.jpg", self.shot_thumb),
                  ("POST", "/api/projects/{id:\\d+}/merge", self.merge), ("POST", "/api/projects/{id:\\d+}/split", self.split),
                  ("PUT", "/api/projects/{id:\\d+}/looks/{n:\\d+}", self.set_look),
                  ("POST", "/api/projects/{id:\\d+}/shots/{n:\\d+}/preview", self.preview),
                  ("GET", "/api/previews/{name}", self.preview_file),
                  ("POST", "/api/projects/{id:\\d+}/render", self.queue_render), ("GET", "/api/jobs", self.jobs),
                  ("POST", "/api/jobs/{id:\\d+}/cancel", self.cancel), ("GET", "/api/jobs/{id:\\d+}/download", self.download)]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        app.router.add_static("/static/", WEB)
        return app

    def address(self, port: int) -> str:
        host = self.opts.host if ":" not in self.opts.host else f"[{self.opts.host}]"
        return f"http://{host}:{port}/" + (f"?token={self.opts.token}" if self.opts.token else "")

    async def run(self, stop: asyncio.Event, ready=None) -> None:
        """Listen and serve until ``stop`` is set; ``ready(url)`` once listening. Renders left
        running by a server that stopped resume first."""
        runner = web.AppRunner(self.app(), handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.opts.host, self.opts.port)
            try:
                await site.start()
            except OSError as exc:
                raise OptionError(f"cannot listen on {self.opts.host}:{self.opts.port}: {exc.strerror}") from None
            self.queue.start()
            if ready:
                ready(self.address(site._server.sockets[0].getsockname()[1]))
            await stop.wait()
        finally:
            self.queue.stop()
            await runner.cleanup()
            self.executor.shutdown(wait=False, cancel_futures=True)


def _check_media(path: Path, name: str) -> None:
    """An upload is kept only if FFmpeg finds a video stream it can decode a frame of."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{name} has no video stream")
            next(container.decode(video=0))
    except (av.error.FFmpegError, StopIteration, UnicodeDecodeError) as exc:
        raise InputError(f"{name} is not a video FFmpeg can read ({type(exc).__name__})") from None

