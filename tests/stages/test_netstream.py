"""stages/netstream.py, httpcore's sockets on asyncio: what each read, write, timeout and end of
stream gives, and its HTTP/1.1 transport on h11 (reuse, 1xx, hang-ups, the pool timeout), against
servers on loopback (plain TCP ones and the TLS origin of the harness)."""

from __future__ import annotations

import asyncio
import ssl

import httpcore
import httpx
import pytest

from tests.harness.origin import Origin
from wirewatch.stages.netstream import AsyncioBackend, Transport


async def serve(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_reads_what_was_sent_then_the_end_and_an_idle_check_sees_it():
    async def say_and_hang_up(reader, writer):
        writer.write(b"hello")
        await writer.drain()
        writer.close()

    server, port = await serve(say_and_hang_up)
    async with server:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=2)
        assert await stream.read(3, timeout=2) == b"hel"  # never more than asked for
        assert await stream.read(100, timeout=2) == b"lo"
        assert await stream.read(100, timeout=2) == b""
        assert stream.get_extra_info("is_readable") is True  # a pool would not reuse it
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
        await stream.aclose()


async def test_an_idle_open_connection_is_not_readable_and_a_silent_one_times_out():
    async def silent(reader, writer):
        await reader.read()  # until the client goes

    server, port = await serve(silent)
    async with server:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=2)
        assert stream.get_extra_info("is_readable") is False
        await stream.write(b"GET / HTTP/1.1\r\n\r\n", timeout=2)
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(100, timeout=0.2)
        await stream.aclose()


async def test_a_large_answer_arrives_whole_through_the_read_limit():
    body = bytes(range(256)) * 8192  # 2 MiB: reading pauses and resumes several times

    async def flood(reader, writer):
        writer.write(body)
        await writer.drain()
        writer.close()

    server, port = await serve(flood)
    async with server:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=2)
        await asyncio.sleep(0.2)  # let the socket fill the buffer past its high-water mark
        got = bytearray()
        while chunk := await stream.read(65536, timeout=2):
            assert len(chunk) <= 65536
            got += chunk
        assert bytes(got) == body
        await stream.aclose()


async def test_a_refused_connection_is_a_connect_error():
    server, port = await serve(lambda r, w: None)
    server.close()
    await server.wait_closed()
    with pytest.raises(httpcore.ConnectError):
        await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=2)


async def test_https_through_the_transport_and_an_untrusted_certificate_is_an_ssl_error():
    async with Origin(tls=True) as origin:
        trusting = ssl.create_default_context(cafile=str(origin.certificate))
        transport = Transport(ssl_context=trusting)
        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(2):  # the second on the kept connection
                response = await client.get(origin.url("/article"))
                assert response.status_code == 200 and "Water rose overnight" in response.text
            assert len(transport.connections) == 1
        async with httpx.AsyncClient(transport=Transport()) as client:
            with pytest.raises(httpx.ConnectError) as e:
                await client.get(origin.url("/article"))
        # The SSLError stays in the chain, where http_get finds it (tls_error: test_fetch_safety).
        assert isinstance(e.value.__cause__.__cause__, ssl.SSLError)


async def exchange(answer: bytes, *, keep_open: bool = False):
    """A server that reads one request head (and its body, by Content-Length) and sends ``answer``;
    returns the server, its port and what it read."""
    seen: list[bytes] = []

    async def handler(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")), 0
        )
        seen.append(head + await reader.readexactly(length))
        writer.write(answer)
        await writer.drain()
        if keep_open:
            await reader.read()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


async def test_an_informational_answer_is_skipped_and_a_post_body_goes_with_its_head():
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
    server, port, seen = await exchange(answer, keep_open=True)
    async with server, httpx.AsyncClient(transport=Transport()) as client:
        response = await client.post(f"http://127.0.0.1:{port}/hook", content=b'{"a": 1}')
        assert (response.status_code, response.content) == (201, b"ok")
        assert seen[0].startswith(b"POST /hook HTTP/1.1\r\n") and seen[0].endswith(b'\r\n\r\n{"a": 1}')


async def test_a_server_that_hangs_up_without_an_answer_is_a_protocol_error_and_its_connection_is_dropped():
    async def hang_up(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = Transport()
    async with server, httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"http://127.0.0.1:{port}/")
        assert transport.connections == []


async def test_an_answer_that_says_close_is_not_kept_and_a_full_transport_waits_its_pool_timeout():
    server, port, _ = await exchange(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
    transport = Transport(httpx.Limits(max_connections=1))
    async with server, httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, pool=0.2)) as client:
        assert (await client.get(f"http://127.0.0.1:{port}/")).content == b"ok"
        assert transport.connections == []
        async with client.stream("GET", f"http://127.0.0.1:{port}/"):  # holds the only place
            with pytest.raises(httpx.PoolTimeout):
                await client.get(f"http://127.0.0.1:{port}/")
