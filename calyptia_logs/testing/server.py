"""Run a :class:`FakeCalyptiaCloud` on a real socket: in a test, or standalone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import attrs
from aiohttp import web

from calyptia_logs.testing.fake import FakeCalyptiaCloud

__all__ = [
    "RunningFake",
    "run_fake_cloud",
    "run_fake_cloud_in_thread",
    "serve_app",
    "serve_forever",
]


@attrs.frozen
class RunningFake:
    """A fake that is listening: its state, and where to reach it.

    Attributes:
        fake: The fake's state (data, fault rules, recorded requests).
        base_url: ``http://127.0.0.1:<port>``, for ``CalyptiaClient(base_url=...)``.
        token: A user token the fake accepts.
    """

    fake: FakeCalyptiaCloud
    base_url: str
    token: str

    def __getattr__(self, name: str) -> Any:
        # fake_cloud.inject(...), fake_cloud.requests, ...: reach the fake directly.
        return getattr(self.fake, name)


@asynccontextmanager
async def serve_app(
    app: web.Application, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve any ``aiohttp.web`` application for the duration of the block; yield its base URL.

    Args:
        app: The application.
        host: The address to bind; keep it on loopback.
        port: The port; 0 picks a free one.
    """
    runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield f"http://{shown}:{bound_port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def run_fake_cloud(
    fake: FakeCalyptiaCloud | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    **options: Any,
) -> AsyncIterator[RunningFake]:
    """Serve a fake on ``host`` (loopback) and a free port for the duration of the block.

    Args:
        fake: The fake to serve; a new one (built from ``options``) when ``None``.
        host: The address to bind; keep it on loopback.
        port: The port; 0 picks a free one.
        **options: Passed to :class:`FakeCalyptiaCloud` when ``fake`` is ``None``.

    Yields:
        The running fake, with its ``base_url``.

    Example:
        >>> async def test_get():  # doctest: +SKIP
        ...     async with run_fake_cloud() as cloud:
        ...         pipeline = cloud.add_pipeline()
        ...         (log_id,) = cloud.seed_logs(pipeline, 1)
        ...         async with CalyptiaClient(token=cloud.token, base_url=cloud.base_url) as c:
        ...             assert (await c.pipeline_logs.get(log_id)).id == log_id
    """
    fake = fake if fake is not None else FakeCalyptiaCloud(**options)
    async with serve_app(fake.app(), host=host, port=port) as base_url:
        yield RunningFake(fake, base_url, next(iter(sorted(fake.tokens)), ""))


async def serve_forever(
    fake: FakeCalyptiaCloud,
    *,
    host: str,
    port: int,
    announce: Callable[[str, str], None] | None = None,
) -> None:
    """Serve ``fake`` until cancelled (the ``calyptia-logs fake-server`` command).

    Args:
        fake: The fake to serve.
        host: The address to bind.
        port: The port (0: a free one).
        announce: Called with the base URL and the token once listening (default: print them).
    """
    async with run_fake_cloud(fake, host=host, port=port) as running:
        if announce is None:
            print(f"fake Calyptia Cloud listening on {running.base_url}", flush=True)
        else:
            announce(running.base_url, running.token)
        await asyncio.Event().wait()


@contextmanager
def run_fake_cloud_in_thread(
    fake: FakeCalyptiaCloud | None = None, **options: Any
) -> Iterator[RunningFake]:
    """Serve a fake from a background thread with its own event loop.

    For synchronous code under test (a CLI run through click's ``CliRunner``,
    say) that calls ``asyncio.run`` itself. Set the fake up before the code
    under test runs and read it after: its state is shared across threads.

    Args:
        fake: The fake to serve; a new one (built from ``options``) when ``None``.
        **options: Passed to :func:`run_fake_cloud`.

    Yields:
        The running fake.
    """
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[RunningFake] = loop.create_future()
    stop = asyncio.Event()

    async def main() -> None:
        try:
            async with run_fake_cloud(fake, **options) as running:
                ready.set_result(running)
                await stop.wait()
        except BaseException as exc:
            if not ready.done():  # a failure to start is the caller's to see
                ready.set_exception(exc)
            raise

    started = threading.Event()

    def thread_main() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        loop.run_until_complete(main())
        loop.close()

    thread = threading.Thread(target=thread_main, name="fake-calyptia-cloud", daemon=True)
    thread.start()
    started.wait()
    running = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(timeout=10)
    try:
        yield running
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)


async def _wait(future: asyncio.Future[RunningFake]) -> RunningFake:
    return await future
