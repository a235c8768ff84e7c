"""Which of this host's addresses the WebRTC server offers as ICE candidates.

aioice offers every address of every interface, which would hand a viewer the host's docker
bridges and VPN addresses. The server offers only what the user allows: by default the address it
is bound to (127.0.0.1 for the loopback default, so a local browser connects over loopback); when
bound to all interfaces, every address but loopback, link-local, container bridges and VPN tunnels.
``--ice-address`` names the allowed addresses outright.
"""
from __future__ import annotations

import ipaddress

from engines.errors import OptionError
from stream.web.site import is_loopback

# interface name prefixes of container bridges and VPN tunnels: never offered unless named
HIDDEN_INTERFACES = ("docker", "br-", "veth", "virbr", "cni", "flannel", "tun", "tap", "wg", "tailscale",
                     "zt", "utun", "ppp", "ipsec")
ANY = ("0.0.0.0", "::", "")


def interface_addresses() -> list[tuple[str, str]]:
    """(interface name, address) for every address of this host."""
    import ifaddr  # aioice's own dependency

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            found.append((adapter.nice_name, ip.ip if isinstance(ip.ip, str) else ip.ip[0]))
    return found


def allowed_addresses(bind_host: str, named: list[str] | None = None) -> list[str]:
    """The addresses to offer for a server bound to ``bind_host``; ``named`` overrides the default."""
    if named:
        for address in named:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise OptionError(f"--ice-address takes an IP address, got {address!r}") from None
        return list(named)
    if is_loopback(bind_host):
        return ["127.0.0.1"]
    if bind_host not in ANY:
        return [bind_host]
    offered = []
    for name, address in interface_addresses():
        ip = ipaddress.ip_address(address)
        if ip.is_loopback or ip.is_link_local or name.startswith(HIDDEN_INTERFACES):
            continue
        offered.append(address)
    return offered


def offer_only(addresses: list[str]) -> None:
    """Make aioice gather host candidates on ``addresses`` only (for this process)."""
    import aioice.ice

    chosen = list(addresses)

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = host_addresses
