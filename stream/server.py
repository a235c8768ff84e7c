"""The WebRTC demo server: aiohttp serves the page and answers offers; aiortc carries the media.

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
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import time
from collections import Counter, OrderedDict, defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlsplit

from aiohttp import web

from engines import BUILTIN_NAMES, DEFAULT_STYLE, open_engine, resolve
from engines.cpu import usable_cores
from engines.errors import OptionError, StyleError
from engines.heap import give_back_freed_memory

from .capacity import measure as measure_capacity
from .ice import allowed_addresses, is_loopback, offer_only
from .notes import note
from .webrtc import IN_MEMORY, OPEN_CONNECTIONS, OfferError, Session

WEB = Path(__file__).with_name("web")
MAX_OFFER = 64 * 1024
MAX_IMAGE = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_UPLOADS = 32
WINDOW_S = 10.0  # offers are counted per client address over this window
RELEASE_EVERY_S = 1.0  # how often closed sessions still in memory are collected
THUMB_WIDTH = 160
UPLOAD_PREFIX = "upload:"
_PART = r"\s*[A-Za-z0-9-]+\s*(:\s*[0-9.eE+-]*\s*)?"
BLEND = re.compile(rf"{_PART}(,{_PART})*")  # names or indices with optional weights: never a path


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    style: str = DEFAULT_STYLE
    max_sessions: int | None = None   # None: 80% of the viewers this machine holds, measured at start
    token: str | None = None
    max_side: int = 640
    engine: str = "auto"
    precision: str = "auto"  # the CPU engine's: bf16 where the CPU has it, else fp32
    stun: list[str] = field(default_factory=list)
    ice_addresses: list[str] | None = None
    offers_per_window: int = 10       # per client address per WINDOW_S; more get 429

    def check(self) -> None:
        if not 0 <= self.port <= 65535:
            raise OptionError(f"--port must be 0 to 65535, got {self.port}")
        if self.offers_per_window < 1:
            raise OptionError(f"--offer-rate must be at least 1, got {self.offers_per_window}")
        if self.max_sessions is not None and self.max_sessions < 1:
            raise OptionError(f"--max-sessions must be at least 1, got {self.max_sessions}")
        if not 32 <= self.max_side <= 4096:
            raise OptionError(f"--max-side must be between 32 and 4096 pixels, got {self.max_side}")
        for url in self.stun:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise OptionError(f"--stun takes a stun: or turn: URL, got {url!r}")
        if resolve(self.style).kind != "builtin":
            raise OptionError("serve's --style takes a built-in style or blend (viewers upload their own pictures)")


def media_tasks() -> list[asyncio.Task]:
    """The running tasks but aiohttp's own (one per open HTTP connection, which browsers keep alive)."""
    return [t for t in asyncio.all_tasks() if not t.get_coro().__qualname__.startswith("RequestHandler.")]


def resident_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory in MiB (this one by default), where the system says (Linux)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return round(kb / 1024, 1)
    except (OSError, StopIteration, ValueError):
        return None


def open_fds() -> int | None:
    """Open file descriptors of this process (sockets included), where the system says (Linux)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _json_error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


class StyleServer:
    def __init__(self, opts: ServeOptions):
        opts.check()
        if opts.token is None and not is_loopback(opts.host):
            opts.token = secrets.token_urlsafe(16)
        self.opts = opts
        # single-thread runs, several frames at once: more frames per second than one frame on all cores
        self.engine = open_engine(opts.engine, opts.style, throughput=True, max_side=opts.max_side, notes=note,
                                  precision=opts.precision)
        self.executor = ThreadPoolExecutor(max_workers=self.engine.parallel_frames + 1, thread_name_prefix="stylize")
        self.capacity = None
        if opts.max_sessions is None:
            self.capacity = measure_capacity(self.engine, opts.max_side, usable_cores())
            note(self.capacity.line())
        self.max_sessions = opts.max_sessions or self.capacity.admitted
        self.sessions: dict[str, Session] = {}
        self.ice = allowed_addresses(opts.host, opts.ice_addresses)
        self._uploads_dir = TemporaryDirectory(prefix="stylecast-uploads-")
        self._uploads: OrderedDict[str, Path] = OrderedDict()
        self._offers: dict[str, deque] = defaultdict(deque)
        self._thumbs: asyncio.Future | None = None
        self.task_errors: Counter = Counter()  # errors in aiortc's own tasks, by kind (hostile offers cause them)

    # -- styles a viewer may pick ---------------------------------------------------------------
    def viewer_style(self, spec: str):
        """Built-in styles, blends and this server's uploads only: a viewer never names a server file
        (checked on the text, before anything looks at the disk)."""
        if spec.startswith(UPLOAD_PREFIX):
            path = self._uploads.get(spec[len(UPLOAD_PREFIX):])
            if path is None:
                raise StyleError("that uploaded picture is no longer on the server; upload it again")
            return resolve(path)
        if not BLEND.fullmatch(spec.strip()):
            raise StyleError("pick a built-in style or blend, or upload a picture")
        return resolve(spec)

    def _render_thumbs(self) -> dict[str, bytes]:
        import cv2

        from engines.sheet import style_tiles

        from .testsrc import TestScene

        picture = TestScene(640, 360).frame(1.0)
        tiles = style_tiles(self.engine, picture, THUMB_WIDTH)[1:]
        return {name: cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))[1].tobytes()
                for name, (_, image) in zip(BUILTIN_NAMES, tiles)}

    async def thumbs(self) -> dict[str, bytes]:
        if self._thumbs is None:
            self._thumbs = asyncio.get_running_loop().run_in_executor(self.executor, self._render_thumbs)
        return await self._thumbs

    # -- the guard every request passes ---------------------------------------------------------
    @web.middleware
    async def guard(self, request: web.Request, handler):
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            return _json_error(403, f"requests from {origin} are not allowed")
        if request.path.startswith("/api/") and self.opts.token:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() \
                or request.query.get("token", "")
            if not hmac.compare_digest(given.encode(), self.opts.token.encode()):
                return _json_error(401, "this server needs its token: open the address `stylecast serve` printed")
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return _json_error(413, "request body too large")

    def _limited(self, request: web.Request) -> bool:
        """True when the client's address sent too many offers in the last window."""
        now, recent = time.monotonic(), self._offers[request.remote or "?"]
        while recent and now - recent[0] > WINDOW_S:
            recent.popleft()
        recent.append(now)
        return len(recent) > self.opts.offers_per_window

    # -- routes ---------------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        return web.FileResponse(WEB / "index.html", headers={"Cache-Control": "no-store"})

    async def styles(self, request: web.Request) -> web.Response:
        return web.json_response({"default": resolve(self.opts.style).name, "styles": [
            {"index": i, "name": name, "thumb": f"/api/thumbs/{name}.jpg"} for i, name in enumerate(BUILTIN_NAMES)]})

    async def thumb(self, request: web.Request) -> web.Response:
        image = (await self.thumbs()).get(request.match_info["name"])
        if image is None:
            return _json_error(404, "no such style")
        return web.Response(body=image, content_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})

    async def offer(self, request: web.Request) -> web.Response:
        if self._limited(request):
            return _json_error(429, f"too many offers; at most {self.opts.offers_per_window} per {WINDOW_S:g} s")
        if (request.content_length or 0) > MAX_OFFER:
            return _json_error(413, f"offer over {MAX_OFFER // 1024} KiB")
        body = await request.content.read(MAX_OFFER + 1)
        if len(body) > MAX_OFFER:
            return _json_error(413, f"offer over {MAX_OFFER // 1024} KiB")
        try:
            params = json.loads(body)
            sdp, kind = params["sdp"], params["type"]
            if not isinstance(sdp, str) or not isinstance(kind, str):
                raise TypeError
            style = params.get("style") or self.opts.style
        except (ValueError, KeyError, TypeError):
            return _json_error(400, 'the body must be JSON {"sdp": "...", "type": "offer"}')
        if len(self.sessions) >= self.max_sessions:
            return _json_error(503, f"the server is full ({self.max_sessions} viewers); try again later")
        try:
            session = Session(self.engine, self.executor, str(style), self.opts.max_side, self.viewer_style,
                              self._closed, self.opts.stun)
        except StyleError as exc:
            return _json_error(400, str(exc))
        self.sessions[session.id] = session
        try:
            answer = await session.answer(sdp, kind)
        except OfferError as exc:
            await session.close()
            return _json_error(400, str(exc))
        except BaseException:
            await session.close()
            raise
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "session": session.id})

    async def style_image(self, request: web.Request) -> web.Response:
        from PIL import Image

        body = await request.read()
        try:
            with Image.open(io.BytesIO(body)) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise ValueError("picture too large")
                picture = img.convert("RGB")
        except Exception as exc:  # PIL raises many kinds on a bad file
            return _json_error(400, f"not a picture stylecast can read ({exc})")
        upload_id = hashlib.sha256(body).hexdigest()[:16]
        path = Path(self._uploads_dir.name) / f"{upload_id}.png"
        if upload_id not in self._uploads:
            picture.save(path)
            self._uploads[upload_id] = path
            while len(self._uploads) > MAX_UPLOADS:
                _, old = self._uploads.popitem(last=False)
                old.unlink(missing_ok=True)
        self._uploads.move_to_end(upload_id)
        return web.json_response({"style": UPLOAD_PREFIX + upload_id})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({
            "sessions": len(self.sessions),
            "max_sessions": self.max_sessions,
            "capacity": self.capacity.as_dict() if self.capacity else None,
            "peer_connections": len(OPEN_CONNECTIONS),
            "sessions_in_memory": len(IN_MEMORY),
            "tasks": len(media_tasks()),
            "fds": open_fds(),
            "rss_mb": resident_mb(),
            "task_errors": sum(self.task_errors.values()),
            "viewers": [{**s.state(), **s.stats.snapshot()} for s in self.sessions.values()]})

    def _closed(self, session: Session) -> None:
        self.sessions.pop(session.id, None)

    async def _release_memory(self) -> None:
        """A closed session lives on in reference cycles (its peer connection's callbacks, aiortc's
        transports), holding its frames, stabilizer state and RTP history until the collector's next
        full pass, which on a quiet server can be many viewers away (the soak of issue #8 grew 5% over
        200 viewers). So while more sessions are in memory than open, collect every second (start-up's
        objects are frozen out of the collector's sight: about 1 ms), and give the freed heap back."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(RELEASE_EVERY_S)
            if len(IN_MEMORY) > len(self.sessions):
                gc.collect()
                if len(IN_MEMORY) == len(self.sessions):
                    await loop.run_in_executor(None, give_back_freed_memory)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard], client_max_size=MAX_IMAGE)
        app.router.add_get("/", self.page)
        app.router.add_static("/static/", WEB)
        app.router.add_get("/api/styles", self.styles)
        app.router.add_get("/api/thumbs/{name}.jpg", self.thumb)
        app.router.add_post("/api/offer", self.offer)
        app.router.add_post("/api/style-image", self.style_image)
        app.router.add_get("/api/stats", self.stats)
        app.on_shutdown.append(self._shutdown)
        return app

    async def _shutdown(self, app) -> None:
        await asyncio.gather(*(s.close() for s in list(self.sessions.values())), return_exceptions=True)

    def address(self, port: int) -> str:
        host = self.opts.host if ":" not in self.opts.host else f"[{self.opts.host}]"
        url = f"http://{host}:{port}/"
        return url + (f"?token={self.opts.token}" if self.opts.token else "")

    def _task_error(self, loop, context: dict) -> None:
        """Errors inside aiortc's tasks (a malformed offer can cause thousands): one note per kind,
        then counted in /api/stats, so a hostile client cannot flood the log."""
        exc = context.get("exception")
        kind = f"{type(exc).__name__}: {exc}"[:160] if exc else str(context.get("message"))[:160]
        self.task_errors[kind] += 1
        if self.task_errors[kind] == 1:
            note(f"a connection task failed ({kind}); more are counted in /api/stats")

    async def run(self, stop: asyncio.Event, ready=None) -> None:
        """Serve until ``stop`` is set; ``ready(url)`` is called once listening."""
        offer_only(self.ice)
        asyncio.get_running_loop().set_exception_handler(self._task_error)
        runner = web.AppRunner(self.app(), handle_signals=False, access_log=None)
        await runner.setup()
        releasing = asyncio.ensure_future(self._release_memory())
        try:
            site = web.TCPSite(runner, self.opts.host, self.opts.port)
            try:
                await site.start()
            except OSError as exc:
                raise OptionError(f"cannot listen on {self.opts.host}:{self.opts.port}: {exc.strerror}") from None
            port = site._server.sockets[0].getsockname()[1]
            asyncio.ensure_future(self.thumbs())  # ready before the first viewer asks
            gc.collect()  # start-up's garbage (the capacity measurement's) first, so none is frozen with it
            gc.freeze()  # start-up's objects (torch, aiortc, the engine) stay; see _release_memory
            if ready:
                ready(self.address(port))
            await stop.wait()
        finally:
            releasing.cancel()
            await runner.cleanup()
            self.executor.shutdown(wait=False, cancel_futures=True)
            self._uploads_dir.cleanup()
