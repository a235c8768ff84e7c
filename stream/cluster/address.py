"""Where a cluster render runs: ``--cluster auto`` (the Ray cluster this machine belongs to),
``HOST:PORT`` (a Ray cluster's head), ``local:N`` (Ray started here with N workers), or ``here``
(no Ray: the chunks rendered one after another in this process; what the studio uses when it is
given no cluster, for the same resumable chunks).

Ray is imported only here and only for ``--cluster``. Ray turns 127.0.0.1 into this machine's
outward address before it connects or listens; for a loopback head and for ``local:N`` it is
told to stay on loopback (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which only changes how Ray
resolves "localhost" on Linux), so nothing listens beyond this machine.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass

from engines.errors import EngineUnavailable, OptionError

LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
MAX_LOCAL_WORKERS = 256
REACH_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class ClusterAddress:
    kind: str                   # auto, head, local or here
    host: str | None = None
    port: int | None = None
    workers: int | None = None  # local:N

    @property
    def loopback(self) -> bool:
        if self.kind == "local":
            return True
        if self.kind != "head":
            return False
        try:
            return self.host == "localhost" or ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return {"auto": "auto", "here": "here", "local": f"local:{self.workers}"}.get(self.kind, f"{self.host}:{self.port}")


def parse_cluster(spec: str) -> ClusterAddress:
    spec = str(spec).strip()
    if spec in ("auto", "here"):
        return ClusterAddress(spec)
    head, _, tail = spec.rpartition(":")
    if head == "local":
        if not tail.isdigit() or not 1 <= int(tail) <= MAX_LOCAL_WORKERS:
            raise OptionError(f"--cluster local:N takes 1 to {MAX_LOCAL_WORKERS} workers, got {spec!r}")
        return ClusterAddress("local", workers=int(tail))
    if head and tail.isdigit() and 1 <= int(tail) <= 65535:
        return ClusterAddress("head", head.strip("[]"), int(tail))
    raise OptionError(f"--cluster takes auto, HOST:PORT (a Ray head), local:N or here, got {spec!r}")


def check_cluster(opts) -> None:
    """What a cluster render cannot do, refused before anything runs."""
    from stream.media.sequence_output import is_sequence_output

    parse_cluster(opts.cluster)
    if not 1 <= opts.chunk_seconds <= 3600:
        raise OptionError(f"--chunk-seconds must be between 1 and 3600, got {opts.chunk_seconds:g}")
    if is_sequence_output(opts.output):
        raise OptionError("--cluster writes a video file; render an image sequence without it")
    if opts.start is not None or opts.end is not None:
        raise OptionError("--cluster renders the whole input; render a --from/--to range without it")
    if opts.input is not None and opts.input.exists() and opts.input.is_dir():
        raise OptionError("--cluster takes a video file; render an image sequence without it")


def check_reachable(address: ClusterAddress) -> None:
    """A head that does not answer is one clear line, before any work (Ray itself would retry for a minute)."""
    if address.kind == "head":
        try:
            socket.create_connection((address.host, address.port), timeout=REACH_TIMEOUT_S).close()
        except OSError as exc:
            raise OptionError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def connect(address: ClusterAddress):
    """Ray, connected to (or started as) the cluster; one clear line when it cannot be."""
    if address.loopback:
        os.environ.setdefault(LOOPBACK_ENV, "0")
    try:
        import ray
    except ImportError:
        raise EngineUnavailable("--cluster needs Ray: pip install 'stylecast[cluster]'") from None
    check_reachable(address)
    quiet = {"log_to_driver": False, "logging_level": "ERROR", "configure_logging": True}
    try:
        if address.kind == "local":
            # "local": a new cluster here, never one already running on this machine
            ray.init(address="local", num_cpus=address.workers, include_dashboard=False, **quiet)
        else:
            ray.init(address="auto" if address.kind == "auto" else f"{address.host}:{address.port}", **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise OptionError(f"cannot join the Ray cluster at {address}: {str(exc).splitlines()[0][:200]}") from None
    return ray
