"""Address policy of every outgoing connection: a host name and port in, a connected socket to a
checked public IP out, or ``BlockedAddress``.

A shared link is attacker-controlled input, so where it may make us connect is decided here, at
connect time, on the IP we actually connect to: the host is resolved by us, *every* address it
resolves to is checked, and the socket is opened to the checked address (TLS still verifies the
certificate against the host name). A redirect to an internal host, a name that resolves to
127.0.0.1, or a name whose second lookup answers differently (DNS rebinding) therefore all fail
the same way, on every hop, for every user of the client (page fetches, robots.txt, feed polls).

Refused: loopback, private (RFC 1918, IPv6 unique-local), link-local (cloud metadata lives at
169.254.169.254), CGNAT (100.64/10), multicast, and reserved or documentation ranges; IPv6 forms
that embed an IPv4 address (mapped, 6to4, NAT64) are judged by that IPv4 address.
``allow_private_addresses`` turns the policy off (tests and local development on loopback only);
``allowed_networks`` exempts named CIDRs.

    GuardedTransport(policy, ...)   an httpx transport whose every connection passes the policy
    AddressPolicy.check(host, ip)   raises BlockedAddress(reason "blocked_address")
    classify(ip)                    None for a public address, else what kind it is
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from .netstream import AsyncioBackend, Transport

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_V4 = [
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "CGNAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # includes 255.255.255.255
]
_V6 = [
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "private"),
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),  # Teredo and other IETF protocol assignments
    ("2001:db8::/32", "reserved"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "link-local"),
    ("ff00::/8", "multicast"),
]
_BLOCKED: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = [
    (ipaddress.ip_network(net), kind) for net, kind in _V4 + _V6
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_6TO4 = ipaddress.ip_network("2002::/16")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if it stands for one."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def classify(ip: IPAddress) -> str | None:
    """None if ``ip`` is a public unicast address; otherwise the kind of address it is."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        return classify(inner)
    for net, kind in _BLOCKED:
        if ip.version == net.version and ip in net:
            return kind
    # Anything the registries have not made global (new special-purpose blocks) is refused too.
    if not ip.is_global:
        return "reserved"
    return None


class BlockedAddress(httpx.ConnectError):
    """A connection the address policy refused. An httpx.ConnectError, so any client user sees a
    network failure; the fetch stage turns it into PermanentError("blocked_address")."""

    def __init__(self, host: str, ip: str, kind: str) -> None:
        self.host, self.ip, self.kind = host, ip, kind
        shown = host if host == ip else f"{host} ({ip})"
        super().__init__(f"refused to connect to {shown}: a {kind} address")


class UnknownHost(httpx.ConnectError):
    """The host name does not exist (NXDOMAIN): retrying will not make it appear."""


class AddressPolicy:
    def __init__(self, allow_private: bool = False, allowed_networks: Iterable[str] = ()) -> None:
        self.allow_private = allow_private
        self.allowed = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]

    def check(self, host: str, ip: str) -> None:
        if self.allow_private:
            return
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
        if any(addr.version == net.version and addr in net for net in self.allowed):
            return
        kind = classify(addr)
        if kind is not None:
            raise BlockedAddress(host, ip, kind)


def default_backend() -> httpcore.AsyncNetworkBackend:
    """The sockets under the guard: asyncio's own transports (netstream), not anyio's streams."""
    return AsyncioBackend()


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``, in its order of preference."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the policy in front of connect: resolve, check all, connect to one."""

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = inner or default_backend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        # All of them, not just the one we would use: a name answering both a public and an
        # internal address is an attack, and the next lookup may prefer the internal one.
        for ip in addresses:
            self.policy.check(host, ip)
        error: Exception | None = None
        for ip in addresses:
            try:
                return await self.inner.connect_tcp(
                    ip, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e
        assert error is not None
        raise error

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            # A literal address needs no lookup (and must not wait for a resolver thread).
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        try:
            async with asyncio.timeout(timeout):
                found = await self.resolver(host, port)
        except TimeoutError as e:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout}s") from e
        except socket.gaierror as e:
            if e.errno == socket.EAI_NONAME:
                raise UnknownHost(f"{host} does not resolve: {e.strerror}") from e
            raise httpcore.ConnectError(f"resolving {host} failed: {e.strerror or e}") from e
        addresses = list(dict.fromkeys(found))
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        return addresses

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(Transport):
    """An HTTP transport (netstream.Transport) whose every new connection goes through GuardedBackend.

    Built without proxies, unix sockets or environment settings: none of them may route around the guard.
    ``gate``: one shared by several transports bounds their requests in flight together.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        limits: httpx.Limits,
        *,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        super().__init__(limits, ssl_context=ssl_context, backend=GuardedBackend(policy, resolver), gate=gate)


class Releasing(httpx.AsyncByteStream):
    def __init__(self, stream: typing.Any, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
