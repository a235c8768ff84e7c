"""The live control endpoint: a small HTTP server on loopback by default.

``GET /stats`` -> the live figures and the current style; ``POST /style`` with JSON
``{"style": ..., "strength": ..., "keep_colors": ..., "stability": ...}`` (any subset) -> the new state.
Bad values get 400 with the reason; bodies over 64 KiB get 413.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from engines.errors import OptionError, StylecastError
from stream.styling.controls import parse_controls

MAX_BODY = 64 * 1024


def parse_address(spec: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` -> (host, port); the host defaults to 127.0.0.1."""
    host, _, port = spec.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise OptionError(f"--control takes HOST:PORT, got {spec!r}") from None
    if not 0 <= number <= 65535:
        raise OptionError(f"--control port must be 0 to 65535, got {number}")
    return host or "127.0.0.1", number


class ControlServer:
    """Serves ``job.snapshot()`` and ``job.control(**fields)`` (a live job) on ``spec`` (HOST:PORT)."""

    def __init__(self, spec: str, job):
        host, port = parse_address(spec)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: the status line is the operator's view
                pass

            def _reply(self, code: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/stats":
                    self._reply(200, job.snapshot())
                else:
                    self._reply(404, {"error": "not found; use GET /stats or POST /style"})

            def do_POST(self):
                if self.path != "/style":
                    return self._reply(404, {"error": "not found; use GET /stats or POST /style"})
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    return self._reply(413, {"error": f"body over {MAX_BODY} bytes"})
                try:
                    self._reply(200, job.control(**parse_controls(self.rfile.read(length))))
                except StylecastError as exc:
                    self._reply(400, {"error": str(exc)})

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise OptionError(f"cannot listen on {host}:{port} for --control: {exc.strerror}") from None
        self.address = self.server.server_address
        self.thread = threading.Thread(target=self.server.serve_forever, name="control", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
