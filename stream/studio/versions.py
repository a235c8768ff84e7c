"""Every change to a project is made on the version the page showed, as HTTP has it (RFC 9110):
the project's ``ETag`` is its version; a change names it in ``If-Match``; a change made on a version
that is no longer the project's (another tab or person changed it since) is refused with 412 and
the change that came in between, and one that names none with 428. Nothing a tab saves can then
land on a cut it did not see.

``GET /api/projects/ID/events`` (server-sent events) tells every open page of each change as it
is committed: its version, what it was in words and which tab made it (the ``X-Stylecast-Tab``
header the page sends), so a page follows changes made elsewhere and says who made them.
"""
from __future__ import annotations

import asyncio
import json
import re

from aiohttp import web

from stream.web.errors import Refusal

TAB_HEADER = "X-Stylecast-Tab"
POLL_S = 0.25       # how often a page's event stream looks for a new version
KEEPALIVE_S = 15.0  # a comment line this often, so proxies keep the stream open


class VersionMissing(Refusal):
    """A change that does not say which version of the project it was made on (HTTP 428)."""

    status = 428


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request: web.Request) -> int:
    """The version a change was made on, from its ``If-Match`` (428 without one)."""
    value = request.headers.get("If-Match", "").strip()
    found = re.fullmatch(r'(?:W/)?"(\d+)"', value)
    if not found:
        raise VersionMissing('send the project\'s ETag as If-Match with every change (GET the project first): '
                             'a change is only made on the version it was made on')
    return int(found.group(1))


def tab(request: web.Request) -> str | None:
    """Which page made a change (an id each tab makes for itself), at most 64 characters."""
    value = request.headers.get(TAB_HEADER, "").strip()
    return value[:64] or None


def with_etag(response: web.Response, version: int) -> web.Response:
    response.headers["ETag"] = etag(version)
    return response


async def event_stream(request: web.Request, version_of, stopping: asyncio.Event) -> web.StreamResponse:
    """The project's changes as server-sent events until the page goes or the server stops:
    ``version_of()`` gives (version, what, by) of the project now, or None once it is deleted.
    ``?since=V``: the version the page shows (a change after it and before the stream opened is
    told at once)."""
    since = request.query.get("since", "")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    seen, quiet = (int(since) if since.isdigit() else None), 0.0
    try:
        while not stopping.is_set():
            now = version_of()
            if now is None:
                await response.write(b"event: deleted\ndata: {}\n\n")
                break
            if now[0] != seen:
                if seen is not None:  # the first is where the page starts, not a change
                    data = json.dumps({"version": now[0], "what": now[1], "by": now[2]})
                    await response.write(f"event: change\ndata: {data}\n\n".encode())
                seen, quiet = now[0], 0.0
            elif quiet >= KEEPALIVE_S:
                await response.write(b": still here\n\n")
                quiet = 0.0
            try:
                await asyncio.wait_for(stopping.wait(), POLL_S)
            except asyncio.TimeoutError:
                quiet += POLL_S
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response
