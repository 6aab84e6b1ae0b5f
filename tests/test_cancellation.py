"""The cancellation matrix: a call cancelled at every stage ends cleanly, and the client goes on.

For each stage a real server (over TLS, on 127.0.0.1) holds the call exactly
there; ``asyncio.timeout`` cancels it. Every case must end with ``TimeoutError``
(the ``CancelledError`` inside, turned by the timeout), leave no task pending,
no connection checked out, no connection slot taken and no warning; and then
the same client, the server now healthy, must complete a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import orjson
import pytest
import trustme

from calyptia_logs import CalyptiaClient, RetryPolicy
from tests.conftest import PIPELINE_ID, TOKEN, log_json, new_id
from tests.raw_server import RawRequest, RawServer, Reply, http

JSON = {"Content-Type": "application/json"}
#: How long each stalled call is given before it is cancelled.
CANCEL_AFTER = 0.3


@attrs.define
class Scene:
    """What the server does now: ``mode`` names the stall; ``healthy`` answers everything."""

    mode: str = "healthy"


def healthy(request: RawRequest) -> Reply:
    """Good answers: the log asked for (NEW while ``?new`` is asked), and one page of one log."""
    path = request.path.split("?")[0]
    if path.endswith("/logs"):
        page = {"items": [log_json(id=new_id())], "endCursor": None, "count": 1}
        return Reply(http(200, orjson.dumps(page), JSON))
    return Reply(http(200, orjson.dumps(log_json(id=path.rsplit("/", 1)[-1])), JSON))


STALL = Reply(b"", hold=True)  # reads the request, never answers


def answer(scene: Scene, request: RawRequest) -> Reply:
    """The server's answer in each mode."""
    mode = scene.mode
    if mode in ("healthy", "limiter"):
        return healthy(request)
    if mode == "headers":
        return STALL
    if mode == "body":
        return Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"id\": ", hold=True)
    if mode == "backoff":
        return Reply(http(503, b""))
    if mode == "redirect":
        if "hop" in request.path:
            return STALL
        return Reply(http(307, b"", {"Location": request.path + "?hop=1"}))
    if mode == "polling":
        doc = log_json(id=request.path.rsplit("/", 1)[-1], status="NEW")
        if request.path.split("?")[0].endswith("/logs"):
            return healthy(request)
        return Reply(http(200, orjson.dumps(doc), JSON))
    if mode == "second-page":
        if "before=" in request.path:
            return STALL
        page = {"items": [log_json(id=new_id())], "endCursor": "next", "count": 2}
        return Reply(http(200, orjson.dumps(page), JSON))
    return STALL


@contextlib.asynccontextmanager
async def tls_server(ca: trustme.CA, scene: Scene) -> AsyncIterator[tuple[str, RawServer]]:
    """A raw HTTPS server whose TLS handshake and answers follow ``scene``.

    In the modes ``handshake`` and ``upload`` it takes the connection and then
    neither reads nor writes: the client stalls in the TLS handshake, or, with a
    large body, in sending it once the socket buffers are full.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    state = RawServer(lambda request: answer(scene, request))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            state.tasks.add(task)
        state._open.add(writer)
        try:
            if scene.mode == "handshake":
                await reader.read()  # never reached by the ClientHello's answer: stalls it
                return
            await writer.start_tls(context)
            if scene.mode == "upload":
                await asyncio.Event().wait()  # never reads what is sent
            await state._serve(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            state._open.discard(writer)
            writer.transport.abort()  # a close would wait to flush, or for TLS's close_notify

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}", state
    finally:
        server.close()
        for writer in list(state._open):
            writer.transport.abort()
        for task in list(state.tasks):
            task.cancel()
        if state.tasks:
            await asyncio.wait(state.tasks, timeout=2)
        await server.wait_closed()


async def never(_seconds: float) -> None:
    """An injected retry sleep that never ends by itself: the call is held in its backoff."""
    await asyncio.Event().wait()


async def _consume(items: Any) -> None:
    async with contextlib.aclosing(items) as running:
        async for _ in running:
            pass


async def _limited(client: CalyptiaClient) -> None:
    await client.pipeline_logs.get(new_id())  # goes at once; the next waits for the pace
    await client.pipeline_logs.get(new_id())


Call = Callable[[CalyptiaClient], Awaitable[Any]]

#: Each stage: the server's mode, the client's options, and the call held there.
STAGES: dict[str, tuple[str, dict[str, Any], Call]] = {
    "waiting for a connection slot": (
        "headers",
        {"connector_limit": 1},
        lambda c: asyncio.gather(c.pipeline_logs.get(new_id()), c.pipeline_logs.get(new_id())),
    ),
    "connecting (TLS handshake)": ("handshake", {}, lambda c: c.pipeline_logs.get(new_id())),
    "sending the request body": (
        "upload",
        {},
        lambda c: c.pipeline_logs.update(new_id(), logs="x" * (32 * 1024 * 1024)),
    ),
    "waiting for the response headers": (
        "headers",
        {},
        lambda c: c.pipeline_logs.get(new_id()),
    ),
    "reading the response body": ("body", {}, lambda c: c.pipeline_logs.get(new_id())),
    "in a retry backoff": (
        "backoff",
        {"retry": RetryPolicy(sleep=never)},
        lambda c: c.pipeline_logs.get(new_id()),
    ),
    "in the rate limiter's wait": ("limiter", {"max_rate": 2.0}, _limited),
    "in a redirect hop": (
        "redirect",
        {"follow_redirects": True},
        lambda c: c.pipeline_logs.get(new_id()),
    ),
    "in wait_until_done's sleep": (
        "polling",
        {},
        lambda c: c.pipeline_logs.wait_until_done(new_id(), timeout=60, poll_interval=30),
    ),
    "inside get_many": (
        "headers",
        {"connector_limit": 4},
        lambda c: _consume(c.pipeline_logs.get_many([new_id() for _ in range(20)])),
    ),
    "inside delete_many": (
        "headers",
        {},
        lambda c: _consume(c.pipeline_logs.delete_many([new_id() for _ in range(20)])),
    ),
    "inside iter, on the second page": (
        "second-page",
        {},
        lambda c: _consume(c.pipeline_logs.iter(PIPELINE_ID)),
    ),
}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.mark.parametrize("stage", list(STAGES))
async def test_a_call_cancelled_here_ends_cleanly_and_the_client_goes_on(
    stage: str, ca: trustme.CA, tmp_path: Any
) -> None:
    mode, options, call = STAGES[stage]
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    scene = Scene(mode)
    async with tls_server(ca, scene) as (url, server):
        client = CalyptiaClient(token=TOKEN, base_url=url, ssl=bundle, **options)
        try:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(CANCEL_AFTER):
                    await call(client)
            current = asyncio.current_task()
            others = [t for t in asyncio.all_tasks() if t is not current and t not in server.tasks]
            # A cancelled task may take a few loop turns to finish (aiohttp 3.11's body
            # writer does): give stragglers a moment; one that never ends fails here.
            if others:
                await asyncio.wait(others, timeout=1)
            pending = [t for t in others if not t.done()]
            assert not pending, pending
            transport = client.transport
            connector = transport.session.connector if transport.session else None
            assert connector is None or not connector._acquired  # type: ignore[attr-defined]
            slots = transport._slots
            assert slots is not None
            assert not slots.waiters
            assert slots.free == transport._connector_limit
            # The same client, the server healthy again: the next call completes.
            scene.mode = "healthy"
            log_id = new_id()
            assert str((await client.pipeline_logs.get(log_id)).id) == log_id
        finally:
            await client.close()
    gc.collect()  # an unclosed transport would warn here, and warnings are errors
