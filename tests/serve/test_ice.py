"""Which host addresses the WebRTC server offers as ICE candidates."""
from __future__ import annotations

import asyncio
import json
import re

import pytest
from support.server_process import ServerProcess
from support.webrtc_client import SceneCamera

from engines.errors import OptionError
from stream.serve import ice

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

HOST = [("lo", "127.0.0.1"), ("lo", "::1"), ("eth0", "192.168.1.20"), ("eth0", "fe80::1"), ("eth0", "2001:db8::20"),
        ("docker0", "172.17.0.1"), ("br-3f2a", "172.18.0.1"), ("veth12ab", "169.254.3.3"), ("tun0", "10.8.0.2"),
        ("wg0", "10.9.0.1"), ("tailscale0", "100.101.102.103")]


@pytest.fixture
def host(monkeypatch):
    monkeypatch.setattr(ice, "interface_addresses", lambda: HOST)


def test_loopback_binding_offers_loopback_only(host):
    assert ice.allowed_addresses("127.0.0.1") == ["127.0.0.1"]
    assert ice.allowed_addresses("localhost") == ["127.0.0.1"]


def test_all_interfaces_offer_no_container_vpn_or_link_local_addresses(host):
    assert ice.allowed_addresses("0.0.0.0") == ["192.168.1.20", "2001:db8::20"]


def test_a_specific_address_or_a_named_list(host):
    assert ice.allowed_addresses("192.168.1.20") == ["192.168.1.20"]
    assert ice.allowed_addresses("0.0.0.0", ["10.8.0.2"]) == ["10.8.0.2"]  # the user may allow a VPN
    with pytest.raises(OptionError, match="IP address"):
        ice.allowed_addresses("0.0.0.0", ["vpn.example"])


def test_answers_carry_only_allowed_host_candidates_and_no_stun():
    async def offer() -> str:
        from aiortc import RTCConfiguration, RTCPeerConnection

        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(SceneCamera())
        await pc.setLocalDescription(await pc.createOffer())
        await pc.close()
        return pc.localDescription.sdp

    sdp = asyncio.run(offer())
    with ServerProcess("--max-sessions", "2") as srv:
        status, answer = srv.request("POST", "/api/offer", json.dumps({"sdp": sdp, "type": "offer"}).encode())
    assert status == 200
    candidates = re.findall(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ (\S+)", answer["sdp"])
    assert candidates and {addr for addr, _ in candidates} == {"127.0.0.1"}
    assert {kind for _, kind in candidates} == {"host"}  # no server-reflexive: no STUN server was asked
