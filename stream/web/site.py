"""Listening: where a page is served (``SiteOptions``: host, port, token), an aiohttp application
on them, one clear error when it cannot, and the address to open (the demo server's and the
studio's)."""
from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from engines.errors import OptionError

if TYPE_CHECKING:  # aiohttp is imported by the servers that run: the CLI reads SiteOptions for its help alone
    from aiohttp import web

SHUTDOWN_S = 2.0  # seconds a request still being answered gets when the server stops (then it is cut)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback only (where no token is needed)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(kw_only=True)
class SiteOptions:
    """Where a page is served. Safe by default: bound to loopback; any other address needs a token."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None

    def check(self) -> None:
        if not 0 <= self.port <= 65535:
            raise OptionError(f"--port must be 0 to 65535, got {self.port}")

    def with_token(self):
        """These options, with a token made (to be printed in the address) when bound beyond
        loopback without one."""
        if self.token is None and not is_loopback(self.host):
            return replace(self, token=secrets.token_urlsafe(16))
        return self


async def open_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """The running application and the port it listens on (``port`` 0 picks a free one); call
    ``runner.cleanup()`` to stop it."""
    from aiohttp import web

    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_S)
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
