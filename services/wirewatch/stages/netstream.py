"""httpcore's network layer written on asyncio itself: a host and port in, httpcore's byte stream
over a connected (optionally TLS) socket out, or httpcore's ConnectError/ReadError/... family.

httpx on asyncio reaches its sockets through anyio (``httpcore.AnyIOBackend``): each read and
each write opens a cancel scope with a deadline, each connect runs a task group (happy eyeballs
over addresses netguard has already chosen), and each check of an idle connection before reuse
(``is_readable``) is a poll() system call. Per request that was about a fifth of the fetch side's
event-loop CPU. This backend is one ``asyncio.Protocol`` per connection with a buffer of what the
socket gave: a read takes from the buffer and waits (with a timer) only when it is empty, a write
hands the bytes to the transport and waits only when the transport asks it to, and an idle
connection is "readable" when the protocol already holds data, an end of stream or an error.

Timeouts and errors mean what they mean in httpcore's own backends: ConnectTimeout/ConnectError
(TLS failures chain the ``ssl.SSLError``, so http_get still tells ``tls_error``), ReadTimeout and
ReadError, WriteTimeout and WriteError; a read at the end of the stream returns ``b""``.

    Transport(limits, ssl_context=..., backend=...)   an httpx transport on these sockets: the
        fetch client's (netguard.GuardedTransport, whose backend checks addresses first) and the
        alert channels' (sinks/http_errors.client)
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import typing

import httpcore
import httpx

# Bytes a connection may hold unread before it stops reading the socket (the server then waits):
# httpcore reads 64 KiB at a time, and http_get caps a body long before memory matters.
_HIGH_WATER = 256 * 1024


class _Protocol(asyncio.Protocol):
    """What the socket gave and has not been read yet, its end, its error, and who waits for them."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.paused_reading = False
        self.paused_writing = False
        self._reader: asyncio.Future[None] | None = None
        self._writer: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and not self.paused_reading and self.transport is not None:
            self.paused_reading = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake_reader()
        return None  # close our side too: HTTP/1.1 has nothing to send once the server is done

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if exc is not None and self.error is None:
            self.error = exc
        self._wake_reader()
        self._wake_writer()

    def pause_writing(self) -> None:
        self.paused_writing = True

    def resume_writing(self) -> None:
        self.paused_writing = False
        self._wake_writer()

    def take(self, max_bytes: int) -> bytes:
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            self.chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        self.buffered -= len(chunk)
        if self.paused_reading and self.buffered <= _HIGH_WATER // 2 and self.transport is not None:
            self.paused_reading = False
            self.transport.resume_reading()
        return chunk

    async def wait_readable(self, timeout: float | None) -> None:
        self._reader = waiter = asyncio.get_running_loop().create_future()
        await _within(waiter, timeout, httpcore.ReadTimeout)

    async def wait_writable(self, timeout: float | None) -> None:
        self._writer = waiter = asyncio.get_running_loop().create_future()
        await _within(waiter, timeout, httpcore.WriteTimeout)

    def _wake_reader(self) -> None:
        waiter, self._reader = self._reader, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_writer(self) -> None:
        waiter, self._writer = self._writer, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


async def _within(waiter: asyncio.Future[None], timeout: float | None, error: type[Exception]) -> None:
    """Wait for ``waiter``, raising ``error`` after ``timeout`` seconds (None: no limit). A timer
    handle, not a cancel scope: the common case (data already there) never gets here at all."""
    if timeout is None:
        await waiter
        return

    def expire() -> None:
        if not waiter.done():
            waiter.set_exception(error(f"no progress within {timeout:g} s"))

    timer = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        await waiter
    finally:
        timer.cancel()


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._protocol
        while not p.chunks:
            if p.error is not None:
                raise httpcore.ReadError(str(p.error) or type(p.error).__name__) from p.error
            if p.eof:
                return b""
            await p.wait_readable(timeout)
        return p.take(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        p = self._protocol
        if p.error is not None or self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed") from p.error
        self._transport.write(buffer)
        while p.paused_writing and p.error is None and not self._transport.is_closing():
            await p.wait_writable(timeout)
        if p.error is not None:
            raise httpcore.WriteError(str(p.error) or type(p.error).__name__) from p.error

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as e:
            self._transport.abort()
            raise httpcore.ConnectTimeout(f"TLS handshake took longer than {timeout:g} s") from e
        except (OSError, ssl.SSLError, ConnectionError) as e:  # a bad certificate is an ssl.SSLError
            self._transport.abort()
            raise httpcore.ConnectError(str(e) or type(e).__name__) from e
        if transport is None:  # the connection went away during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":  # for an idle connection: the server spoke, hung up or failed
            p = self._protocol
            return bool(p.chunks) or p.eof or p.error is not None
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections as asyncio transports. ``host`` is best an address (netguard's GuardedBackend
    resolves and checks names first); a name is resolved by the event loop. No unix sockets
    (httpcore's base refuses them; nothing here asks for one)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol, host, port, local_addr=(local_address, 0) if local_address else None
                )
        except TimeoutError as e:
            raise httpcore.ConnectTimeout(f"connecting to {host}:{port} took longer than {timeout:g} s") from e
        except OSError as e:
            raise httpcore.ConnectError(str(e) or type(e).__name__) from e
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():  # asyncio already set TCP_NODELAY, as anyio did
            if sock is not None:
                sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Transport(httpx.AsyncHTTPTransport):
    """httpx's transport on httpcore's connection pool over ``backend`` (``AsyncioBackend`` unless
    given): HTTP/1.1, no proxies of its own (a client's proxy mounts, where it has any, are its own
    transports)."""

    def __init__(
        self,
        limits: httpx.Limits | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        # Not calling super().__init__: it would build its pool on httpcore's default (anyio) backend.
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's default
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(verify=True, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend or AsyncioBackend(),
        )
