"""`stylecast serve` (or `studio`) as a real child process, for tests and benchmarks: started on a
free port, its printed address read back, stopped with SIGTERM (and its exit status kept) or
killed outright (``kill``: a crash, for the tests of what survives one)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import deque

READY_S = 60.0


class ServerProcess:
    def __init__(self, *args: str, cwd: str | None = None, command: str = "serve"):
        """``cwd``: the checkout whose stylecast runs (default: the one on the path)."""
        self.proc = subprocess.Popen([sys.executable, "-m", "stream.cli", command, "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self.proc.stdout.readline()  # "stylecast: serving on URL" / "stylecast: studio on URL (folder F)"
        if " on http" not in line:
            self.proc.kill()
            raise RuntimeError(f"stylecast {command} did not start: {line!r} {self.proc.stderr.read()[-2000:]}")
        self.url = line.split(" on ", 1)[1].split()[0].strip()  # may carry ?token=
        self.base = self.url.split("?", 1)[0].rstrip("/")
        self.token = self.url.split("token=", 1)[1] if "token=" in self.url else None
        self.returncode: int | None = None
        self._err_tail: deque = deque(maxlen=200)  # drained all along: a full pipe would block the server
        self._drain = threading.Thread(target=lambda: self._err_tail.extend(self.proc.stderr), daemon=True)
        self._drain.start()
        self.stderr = ""

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                token: bool = True) -> tuple[int, dict]:
        """(status, JSON body) of one request to the server."""
        headers = dict(headers or {})
        if token and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as reply:
                data = reply.read()
                status = reply.status
        except urllib.error.HTTPError as err:
            data, status = err.read(), err.code
        try:
            return status, json.loads(data)
        except ValueError:
            return status, {"bytes": len(data)}

    def stderr_text(self) -> str:
        """What the server has written to stderr so far (the last 200 lines)."""
        return "".join(self._err_tail)

    def stats(self) -> dict:
        return self.request("GET", "/api/stats")[1]

    def stop(self, timeout: float = 10.0) -> int:
        if self.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.returncode = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.returncode = self.proc.wait()
            self._drain.join(5)
            self.stderr = self.stderr_text()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL: the server stops at once, as in a crash or a power cut."""
        self.proc.kill()
        self.returncode = self.proc.wait()
        self._drain.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
