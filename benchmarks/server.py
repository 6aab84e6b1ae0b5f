"""A canned-response HTTP/1.1 server, cheaper per request than any client it serves.

A bare ``asyncio.Protocol`` answering from precomputed bytes: keep-alive, a
request's body skipped by its Content-Length, the answer chosen by method and
path (a log, a large log, a list page, a create, an update). Run in its own process:

    python -m benchmarks.server PORT_FILE [--fault-every N]

It writes the port it bound (127.0.0.1, a free port) to PORT_FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

#: The ID whose log is the large one (~11 MB).
LARGE_ID = "00000000-0000-4000-8000-00000000001a"
PIPELINE_ID = "00000000-0000-4000-8000-0000000000b0"
SMALL_LINES = 10
LARGE_LINES = 150_000


def log_body(log_id: str, lines: int) -> bytes:
    text = "".join(
        f'[{i}] cpu.local: [1700000000.{i:09d}, {{"cpu_p"=>1.25, "user_p"=>0.75}}]\n'
        for i in range(lines)
    )
    now = datetime(2024, 5, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    doc = {
        "id": log_id,
        "pipelineID": PIPELINE_ID,
        "logs": text,
        "lines": lines,
        "status": "DONE",
        "createdAt": now,
        "updatedAt": "2024-05-01T00:00:05.123456789Z",
    }
    return json.dumps(doc).encode()


def response(status: str, body: bytes, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


#: A small log, whose ID is put in per request: the client checks the log is the one it asked for.
_PLACEHOLDER = str(uuid.UUID(int=1))
SMALL = response("200 OK", log_body(_PLACEHOLDER, SMALL_LINES))
#: A list page of 20 small logs, the last page (no cursor).
PAGE_ITEMS = 20
PAGE = response(
    "200 OK",
    b'{"items": ['
    + b", ".join(log_body(str(uuid.UUID(int=i + 1)), SMALL_LINES) for i in range(PAGE_ITEMS))
    + b'], "endCursor": null, "count": 20}',
)
CREATED = response(
    "201 Created",
    json.dumps({"id": str(uuid.UUID(int=7)), "createdAt": "2024-05-01T00:00:00.123456Z"}).encode(),
)
UPDATED = response("200 OK", b'{"updatedAt": "2024-05-01T00:00:00.123456Z"}')
LARGE = response("200 OK", log_body(LARGE_ID, LARGE_LINES))
UNAVAILABLE = response("503 Service Unavailable", b'{"error": "service unavailable"}')


class Canned(asyncio.Protocol):
    """Answer every request from precomputed bytes; every Nth with a 503 if asked."""

    count = 0

    def __init__(self, fault_every: int) -> None:
        self.fault_every = fault_every
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            length = 0
            if (at := head.lower().find(b"content-length:")) >= 0:
                length = int(head[at + 15 :].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                break  # the body is still on its way
            self.buffer = self.buffer[end + 4 + length :]
            Canned.count += 1
            out.append(self.answer(head))
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def answer(self, head: bytes) -> bytes:
        if self.fault_every and Canned.count % self.fault_every == 0:
            return UNAVAILABLE
        if head.startswith(b"POST "):
            return CREATED
        if head.startswith(b"PATCH "):
            return UPDATED
        line = head[:200]
        if b"/logs" in line.split(b" HTTP/", 1)[0]:
            return PAGE
        if LARGE_ID.encode() in line:
            return LARGE
        target = line.split(b" ", 2)[1]
        asked = target.rsplit(b"/", 1)[-1]
        return SMALL.replace(_PLACEHOLDER.encode(), asked) if len(asked) == 36 else SMALL


async def serve(port_file: Path, fault_every: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Canned(fault_every), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    port_file.write_text(str(port))
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file", type=Path)
    parser.add_argument("--fault-every", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port_file, args.fault_every))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
