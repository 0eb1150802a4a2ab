"""stages/netstream.py, httpcore's sockets on asyncio: what each read, write, timeout and end of
stream gives, against servers on loopback (a plain TCP one and the TLS origin of the harness)."""

from __future__ import annotations

import asyncio
import ssl

import httpcore
import pytest

from tests.harness.origin import Origin
from wirewatch.stages.netstream import AsyncioBackend


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


async def test_https_through_the_pool_and_an_untrusted_certificate_is_an_ssl_error():
    async with Origin(tls=True) as origin:
        trusting = ssl.create_default_context(cafile=str(origin.certificate))
        async with httpcore.AsyncConnectionPool(ssl_context=trusting, network_backend=AsyncioBackend()) as pool:
            for _ in range(2):  # the second on the kept connection
                response = await pool.request("GET", origin.url("/article"))
                assert response.status == 200 and b"Water rose overnight" in response.content
            assert len(pool.connections) == 1
        async with httpcore.AsyncConnectionPool(network_backend=AsyncioBackend()) as pool:
            with pytest.raises(httpcore.ConnectError) as e:
                await pool.request("GET", origin.url("/article"))
        # The pool re-raises it `from None`; the SSLError stays its context, where http_get finds it
        # (tls_error: test_fetch_safety).
        assert isinstance(e.value.__cause__ or e.value.__context__, ssl.SSLError)
