"""netguard's address policy: which IPs are refused (pure), and that the backend checks every
resolved address before it connects. No test here opens a connection outside loopback."""

from __future__ import annotations

import ipaddress

import httpcore
import pytest

from wirewatch.stages.netguard import AddressPolicy, BlockedAddress, GuardedBackend, classify


@pytest.mark.parametrize(
    "ip, kind",
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "reserved"),
        ("198.18.0.1", "reserved"),
        ("2001:db8::1", "reserved"),
        # IPv6 spellings of IPv4 addresses are judged by the IPv4 address they carry.
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:a00:1::", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
    ],
)
def test_internal_addresses_are_classified(ip, kind):
    assert classify(ipaddress.ip_address(ip)) == kind


@pytest.mark.parametrize(
    "ip",
    [
        "93.184.216.34",
        "1.1.1.1",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "172.32.0.1",
        "100.128.0.1",
    ],
)
def test_public_addresses_pass(ip):
    assert classify(ipaddress.ip_address(ip)) is None
    AddressPolicy().check("news.example", ip)


def test_policy_switches():
    with pytest.raises(BlockedAddress) as e:
        AddressPolicy().check("intranet.example", "10.0.0.5")
    assert str(e.value) == "refused to connect to intranet.example (10.0.0.5): a private address"
    AddressPolicy(allow_private=True).check("intranet.example", "10.0.0.5")
    AddressPolicy(allowed_networks=["10.0.0.0/24"]).check("mirror.example", "10.0.0.5")
    with pytest.raises(BlockedAddress):
        AddressPolicy(allowed_networks=["10.0.0.0/24"]).check("other.example", "10.0.1.5")
    with pytest.raises(BlockedAddress):
        AddressPolicy().check("scoped", "fe80::1%eth0")


class Refuse(httpcore.AsyncNetworkBackend):
    """An inner backend that records what it was asked to connect to and connects to nothing."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.asked.append(host)
        raise httpcore.ConnectError("not in this test")


async def test_every_resolved_address_is_checked_before_any_connect():
    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]  # public first, internal second

    inner = Refuse()
    backend = GuardedBackend(AddressPolicy(), mixed, inner)
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.7"):
        await backend.connect_tcp("rebind.example", 443)
    assert inner.asked == []


async def test_backend_connects_to_the_checked_ip_not_the_name():
    async def one(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "93.184.216.34", "2606:2800:220:1::1"]

    inner = Refuse()
    with pytest.raises(httpcore.ConnectError):
        await GuardedBackend(AddressPolicy(), one, inner).connect_tcp("news.example", 443)
    # Each distinct checked address tried once, by address: no second lookup can swap it.
    assert inner.asked == ["93.184.216.34", "2606:2800:220:1::1"]


async def test_unix_sockets_are_never_used():
    with pytest.raises(httpcore.ConnectError):
        await GuardedBackend(AddressPolicy(allow_private=True)).connect_unix_socket("/var/run/docker.sock")
