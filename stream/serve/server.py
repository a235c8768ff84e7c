"""The WebRTC demo server: aiohttp serves the page and answers offers; aiortc carries the media.

Its parts, a file each: stream/serve/request_guard.py (origin and token), stream/serve/offer_body.py and
stream/serve/offer_limiter.py (offers), stream/serve/session.py (a viewer), stream/serve/sessions.py (the viewers and
their memory), stream/serve/uploads.py (pictures as styles), stream/serve/thumbnails.py, stream/serve/diagnostics.py,
stream/serve/capacity.py (how many viewers to admit, measured at start-up), stream/serve/batcher.py (every
viewer's frame through one network, where the engine batches: ``--batch``).

Routes (everything under /api/ asks for the token when there is one: ``Authorization: Bearer T``
or ``?token=T``):
- ``GET /`` the page; ``GET /static/...`` its script and style sheet;
- ``GET /api/styles`` the built-in styles; ``GET /api/thumbs/NAME.jpg`` each one's thumbnail;
- ``POST /api/offer`` ``{sdp, type}`` -> ``{sdp, type, session}`` (aiortc's examples' shape);
- ``POST /api/style-image`` a picture (body) -> ``{"style": "upload:ID"}`` to pick over the data channel;
- ``GET /api/stats`` sessions, open peer connections, tasks (HTTP connections aside), open file
  descriptors and resident memory, for operators and tests.

Safe defaults: bound to 127.0.0.1; any other address needs a token (made and printed when not
given); a request from another page's Origin gets 403; offers over 64 KiB 413, beyond
``max_sessions`` 503, more than ``offers_per_window`` in 10 s from one address 429; a bad offer
400 with the reason, its peer connection closed. No STUN server unless one is configured.
"""
from __future__ import annotations

import asyncio
import gc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from engines import BUILTIN_NAMES, Engine, open_engine, resolve
from engines.errors import OptionError, StylecastError
from engines.runtimes.cpu import usable_cores
from stream.core.notes import note
from stream.styling.options import StyleOptions

from stream.framepath.path import device_for, open_frame_path

from .batcher import MAX_BATCH, MAX_WAIT_MS, WAIT_MS, Batcher
from .capacity import Capacity
from .capacity import measure as measure_capacity
from .diagnostics import TaskErrors, media_tasks, open_fds, resident_mb
from .ice import allowed_addresses, offer_only
from .offer_body import OfferTooLarge, read_offer
from .offer_limiter import OfferLimiter
from .peer import OfferError
from .request_guard import json_error, request_guard
from .session import IDLE_S, Session
from .sessions import Sessions
from .site import SiteOptions, open_site, page_address
from .thumbnails import style_thumbnails
from .uploads import UploadStore

WEB = Path(__file__).with_name("web")
BATCH_CHOICES = ("auto", "on", "off")
MAX_IMAGE = 8 * 1024 * 1024


@dataclass(kw_only=True)
class ServeOptions(StyleOptions, SiteOptions):
    max_side: int | None = 640
    max_sessions: int | None = None   # None: 80% of the viewers this machine holds, measured at start
    stun: list[str] = field(default_factory=list)
    ice_addresses: list[str] | None = None
    offers_per_window: int = 10       # per client address per offer_limiter.WINDOW_S; more get 429
    adapt: bool = True                # each viewer's network size follows what the machine keeps up with
    batch: str = "auto"               # viewers' frames in batches: on, off, auto (where the engine batches, on a GPU)
    batch_wait_ms: float = WAIT_MS    # the longest a viewer's frame waits for others to join its batch
    keyframe_steps: int | None = None  # training steps of a viewer's painting (default: the painted shots')
    idle_s: float = IDLE_S            # a viewer whose camera sends nothing this long (seconds) is let go

    def check(self) -> None:
        StyleOptions.check(self)
        SiteOptions.check(self)
        if self.offers_per_window < 1:
            raise OptionError(f"--offer-rate must be at least 1, got {self.offers_per_window}")
        if self.max_sessions is not None and self.max_sessions < 1:
            raise OptionError(f"--max-sessions must be at least 1, got {self.max_sessions}")
        for url in self.stun:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise OptionError(f"--stun takes a stun: or turn: URL, got {url!r}")
        if self.batch not in BATCH_CHOICES:
            raise OptionError(f"--batch takes {', '.join(BATCH_CHOICES)}, got {self.batch!r}")
        if not 0 <= self.batch_wait_ms <= MAX_WAIT_MS:
            raise OptionError(f"--batch-wait must be 0 to {MAX_WAIT_MS:g} ms, got {self.batch_wait_ms:g}")
        if not 1 <= self.idle_s <= 3600:
            raise OptionError(f"--idle-timeout must be 1 to 3600 seconds, got {self.idle_s:g}")
        if resolve(self.style).kind != "builtin":
            raise OptionError("serve's --style takes a built-in style or blend (viewers upload their own pictures)")


class StyleServer:
    """Open with the options (checked, the engine loaded), then ``run``: it measures what a viewer
    costs (unless ``max_sessions`` is given), listens, and serves until stopped."""

    def __init__(self, opts: ServeOptions, engine: Engine | None = None):
        """``engine``: one already open (a benchmark's or test's), else the options' is opened."""
        opts.check()
        self.opts = opts = opts.with_token()
        # single-thread runs, several frames at once: more frames per second than one frame on all cores
        self.engine = engine or open_engine(opts.engine, opts.style, throughput=True, max_side=opts.max_side,
                                            notes=note, precision=opts.precision)
        self.batcher = _batcher(opts, self.engine)
        # every viewer's frames on one frame path: the host's, or on a GPU the device's (their
        # stabilizer and mix there too; the camera's pictures come as RGB from aiortc)
        self.path = open_frame_path(self.engine, device_for(self.engine, opts.frame_path), max_side=opts.max_side,
                                    light=True)
        # batched, each viewer's thread waits on the batch: threads for a full batch (made as needed)
        workers = self.engine.parallel_frames + 1 + (2 * MAX_BATCH if self.batcher else 0)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stylize")
        self.capacity: Capacity | None = None
        self.max_sessions = opts.max_sessions
        self.sessions = Sessions()
        self.ice = allowed_addresses(opts.host, opts.ice_addresses)
        self.uploads = UploadStore()
        self.limiter = OfferLimiter(opts.offers_per_window)
        self.task_errors = TaskErrors()
        self._thumbs: asyncio.Future | None = None
        self._tasks: list[asyncio.Future] = []  # started by run, cancelled and awaited when it ends

    def measure(self) -> None:
        """Start-up: how many viewers this machine holds at the server's size (stream/serve/capacity.py)."""
        if self.max_sessions is None:
            self.capacity = measure_capacity(self.engine, self.opts.max_side, usable_cores(),
                                             batched=bool(self.batcher))
            note(self.capacity.line(self.opts.adapt))
            self.max_sessions = self.capacity.admitted

    async def thumbs(self) -> dict[str, bytes]:
        if self._thumbs is None:
            self._thumbs = asyncio.get_running_loop().run_in_executor(self.executor, style_thumbnails, self.engine)
        return await self._thumbs

    # -- routes ---------------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        return web.FileResponse(WEB / "index.html", headers={"Cache-Control": "no-store"})

    async def styles(self, request: web.Request) -> web.Response:
        return web.json_response({"default": resolve(self.opts.style).name, "styles": [
            {"index": i, "name": name, "thumb": f"/api/thumbs/{name}.jpg"} for i, name in enumerate(BUILTIN_NAMES)]})

    async def thumb(self, request: web.Request) -> web.Response:
        image = (await self.thumbs()).get(request.match_info["name"])
        if image is None:
            return json_error(404, "no such style")
        return web.Response(body=image, content_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})

    async def offer(self, request: web.Request) -> web.Response:
        if self.limiter.limited(request.remote or "?"):
            return json_error(429, self.limiter.refusal())
        try:
            sdp, kind, style = await read_offer(request, self.opts.style)
        except OfferTooLarge as exc:
            return json_error(413, str(exc))
        except OfferError as exc:
            return json_error(400, str(exc))
        if not await self.sessions.room(self.max_sessions):
            return json_error(503, f"the server is full ({self.max_sessions} viewers); try again later")
        try:
            session = Session(self.engine, self.executor, style, self.opts.max_side, self.uploads.viewer_style,
                              self.sessions.closed, self.opts.stun, self.opts.adapt, self.batcher,
                              self.uploads.picture, self.opts.keyframe_steps, self.opts.idle_s, self.path)
        except StylecastError as exc:
            return json_error(400, str(exc))
        self.sessions.add(session)
        try:
            answer = await session.answer(sdp, kind)
        except OfferError as exc:
            await session.close()
            return json_error(400, str(exc))
        except BaseException:
            await session.close()
            raise
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "session": session.id})

    async def bye(self, request: web.Request) -> web.Response:
        """The page is going (``navigator.sendBeacon`` on pagehide): a reload finds its place free."""
        self.sessions.goodbye(request.match_info["session"])
        return web.Response(status=204)  # unknown ids get the same answer: nothing to tell

    async def style_image(self, request: web.Request) -> web.Response:
        try:
            return web.json_response({"style": self.uploads.add(await request.read())})
        except StylecastError as exc:
            return json_error(400, str(exc))

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({
            "sessions": len(self.sessions),
            "max_sessions": self.max_sessions,
            "capacity": self.capacity.as_dict() if self.capacity else None,
            "batches": self.batcher.figures() if self.batcher else None,
            "peer_connections": len(self.sessions.connections),
            "sessions_in_memory": len(self.sessions.in_memory),
            "tasks": len(media_tasks()),
            "fds": open_fds(),
            "rss_mb": resident_mb(),
            "task_errors": self.task_errors.total(),
            "viewers": [{**s.state(), **s.stats.snapshot()} for s in self.sessions.open.values()]})

    def app(self) -> web.Application:
        app = web.Application(middlewares=[request_guard(self.opts.token)], client_max_size=MAX_IMAGE)
        app.router.add_get("/", self.page)
        app.router.add_static("/static/", WEB)
        app.router.add_get("/api/styles", self.styles)
        app.router.add_get("/api/thumbs/{name}.jpg", self.thumb)
        app.router.add_post("/api/offer", self.offer)
        app.router.add_post("/api/style-image", self.style_image)
        app.router.add_post("/api/sessions/{session}/bye", self.bye)
        app.router.add_get("/api/stats", self.stats)
        app.on_shutdown.append(lambda app: self.sessions.close_all())
        return app

    async def run(self, stop: asyncio.Event, ready=None) -> None:
        """Measure (start-up), listen, and serve until ``stop`` is set; ``ready(url)`` is called once listening."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, self.measure)
        offer_only(self.ice)
        loop.set_exception_handler(self.task_errors)
        runner, port = await open_site(self.app(), self.opts.host, self.opts.port)
        try:
            self._tasks += [asyncio.ensure_future(self.sessions.release_memory()),
                            asyncio.ensure_future(self.thumbs())]  # thumbnails ready before the first viewer asks
            gc.collect()  # start-up's garbage (the capacity measurement's) first, so none is frozen with it
            gc.freeze()  # start-up's objects (torch, aiortc, the engine) stay out of the collector's passes
            if ready:
                ready(page_address(self.opts.host, port, self.opts.token))
            await stop.wait()
        finally:
            await self._close(runner)

    async def _close(self, runner: web.AppRunner) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await runner.cleanup()
        if self.batcher:
            self.batcher.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.uploads.close()


def _batcher(opts: ServeOptions, engine: Engine) -> Batcher | None:
    """The viewers' batcher: ``auto`` where the engine runs styles together on a GPU (on the CPU's
    cores a batch costs what its frames cost one by one: docs/benchmarks.md)."""
    choice = opts.batch
    if choice == "on" and not engine.batches:
        raise OptionError(f"--batch on needs an engine that runs viewers' frames together (cuda); the {engine.name} "
                          "engine runs each frame alone")
    on_gpu = getattr(engine.device, "type", None) == "cuda"
    wanted = choice == "on" or (choice == "auto" and engine.batches and on_gpu)
    return Batcher(engine, opts.batch_wait_ms) if wanted else None
