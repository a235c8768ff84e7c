"""How a page's server says what went wrong: one line of JSON (``{"error": ...}``) with the status
the error calls for, from one middleware, so a handler raises and never maps errors itself.

An error that carries its own ``status`` (a refusal: 413 too large, 429 too many, 503 full, 412 a
stale change...) answers with it, and with its ``extra`` fields; ``InputError`` is 404 for what is
not there and 415 for what is there but cannot be read; any other ``StylecastError`` is 400.
"""
from __future__ import annotations

from aiohttp import web

from engines.errors import InputError, StylecastError


class Refusal(StylecastError):
    """A request refused with its own HTTP status (and any ``extra`` fields in the reply, and
    ``headers``)."""

    status = 400

    def __init__(self, message: str, status: int | None = None, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status = status or self.status
        self.headers, self.extra = headers or {}, extra


def json_error(status: int, reason: str, headers: dict | None = None, **extra) -> web.Response:
    return web.json_response({"error": reason, **extra}, status=status, headers=headers)


def status_of(exc: StylecastError) -> int:
    if isinstance(getattr(type(exc), "status", None), int):  # an error that says its own status
        return exc.status
    if isinstance(exc, InputError):
        return 404 if "not found" in str(exc) else 415
    return 400


@web.middleware
async def error_replies(request: web.Request, handler):
    """A handler's StylecastError as its 4xx with its one line."""
    try:
        return await handler(request)
    except StylecastError as exc:
        return json_error(status_of(exc), str(exc), getattr(exc, "headers", None), **getattr(exc, "extra", {}))
