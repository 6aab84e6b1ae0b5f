"""aioresponses, made strict: an unmatched request fails the test instead of being retried.

aioresponses answers a request it has no mock for with ``ClientConnectionError``,
which a retrying client would retry and might even turn into a pass. Here an
unmatched request raises :class:`UnmatchedRequestError` (an ``AssertionError``, which
the client never catches).

aioresponses 0.7.9 cannot build responses on aiohttp 3.14 (``ClientResponse``
gained a required ``stream_writer`` argument); :data:`AIORESPONSES_SKIP` says
why the mocked suites skip themselves there. CI runs them on aiohttp 3.13.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp


class UnmatchedRequestError(AssertionError):
    """A request that no aioresponses mock was registered for."""


def _load() -> tuple[type[Any] | None, str | None]:
    try:
        from aioresponses import aioresponses
    except ImportError as exc:  # pragma: no cover - a test extra
        return None, f"aioresponses is not installed: {exc}"

    class StrictAioresponses(aioresponses):  # type: ignore[misc]
        async def match(self, method: str, url: Any, **kwargs: Any) -> Any:
            response = await super().match(method, url, **kwargs)
            if response is None:
                raise UnmatchedRequestError(f"no mock for {method} {url}")
            return response

    async def probe() -> None:
        with StrictAioresponses() as mocked:
            mocked.get("http://probe.test/", body=b"ok")
            async with aiohttp.ClientSession() as session, session.get("http://probe.test/") as r:
                await r.read()

    try:
        asyncio.run(probe())
    except TypeError as exc:
        return None, (
            f"aioresponses does not work with aiohttp {aiohttp.__version__} ({exc}); "
            "these tests run in the aiohttp 3.13 CI environment"
        )
    return StrictAioresponses, None


StrictAioresponses, AIORESPONSES_SKIP = _load()
