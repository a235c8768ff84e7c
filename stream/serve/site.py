"""Listening: an aiohttp application on a host and port, one clear error when it cannot, and the
address to open (the demo server's and the studio's)."""
from __future__ import annotations

from aiohttp import web

from engines.errors import OptionError


async def open_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """The running application and the port it listens on (``port`` 0 picks a free one); call
    ``runner.cleanup()`` to stop it."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise OptionError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return runner, site._server.sockets[0].getsockname()[1]


def page_address(host: str, port: int, token: str | None) -> str:
    """The page's address to print, with the token to open it by when there is one."""
    host = host if ":" not in host else f"[{host}]"
    return f"http://{host}:{port}/" + (f"?token={token}" if token else "")
