"""A real forward proxy on 127.0.0.1 for tests: CONNECT tunnels and absolute-form requests.

It records what it saw in clear text (each request head), so tests can check
that requests go through it, and what the proxy learns (never the token, for
https). One request head per connection is parsed; after it, bytes are piped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Seen:
    """One request head the proxy read: its request line and headers."""

    line: str
    headers: dict[str, str]

    @property
    def raw(self) -> str:
        return self.line + "\n" + "\n".join(f"{k}: {v}" for k, v in self.headers.items())


@dataclass
class ForwardProxy:
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    require_auth: str | None = None  # an expected Proxy-Authorization value


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _handle(
    proxy: ForwardProxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(h.split(": ", 1) for h in header_lines if ": " in h)
    proxy.seen.append(Seen(line, headers))
    method, target, version = line.split(" ", 2)
    if proxy.require_auth is not None and headers.get("Proxy-Authorization") != proxy.require_auth:
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        return
    if method == "CONNECT":
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
    else:
        parts = urlsplit(target)  # absolute-form: http://host:port/path
        up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        forwarded = [f"{method} {path} {version}"] + [
            f"{k}: {v}" for k, v in headers.items() if not k.lower().startswith("proxy-")
        ]
        up_writer.write(("\r\n".join(forwarded) + "\r\n\r\n").encode("latin-1"))
    await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


@contextlib.asynccontextmanager
async def forward_proxy(require_auth: str | None = None) -> AsyncIterator[ForwardProxy]:
    """Run the proxy for the block; yields it (``url`` set, ``seen`` filling up)."""
    proxy = ForwardProxy(require_auth=require_auth)
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await _handle(proxy, reader, writer)
        finally:
            tasks.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proxy.url = f"http://127.0.0.1:{port}"
    try:
        yield proxy
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
