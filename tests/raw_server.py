"""A byte-level HTTP/1.1 server on 127.0.0.1 for tests that need a server to misbehave.

aiohttp.web always answers well-formed HTTP; this one writes whatever bytes a
test scripts: a garbage status line, a duplicated header, a lying
Content-Length, a body that never ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs


@attrs.frozen
class RawRequest:
    """A request as it arrived: method, path (with query), headers (lower-case names), body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@attrs.frozen
class Reply:
    """What to write back.

    Attributes:
        data: The bytes written, status line and all.
        close: Close the connection after writing (else keep it for the next request).
        hold: Keep the connection open without reading or writing more, until the
            client goes away (a stalled server).
        push: Bytes written ``push_after`` seconds later, unasked, while the
            connection is idle (an extra response on a keep-alive connection).
    """

    data: bytes
    close: bool = False
    hold: bool = False
    push: bytes = b""
    push_after: float = 0.05


Answer = Callable[[RawRequest], Reply | Awaitable[Reply]]


def http(
    status: int | str,
    body: bytes | str = b"",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    *,
    reason: str = "X",
    length: bool = True,
) -> bytes:
    """Build response bytes (``status`` may be a whole garbage status line as a str)."""
    data = body.encode() if isinstance(body, str) else body
    line = status if isinstance(status, str) else f"HTTP/1.1 {status} {reason}"
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if length and not any(name.lower() == "content-length" for name, _ in pairs):
        pairs.append(("Content-Length", str(len(data))))
    head = "".join(f"{name}: {value}\r\n" for name, value in pairs)
    return f"{line}\r\n{head}\r\n".encode("utf-8", "surrogateescape") + data


async def _read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = ([*lines[0].split(" ", 2), "", ""])[:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    try:
        body = await reader.readexactly(length) if length else b""
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return RawRequest(method, path, headers, body)


class RawServer:
    """Serves ``answer(request)`` for every request; counts requests and connections."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[RawRequest] = []
        self.connections = 0
        #: The server's own connection tasks (tests looking for leaked tasks leave these out).
        self.tasks: set[asyncio.Task[Any]] = set()
        self._open: set[asyncio.StreamWriter] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._open.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            while (request := await _read_request(reader)) is not None:
                self.requests.append(request)
                reply = self.answer(request)
                if not isinstance(reply, Reply):
                    reply = await reply
                writer.write(reply.data)
                await writer.drain()
                if reply.push:
                    await asyncio.sleep(reply.push_after)
                    writer.write(reply.push)
                    await writer.drain()
                if reply.hold:
                    await reader.read()  # returns when the client closes
                    break
                if reply.close:
                    break
        except ConnectionError:
            pass
        finally:
            self._open.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def raw_server(answer: Answer) -> AsyncIterator[tuple[str, RawServer]]:
    """Run a :class:`RawServer` on 127.0.0.1; yield its base URL and the server."""
    state = RawServer(answer)
    server = await asyncio.start_server(state._serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", state
    finally:
        server.close()
        for writer in list(state._open):
            writer.close()  # the handler then reads EOF and ends by itself
        if state.tasks:
            # Left to asyncio.run() to cancel, they would log a CancelledError on Python 3.11.
            await asyncio.wait(state.tasks, timeout=2)
        await server.wait_closed()


def always(data: bytes, **flags: Any) -> Answer:
    """An answer that is always the same reply."""
    reply = Reply(data, **flags)
    return lambda _request: reply
