"""aioresponses, made strict: an unmatched request fails the test instead of being retried.

For unit tests that should open no socket at all. aioresponses answers a request
it has no mock for with ``ClientConnectionError``, which a retrying client
retries (and a test may then pass for the wrong reason). With
:func:`strict_aioresponses`, an unmatched request raises
:class:`UnmatchedRequestError`, an ``AssertionError`` the client never catches.

aioresponses is not a dependency of calyptia-logs (install it in your test
environment), and aioresponses 0.7.9 does not work with aiohttp 3.14 or newer
(``ClientResponse`` gained a required argument): :func:`aioresponses_problem`
says whether it works here, so a suite can skip its mocked tests with the
reason. The embedded fake (:mod:`calyptia_logs.testing`) works everywhere.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from typing import Any

__all__ = ["UnmatchedRequestError", "aioresponses_problem", "strict_aioresponses"]


class UnmatchedRequestError(AssertionError):
    """A request that no aioresponses mock was registered for."""


@functools.cache
def _strict_class() -> type[Any]:
    from aioresponses import aioresponses  # noqa: PLC0415 - an optional test dependency

    class StrictAioresponses(aioresponses):  # type: ignore[misc,unused-ignore]
        """aioresponses that fails an unmatched request instead of refusing the connection."""

        async def match(
            self, method: str, url: Any, allow_redirects: bool = True, **kwargs: Any
        ) -> Any:
            response = await super().match(method, url, allow_redirects, **kwargs)
            if response is None:
                msg = f"no mock for {method} {url}"
                raise UnmatchedRequestError(msg)
            return response

    return StrictAioresponses


def strict_aioresponses(**options: Any) -> Any:
    """A strict ``aioresponses()`` context manager (same options, same mocking methods).

    Raises:
        ImportError: aioresponses is not installed.
    """
    return _strict_class()(**options)


@functools.cache
def aioresponses_problem() -> str | None:
    """Why aioresponses cannot mock here (not installed, or this aiohttp), or ``None``.

    Tries it once for real (a mocked GET in a private event loop, on a thread of
    its own, so it can be asked from inside a running loop too).
    """
    try:
        cls = _strict_class()
    except ImportError as exc:
        return f"aioresponses is not installed: {exc}"
    import aiohttp  # noqa: PLC0415

    async def probe() -> None:
        with cls() as mocked:
            mocked.get("http://probe.test/", body=b"ok")
            async with aiohttp.ClientSession() as session, session.get("http://probe.test/") as r:
                await r.read()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, probe()).result()
        except TypeError as exc:
            return (
                f"aioresponses does not work with aiohttp {aiohttp.__version__} ({exc}); "
                "it does with aiohttp below 3.14"
            )
    return None
