"""The body of ``POST /api/offer``: JSON ``{sdp, type[, style]}``, at most ``MAX_OFFER`` bytes (a WHIP or
WHEP offer's SDP too: stream/serve/whip.py)."""
from __future__ import annotations

import json

from aiohttp import web

from .peer import OfferError

MAX_OFFER = 64 * 1024


class OfferTooLarge(OfferError):
    """An offer over MAX_OFFER (HTTP 413)."""

    status = 413
    extra: dict = {}


async def offer_bytes(request: web.Request) -> bytes:
    """An offer's body (the demo's JSON, a WHIP or WHEP SDP), never reading more than
    ``MAX_OFFER`` + 1 bytes; OfferTooLarge beyond."""
    if (request.content_length or 0) > MAX_OFFER:
        raise OfferTooLarge(f"offer over {MAX_OFFER // 1024} KiB")
    body = await request.content.read(MAX_OFFER + 1)
    if len(body) > MAX_OFFER:
        raise OfferTooLarge(f"offer over {MAX_OFFER // 1024} KiB")
    return body


async def read_offer(request: web.Request, default_style: str) -> tuple[str, str, str]:
    """(sdp, type, style) of an offer (``offer_bytes``); OfferError with the reason otherwise."""
    body = await offer_bytes(request)
    try:
        params = json.loads(body)
        sdp, kind = params["sdp"], params["type"]
        if not isinstance(sdp, str) or not isinstance(kind, str):
            raise TypeError
        return sdp, kind, str(params.get("style") or default_style)
    except (ValueError, KeyError, TypeError):
        raise OfferError('the body must be JSON {"sdp": "...", "type": "offer"}') from None
