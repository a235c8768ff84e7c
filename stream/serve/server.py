"""The WebRTC demo server: aiohttp serves the page and answers offers; aiortc carries the media.

Its parts, a file each: stream/serve/offer_body.py and stream/serve/offer_limiter.py (offers),
stream/serve/session.py (a viewer), stream/serve/sessions.py (the viewers and their memory),
stream/serve/uploads.py (pictures as styles), stream/serve/diagnostics.py, stream/serve/capacity.py
(how many viewers to admit, measured at start-up), stream/serve/batcher.py (every viewer's frame
through one network, where the engine batches: ``--batch``); and the web kit it shares with the
studio (stream/web/: where it listens, the request guard, errors as JSON, the style gallery).

Routes (everything under /api/, /whip and /whep asks for the token when there is one: ``Authorization: Bearer T``
or ``?token=T``):
- ``GET /`` the page; ``GET /static/...`` its script and style sheet;
- ``GET /api/styles`` the built-in styles; ``GET /api/thumbs/NAME.jpg`` each one's thumbnail;
- ``POST /api/offer`` ``{sdp, type}`` -> ``{sdp, type, session}`` (aiortc's examples' shape);
- ``POST /api/style-image`` a picture (body) -> ``{"style": "upload:ID"}`` to pick over the data channel;
- ``POST /whip``, ``POST /whep/ID`` and their resources: WHIP ingest and WHEP playback (stream/serve/whip.py);
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
from pathlib import Path

from aiohttp import web

from engines import Engine, open_engine
from engines.errors import OptionError
from engines.runtimes.cpu import usable_cores
from stream.core.notes import note
from stream.edit.painting_trainer import LIVE_TRAINING_S
from stream.framepath.path import device_for, open_frame_path
from stream.web.errors import Refusal, error_replies
from stream.web.gallery import StyleGallery
from stream.web.request_guard import request_guard
from stream.web.site import open_site, page_address

from .batcher import MAX_BATCH, Batcher
from .capacity import Capacity
from .capacity import measure as measure_capacity
from .diagnostics import TaskErrors, media_tasks, open_fds, resident_mb
from .ice import allowed_addresses, offer_only
from .offer_body import read_offer
from .offer_limiter import OfferLimiter
from .options import ServeOptions
from .playback import Playback
from .session import Session
from .sessions import Sessions
from .uploads import UploadStore
from .whip import PATHS as WHIP_PATHS
from .whip import WhipEndpoints, cross_origin

WEB = Path(__file__).with_name("web")
MAX_IMAGE = 8 * 1024 * 1024


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
        self.gallery = StyleGallery(lambda: self.engine, self._off_loop, opts.style)
        self._tasks: list[asyncio.Future] = []  # started by run, cancelled and awaited when it ends

    def measure(self) -> None:
        """Start-up: how many viewers this machine holds at the server's size (stream/serve/capacity.py)."""
        if self.max_sessions is None:
            self.capacity = measure_capacity(self.engine, self.opts.max_side, usable_cores(),
                                             batched=bool(self.batcher))
            note(self.capacity.line(self.opts.adapt))
            self.max_sessions = self.capacity.admitted

    async def _off_loop(self, fn):
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn)

    # -- routes ---------------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        return web.FileResponse(WEB / "index.html", headers={"Cache-Control": "no-store"})

    async def offer(self, request: web.Request) -> web.Response:
        self.limiter.admit(request.remote or "?")
        sdp, kind, style = await read_offer(request, self.opts.style)
        session = await self.new_session(style)
        try:
            answer = await session.answer(sdp, kind)
        except BaseException:  # a bad offer (OfferError: 400 with its reason) or worse: nothing left open
            await session.close()
            raise
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "session": session.id})

    async def room(self) -> None:
        """A place for one more viewer, publisher or player, else 503."""
        if not await self.sessions.room(self.max_sessions):
            raise Refusal(f"the server is full ({self.max_sessions} viewers); try again later", 503)

    async def new_session(self, style: str) -> Session:
        """A viewer's session (the demo's, or a WHIP publisher's), holding its place from now."""
        await self.room()
        session = Session(self.engine, self.executor, style, self.opts.max_side, self.uploads.viewer_style,
                          self.sessions.closed, self.opts.stun, self.opts.adapt, self.batcher,
                          self.uploads.picture, self.opts.budget(LIVE_TRAINING_S), self.opts.idle_s, self.path)
        self.sessions.add(session)
        return session

    async def bye(self, request: web.Request) -> web.Response:
        """The page is going (``navigator.sendBeacon`` on pagehide): a reload finds its place free."""
        self.sessions.goodbye(request.match_info["session"])
        return web.Response(status=204)  # unknown ids get the same answer: nothing to tell

    async def style_image(self, request: web.Request) -> web.Response:
        return web.json_response({"style": self.uploads.add(await request.read())})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({
            "sessions": len(self.sessions),
            "max_sessions": self.max_sessions,
            "capacity": self.capacity.as_dict() if self.capacity else None,
            "batches": self.batcher.figures() if self.batcher else None,
            "peer_connections": len(self.sessions.connections),
            "sessions_in_memory": len(self.sessions.in_memory),
            "tasks": len(media_tasks()),
            "task_names": sorted(t.get_coro().__qualname__ for t in media_tasks()),
            "fds": open_fds(),
            "rss_mb": resident_mb(),
            "task_errors": self.task_errors.total(),
            "viewers": [{**s.state(), **s.stats.snapshot()} for s in self.sessions.open.values() if isinstance(s, Session)],
            "players": [s.state() for s in self.sessions.open.values() if isinstance(s, Playback)]})

    def app(self) -> web.Application:
        token = self.opts.token
        app = web.Application(middlewares=[cross_origin(token), request_guard(token, ("/api/", *WHIP_PATHS), WHIP_PATHS),
                                           error_replies], client_max_size=MAX_IMAGE)
        app.router.add_get("/", self.page)
        app.router.add_static("/static/", WEB)
        for method, path, handler in self.gallery.routes():
            app.router.add_route(method, path, handler)
        app.router.add_post("/api/offer", self.offer)
        app.router.add_post("/api/style-image", self.style_image)
        app.router.add_post("/api/sessions/{session}/bye", self.bye)
        app.router.add_get("/api/stats", self.stats)
        for method, path, handler in WhipEndpoints(self).routes():
            app.router.add_route(method, path, handler)
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
                            self.gallery.warm()]  # thumbnails ready before the first viewer asks
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
    cores a batch costs what its frames cost one by one: docs/benchmarks/serve.md)."""
    choice = opts.batch
    if choice == "on" and not engine.batches:
        raise OptionError(f"--batch on needs an engine that runs viewers' frames together (cuda); the {engine.name} "
                          "engine runs each frame alone")
    on_gpu = getattr(engine.device, "type", None) == "cuda"
    wanted = choice == "on" or (choice == "auto" and engine.batches and on_gpu)
    return Batcher(engine, opts.batch_wait_ms) if wanted else None
