"""WHIP ingest and WHEP playback: OBS (30 and later), a browser or ``stylecast live --sink whip://``
publishes a camera; any WHEP player watches it stylized.

- ``POST /whip[?style=NAME]`` with an SDP offer (``Content-Type: application/sdp``): ``201 Created``,
  the answer as ``application/sdp``, and ``Location: /whip/ID``, the session's resource; a
  ``DELETE`` there ends it. The publisher's camera is stylized as a demo viewer's is (its own look,
  the shared engine), and sent on to its players rather than back (stream/serve/session.py).
- ``POST /whep/ID`` (or ``/whep``: the newest publisher) with an offer that receives video:
  ``201``, the answer, ``Location: /whep/ID/PLAYER``; ``DELETE`` there ends the playback
  (stream/serve/playback.py). Each player is a place of ``--max-sessions``, as a viewer is.
- The server's ``--stun`` servers go with each ``201`` as ``Link: <URL>; rel="ice-server"``.
- ``PATCH`` on either resource (trickle ICE, ICE restart): ``405``. stylecast gathers its
  candidates before it answers and takes an offer's candidates from the offer, so a client that
  waits for its own gathering (OBS does; a page waits for ``iceGatheringState`` ``complete``) needs
  no trickle.

As RFC 9725 asks: the bearer token (``Authorization: Bearer T``, the server's token) on every
request where the server has one, 401 without; 415 for a body that is not ``application/sdp``,
400 for an offer that cannot be used (with the reason), 413 over 64 KiB, 404 for a resource that is
not there, 429 and 503 as for the demo's offers. Browsers' cross-origin requests are answered with
CORS headers (``OPTIONS`` included) where the server asks for its token: the token, not the page's
origin, is what lets a publisher in. A server without one (loopback only) takes requests from its
own pages and from clients that are not pages (OBS, ``stylecast live``), as for its other routes.
"""
from __future__ import annotations

from aiohttp import web

from stream.web.errors import Refusal

from .offer_body import offer_bytes
from .playback import Playback
from .session import Session

SDP = "application/sdp"
PATHS = ("/whip", "/whep")
CORS_HEADERS = {"Access-Control-Allow-Methods": "POST, DELETE, PATCH, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
                "Access-Control-Expose-Headers": "Location, ETag, Link, Accept-Post"}


def cross_origin(token: str | None):
    """aiohttp middleware: CORS for the WHIP and WHEP routes of a server with ``token`` (a
    preflight answered here, before the token is asked for, as browsers send none with it)."""

    @web.middleware
    async def cors(request: web.Request, handler):
        origin = request.headers.get("Origin")
        if not request.path.startswith(PATHS) or not origin or not token:
            return await handler(request)
        allowed = {"Access-Control-Allow-Origin": origin, "Vary": "Origin", **CORS_HEADERS}
        if request.method == "OPTIONS":
            return web.Response(status=204, headers={**allowed, "Accept-Post": SDP})
        response = await handler(request)
        response.headers.update(allowed)
        return response

    return cors


class WhipEndpoints:
    """The routes above, for ``server`` (stream/serve/server.py: its sessions, limits and options)."""

    def __init__(self, server):
        self.server = server

    def routes(self) -> list[tuple[str, str, object]]:
        return [("POST", "/whip", self.publish), ("DELETE", "/whip/{id}", self.unpublish),
                ("PATCH", "/whip/{id}", self.no_patch), ("POST", "/whep", self.play),
                ("POST", "/whep/{id}", self.play), ("DELETE", "/whep/{id}/{player}", self.stop),
                ("PATCH", "/whep/{id}/{player}", self.no_patch)]

    async def publish(self, request: web.Request) -> web.Response:
        server = self.server
        server.limiter.admit(request.remote or "?")
        sdp = await _offer(request)
        session = await server.new_session(request.query.get("style") or server.opts.style)
        session.publishing = True
        try:
            answer = await session.answer(sdp, "offer", send_back=False)
        except BaseException:
            await session.close()
            raise
        return _created(answer.sdp, f"/whip/{session.id}", server.opts.stun)

    async def unpublish(self, request: web.Request) -> web.Response:
        session = self._publisher(request.match_info["id"])
        await session.close()
        return web.Response(status=200)

    async def play(self, request: web.Request) -> web.Response:
        server = self.server
        server.limiter.admit(request.remote or "?")
        wanted = request.match_info.get("id")
        publisher = self._publisher(wanted) if wanted else self._newest()
        sdp = await _offer(request)
        await server.room()
        player = Playback(publisher, server.sessions.closed, server.opts.stun)
        server.sessions.add(player)
        try:
            answer = await player.answer(sdp)
        except BaseException:
            await player.close()
            raise
        return _created(answer.sdp, f"/whep/{publisher.id}/{player.id}", server.opts.stun)

    async def stop(self, request: web.Request) -> web.Response:
        player = self.server.sessions.open.get(request.match_info["player"])
        if not isinstance(player, Playback) or player.publisher.id != request.match_info["id"] or player.closing:
            raise Refusal("no such playback (ended, or never made)", 404)
        await player.close()
        return web.Response(status=200)

    async def no_patch(self, request: web.Request) -> web.Response:
        raise Refusal("no trickle ICE or ICE restart here: candidates go in the offer", 405,
                      headers={"Allow": "POST, DELETE" if request.path.count("/") == 2 else "DELETE"})

    def _publisher(self, session_id: str) -> Session:
        session = self.server.sessions.open.get(session_id)
        if not isinstance(session, Session) or not session.publishing or session.closing:
            raise Refusal("no such publisher (ended, or never made)", 404)
        return session

    def _newest(self) -> Session:
        publishing = [s for s in self.server.sessions.open.values()
                      if isinstance(s, Session) and s.publishing and not s.closing]
        if not publishing:
            raise Refusal("no one is publishing: POST a camera to /whip first", 404)
        return publishing[-1]


async def _offer(request: web.Request) -> str:
    """The SDP offer of a WHIP or WHEP request (``offer_bytes``: at most MAX_OFFER)."""
    if request.content_type != SDP:
        raise Refusal(f"the offer must be {SDP}, got {request.content_type or 'no content type'}", 415)
    body = await offer_bytes(request)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal("the offer is not text (UTF-8 SDP)", 400) from None


def _created(sdp: str, location: str, ice_servers=()) -> web.Response:
    """``201 Created``: the answer, the resource, and the server's STUN/TURN servers as RFC 9725's
    ``Link: <URL>; rel="ice-server"`` headers (the ones ``--stun`` names; none by default)."""
    response = web.Response(status=201, text=sdp, content_type=SDP, headers={"Location": location, "ETag": '"1"'})
    for url in ice_servers:
        response.headers.add("Link", f'<{url}>; rel="ice-server"')
    return response
