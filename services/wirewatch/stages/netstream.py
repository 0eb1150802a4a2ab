"""The fetch client's and the alert channels' HTTP/1.1, written on asyncio itself: an httpx request
in, its response out (``Transport``: h11's parser on our own connections and pool), over httpcore's
network layer on asyncio's transports (a host and port in, httpcore's byte stream over a connected,
optionally TLS, socket out, or httpcore's ConnectError/ReadError/... family).

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

    Transport(limits, ssl_context=..., backend=..., gate=...)   an httpx transport on these
        sockets: the fetch client's (netguard.GuardedTransport, whose backend checks addresses
        first) and the alert channels' (sinks/http_errors.client); it raises httpx's exceptions
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import ssl
import time
import typing

import h11
import httpcore
import httpx

# Bytes a connection may hold unread before it stops reading the socket (the server then waits):
# httpcore reads 64 KiB at a time, and http_get caps a body long before memory matters.
_HIGH_WATER = 256 * 1024
# What a read asks the socket for, and the most a response head may take (httpcore's figures:
# past it h11 fails the answer with a 431 hint, which http_get reports as headers_too_large).
_READ_BYTES = 64 * 1024
_MAX_HEAD_BYTES = 100 * 1024


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


# httpcore's exceptions (the backends' and ours) as httpx's, which every caller translates.
_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.RequestError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (h11.RemoteProtocolError, httpx.RemoteProtocolError),
    (h11.LocalProtocolError, httpx.LocalProtocolError),
)


async def _body_of(request: httpx.Request) -> bytes:
    """The request's body as one piece of bytes (an alert's JSON: small), read from its stream
    when it was not read yet."""
    try:
        return request.content
    except httpx.RequestNotRead:
        return b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]


def _as_httpx(e: Exception, request: httpx.Request) -> Exception:
    """``e`` as the httpx exception it stands for (the original chained), or ``e`` itself."""
    if isinstance(e, httpx.HTTPError):  # netguard's BlockedAddress, UnknownHost
        return e
    for theirs, ours in _HTTPX_ERRORS:
        if isinstance(e, theirs):
            mapped = ours(str(e) or type(e).__name__, request=request)
            mapped.__cause__ = e
            return mapped
    return e


class _Connection:
    """One HTTP/1.1 connection: h11's state machine over a network stream, one exchange at a time."""

    __slots__ = ("expire_at", "h11", "origin", "stream")

    def __init__(self, origin: tuple[bytes, bytes, int | None], stream: httpcore.AsyncNetworkStream) -> None:
        self.origin = origin
        self.stream = stream
        self.h11 = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=_MAX_HEAD_BYTES)
        self.expire_at = 0.0

    def reusable(self, now: float) -> bool:
        """Idle, within its expiry, and the server has neither spoken nor hung up since."""
        return now < self.expire_at and not self.stream.get_extra_info("is_readable")

    async def send(self, request: httpx.Request, body: bytes, timeout: float | None) -> None:
        conn = self.h11
        data = conn.send(h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw))
        if body:
            data += conn.send(h11.Data(data=body))
        data += conn.send(h11.EndOfMessage())
        # A server may answer (an error, say) and close before taking the whole request: read what
        # it said, as httpcore does; a server that said nothing fails the read instead.
        with contextlib.suppress(httpcore.WriteError):
            await self.stream.write(data, timeout)

    async def next_event(self, timeout: float | None) -> typing.Any:
        conn = self.h11
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await self.stream.read(_READ_BYTES, timeout)
            if not data and conn.their_state is h11.SEND_RESPONSE:
                raise h11.RemoteProtocolError("Server disconnected without sending a response.")
            conn.receive_data(data)

    async def aclose(self) -> None:
        await self.stream.aclose()


class _Body(httpx.AsyncByteStream):
    """A response's body, read from its connection; closing it hands the connection back to its
    transport (kept when the exchange ended cleanly, else closed) and frees its request's place."""

    def __init__(self, transport: Transport, conn: _Connection, request: httpx.Request, timeout: float | None) -> None:
        self._transport, self._conn, self._request, self._timeout = transport, conn, request, timeout
        self._closed = False

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        conn = self._conn
        try:
            while True:
                event = await conn.next_event(self._timeout)
                if type(event) is h11.Data:
                    yield bytes(event.data)
                elif type(event) is h11.EndOfMessage or event is h11.PAUSED:
                    return
        except (httpcore.NetworkError, httpcore.TimeoutException, h11.ProtocolError) as e:
            await self.aclose()
            raise _as_httpx(e, self._request) from e

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._transport._release(self._conn)


class Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 on h11 over ``backend``'s streams (``AsyncioBackend`` unless given), with its own
    small pool: ``limits.max_connections`` requests in flight at once (or as many as a ``gate``
    shared by several transports allows), up to ``max_keepalive_connections`` idle connections an
    origin kept for ``keepalive_expiry`` seconds. No proxies of its own (a client's proxy mounts,
    where it has any, are its own transports), no HTTP/2, no upgrades.

    Why not httpcore's pool (httpx's own transport): per request it took an anyio lock three times
    (each a trip round the event loop with a cancel scope), asked sniffio which event loop runs,
    opened shielded cancel scopes and trace hooks, and walked its connections; with h11 underneath
    either way, that was a third of a request's CPU on the event loop (``benchmarks fetch``).
    What httpcore did that matters is kept: a connection is reused only after its exchange ended
    cleanly and while the server has not spoken or hung up, a write error still reads the answer,
    1xx answers are skipped, and a head over 100 KiB is h11's error (``headers_too_large``)."""

    def __init__(
        self,
        limits: httpx.Limits | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's default
        self._ssl = ssl_context or httpx.create_ssl_context(verify=True, trust_env=False)
        self._backend = backend or AsyncioBackend()
        self._gate = gate or asyncio.Semaphore(limits.max_connections or 100)
        self._max_idle = limits.max_keepalive_connections if limits.max_keepalive_connections is not None else 20
        self._expiry = limits.keepalive_expiry if limits.keepalive_expiry is not None else math.inf
        self._idle: dict[tuple[bytes, bytes, int | None], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._closed = False

    @property
    def connections(self) -> list[_Connection]:
        """Every connection open now, idle or busy."""
        return list(self._open)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout") or {}
        if self._gate.locked():  # the rare wait for a place, bounded by the pool timeout
            try:
                async with asyncio.timeout(timeouts.get("pool")):
                    await self._gate.acquire()
            except TimeoutError as e:
                raise httpx.PoolTimeout("no connection free within the pool timeout", request=request) from e
        else:
            await self._gate.acquire()
        conn: _Connection | None = None
        try:
            if self._closed:
                raise RuntimeError("the transport is closed")
            url = request.url
            if url.raw_scheme not in (b"http", b"https"):
                raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url.scheme}://'.")
            body = b"" if request.method == "GET" else await _body_of(request)
            conn = await self._idle_connection((url.raw_scheme, url.raw_host, url.port))
            if conn is None:
                conn = await self._connect(url, timeouts.get("connect"))
            await conn.send(request, body, timeouts.get("write"))
            read_timeout = timeouts.get("read")
            while True:
                event = await conn.next_event(read_timeout)
                if type(event) is h11.Response:
                    break
                # An informational 1xx (100 Continue, 103 Early Hints): the answer follows it.
        except BaseException as e:
            if conn is not None:
                self._open.discard(conn)
                await conn.aclose()
            self._gate.release()
            mapped = _as_httpx(e, request) if isinstance(e, Exception) else e
            if mapped is e:
                raise
            raise mapped from e
        return httpx.Response(
            event.status_code,
            headers=event.headers.raw_items(),
            stream=_Body(self, conn, request, read_timeout),
            extensions={"http_version": b"HTTP/" + event.http_version, "reason_phrase": event.reason},
        )

    async def _idle_connection(self, origin: tuple[bytes, bytes, int | None]) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            conn = idle.pop()  # the most recently used: the likeliest to be alive
            if conn.reusable(now):
                return conn
            self._open.discard(conn)
            await conn.aclose()
        return None

    async def _connect(self, url: httpx.URL, timeout: float | None) -> _Connection:
        host = url.raw_host.decode("ascii")
        https = url.raw_scheme == b"https"
        stream = await self._backend.connect_tcp(host, url.port or (443 if https else 80), timeout=timeout)
        if https:
            try:
                stream = await stream.start_tls(self._ssl, server_hostname=host, timeout=timeout)
            except BaseException:
                await stream.aclose()
                raise
        conn = _Connection((url.raw_scheme, url.raw_host, url.port), stream)
        self._open.add(conn)
        return conn

    async def _release(self, conn: _Connection) -> None:
        """The exchange on ``conn`` is over: keep the connection if it ended cleanly, else close it."""
        self._gate.release()
        state = conn.h11
        if not self._closed and state.our_state is h11.DONE and state.their_state is h11.DONE:
            state.start_next_cycle()
            idle = self._idle.setdefault(conn.origin, [])
            if len(idle) < self._max_idle:
                conn.expire_at = time.monotonic() + self._expiry
                idle.append(conn)
                return
        self._open.discard(conn)
        await conn.aclose()

    async def aclose(self) -> None:
        self._closed = True
        conns, self._open, self._idle = list(self._open), set(), {}
        for conn in conns:
            await conn.aclose()
