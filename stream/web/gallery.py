"""The style gallery a page shows: ``GET /api/styles`` (every built-in style, the default first
chosen, and where its thumbnail is) and ``GET /api/thumbs/NAME.jpg`` (the built-in test scene in
that style, made once on first asking, off the event loop)."""
from __future__ import annotations

import asyncio
from typing import Callable

from aiohttp import web

from engines import BUILTIN_NAMES, Engine, resolve

from .errors import Refusal
from .thumbnails import style_thumbnails


class StyleGallery:
    """``engine()`` gives the engine the thumbnails are made with; ``run(fn)`` runs off the loop."""

    def __init__(self, engine: Callable[[], Engine], run, default: str):
        self._engine, self._run, self.default = engine, run, default
        self._thumbs: asyncio.Future | None = None

    async def styles(self, request: web.Request) -> web.Response:
        return web.json_response({"default": resolve(self.default).name, "styles": [
            {"index": i, "name": name, "thumb": f"/api/thumbs/{name}.jpg"} for i, name in enumerate(BUILTIN_NAMES)]})

    def warm(self) -> asyncio.Future:
        """Start making the thumbnails (once); a server calls it at start-up, before a page asks."""
        if self._thumbs is None:
            self._thumbs = asyncio.ensure_future(self._run(lambda: style_thumbnails(self._engine())))
        return self._thumbs

    async def thumb(self, request: web.Request) -> web.Response:
        image = (await self.warm()).get(request.match_info["name"])
        if image is None:
            raise Refusal("no such style", 404)
        return web.Response(body=image, content_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})

    def routes(self) -> list[tuple]:
        return [("GET", "/api/styles", self.styles), ("GET", "/api/thumbs/{name}.jpg", self.thumb)]
