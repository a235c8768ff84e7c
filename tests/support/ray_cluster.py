"""A real two-node Ray cluster on this machine, on loopback only, for tests and benchmarks.

    with LoopbackRayCluster(cpus_per_node=1) as cluster:
        ... stylecast render IN -o OUT --cluster {cluster.address} ...

``ray start --head`` and a second ``ray start --address`` are run as they are on a farm, with one
change: Ray replaces 127.0.0.1 with this machine's outward address before it listens (its
``resolve_ip_for_localhost``), and its own switch for staying on loopback refuses a second node.
So each ``ray start`` here runs Ray's own command with that one function made to keep the address
it is given; every Ray process then listens on 127.0.0.1 alone (``listening_beyond_loopback``
checks it). ``close`` stops them (``ray stop --force``: every Ray process of this user).

    python tests/support/ray_cluster.py start|stop   # the same cluster by hand, on port 6391
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

PORT = 6391
# no usage reports; no token authentication: the cluster is on loopback alone, and a token that
# another Ray on this machine left in ~/.ray would otherwise switch it on for one node and not the other
CLUSTER_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
_START = ("import sys, ray._private.services as s; s.resolve_ip_for_localhost = lambda host: host; "
          "from ray.scripts.scripts import main; sys.exit(main())")


def _ray(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    env = {**os.environ, **CLUSTER_ENV}
    return subprocess.run([sys.executable, "-c", _START, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def listening_beyond_loopback(pids: set[int] | None = None) -> list[str]:
    """TCP sockets of Ray's processes (or of ``pids``) listening on an address other than loopback."""
    inodes: dict[str, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            if pids is not None and int(proc.name) not in pids or pids is None and b"ray" not in cmd:
                continue
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes[target[8:-1]] = int(proc.name)
        except OSError:
            continue
    wide = []
    for table, loopbacks in (("/proc/net/tcp", ("0100007F",)), ("/proc/net/tcp6", ("00000000000000000000000001000000",
                                                                                   "0000000000000000FFFF00000100007F"))):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes and address.split(":")[0] not in loopbacks:
                wide.append(f"pid {inodes[inode]} listens on {address}")
    return wide


class LoopbackRayCluster:
    def __init__(self, cpus_per_node: int = 1, port: int = PORT):
        self.cpus, self.port = cpus_per_node, port
        self.address = f"127.0.0.1:{port}"

    def __enter__(self) -> LoopbackRayCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        common = ["--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}", "--num-gpus=0",
                  "--object-store-memory=100000000", "--disable-usage-stats"]
        head = _ray("start", "--head", f"--port={self.port}", "--include-dashboard=false", *common)
        if head.returncode != 0:
            raise RuntimeError(f"ray start --head failed:\n{head.stdout[-2000:]}{head.stderr[-2000:]}")
        node = _ray("start", f"--address={self.address}", *common)
        if node.returncode != 0:
            self.close()
            raise RuntimeError(f"ray start (second node) failed:\n{node.stdout[-2000:]}{node.stderr[-2000:]}")

    def close(self) -> None:
        _ray("stop", "--force", timeout=60)

    def reachable(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
            return True
        except OSError:
            return False


if __name__ == "__main__":
    cluster = LoopbackRayCluster()
    if sys.argv[1:] == ["start"]:
        cluster.start()
        print(f"a two-node Ray cluster at {cluster.address}; `python tests/support/ray_cluster.py stop` ends it")
    elif sys.argv[1:] == ["stop"]:
        cluster.close()
    else:
        sys.exit(__doc__)
