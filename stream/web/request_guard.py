"""The check every request to a page's server passes (the demo's, the studio's): the page's own
origin, and the token.

A request from another page's ``Origin`` gets 403 (but where a token is asked for on routes meant
for other programs' pages, WHIP and WHEP). Where the server has a token (it must when it is bound
beyond loopback), everything under its protected paths (/api/ by default) asks for it, as
``Authorization: Bearer T`` or ``?token=T``, compared in constant time; without it 401. A body
over the server's limit is 413.
"""
from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web

from .errors import json_error


def request_guard(token: str | None, protected: tuple[str, ...] = ("/api/",), open_to_pages: tuple[str, ...] = ()):
    """aiohttp middleware for a server with ``token`` (None: no token asked) on the paths that
    start with one of ``protected``. Under ``open_to_pages`` (WHIP and WHEP), a server with a token
    takes other pages' requests too: the token, not the origin, lets them in."""

    @web.middleware
    async def guard(request: web.Request, handler):
        origin = request.headers.get("Origin")
        foreign = origin and origin != "null" and urlsplit(origin).netloc != request.host
        if foreign and not (token and request.path.startswith(open_to_pages)):
            return json_error(403, f"requests from {origin} are not allowed")
        if request.path.startswith(protected) and token:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() \
                or request.query.get("token", "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return json_error(401, "this server needs its token: open the address `stylecast serve` printed")
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return json_error(413, "request body too large")

    return guard
