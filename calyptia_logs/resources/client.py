"""The client: the root of the resource tree, and the owner of the transport."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

import aiohttp

from calyptia_logs.errors import CalyptiaError
from calyptia_logs.ratelimit import RateLimitState
from calyptia_logs.resources.pipeline_logs import PipelineLogs
from calyptia_logs.retry import OnRetry, RetryBudget, RetryPolicy
from calyptia_logs.transport import (
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_TIMEOUT,
    ResponseInfo,
    Transport,
    check_base_url,
    resolve_credentials,
    user_agent,
)
from calyptia_logs.transport.network import SSLOption

__all__ = ["CalyptiaClient"]


class CalyptiaClient:
    """An asyncio client for the Calyptia Cloud API's pipeline logs.

    Use it as an async context manager, or call :meth:`close` when done.
    With no arguments it reads ``CALYPTIA_CLOUD_TOKEN`` (or
    ``CALYPTIA_PROJECT_TOKEN``) and ``CALYPTIA_CLOUD_URL`` from the
    environment; explicit arguments win.

    Args:
        token: A user token, sent as ``Authorization: Bearer <token>``.
        project_token: A project token, sent as ``X-Project-Token``.
        base_url: The API root (default ``https://cloud-api.calyptia.com``).
        timeout: Seconds one attempt may take, or an ``aiohttp.ClientTimeout``.
        deadline: Seconds a whole call may take, all retries included (default: no limit).
        retry: The :class:`~calyptia_logs.RetryPolicy` (default: 3 attempts, jittered backoff).
        retry_budget: The client-wide :class:`~calyptia_logs.RetryBudget` against retry storms.
        session: Your own ``aiohttp.ClientSession``; the client then never closes it.
        connector_limit: Connections the client's own session may open at once (default 100).
        trace_configs: aiohttp ``TraceConfig`` objects (e.g. OpenTelemetry instrumentation).
            With ``session=``, set ``connector_limit`` and ``trace_configs`` on your
            own session instead: both are refused beside it.
        max_response_size: The largest decompressed response body accepted, in bytes.
        allow_insecure_http: Allow plain ``http://`` to a host that is not loopback.
        on_retry: Called with a :class:`~calyptia_logs.RetryDetails` before every retry.
        on_response: Called with a :class:`~calyptia_logs.ResponseInfo` after every
            HTTP exchange (method, path template, status, elapsed, request ID).
        follow_redirects: Follow 3xx answers; credentials never go to another origin.
            Off by default: a 3xx raises :class:`~calyptia_logs.RedirectError`.
        adaptive_rate_limit: Slow down when the server throttles (429): the whole
            client honours ``Retry-After`` and paces its requests at a rate that
            follows the server's limit (see docs/retries.md). ``False``: a 429 is
            only retried, like a 503.
        max_rate: The most requests per second this client ever sends (``None``:
            no cap); paced from the start, adaptive or not.
        proxy: A forward proxy, ``http://[user:password@]host:port``. For https,
            requests go through a CONNECT tunnel and the proxy never sees the token;
            its ``user:password`` is sent to the proxy only and never shown.
        ssl: An ``ssl.SSLContext``, or the path of a CA bundle (PEM) to trust
            instead of the system's (a private CA of a self-hosted deployment).
        trust_env: Without ``proxy`` / ``ssl``, take them from the environment, as
            requests and httpx do: ``HTTPS_PROXY`` / ``HTTP_PROXY`` and ``NO_PROXY``,
            and a CA bundle from ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``. Read when
            the client is made. ``False``: connect directly, with the system's CAs.

    Raises:
        ValueError: No credentials, both kinds, a malformed token, a bad ``base_url``,
            a bad proxy URL, a missing CA bundle, ``proxy``, ``ssl``,
            ``connector_limit`` or ``trace_configs`` with ``session``, or a number
            out of range (``timeout`` and ``deadline`` must be finite and positive;
            ``deadline=None`` means no limit).
        TypeError: A number of the wrong type.

    A client belongs to the event loop it is first used in: create one per loop
    (each ``asyncio.run()`` starts a new one); using it from another raises a
    :class:`~calyptia_logs.CalyptiaError` that says so.

    Example:
        >>> async def main():  # doctest: +SKIP
        ...     async with CalyptiaClient(token="...") as client:
        ...         log = await client.pipeline_logs.get("4b5e8a1c-...")
    """

    pipeline_logs: PipelineLogs
    """The pipeline-log endpoints."""

    def __init__(
        self,
        token: str | None = None,
        *,
        project_token: str | None = None,
        base_url: str | None = None,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        retry: RetryPolicy | None = None,
        retry_budget: RetryBudget | None = None,
        session: aiohttp.ClientSession | None = None,
        connector_limit: int | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        allow_insecure_http: bool = False,
        on_retry: OnRetry | None = None,
        on_response: Callable[[ResponseInfo], None] | None = None,
        follow_redirects: bool = False,
        adaptive_rate_limit: bool = True,
        max_rate: float | None = None,
        proxy: str | None = None,
        ssl: SSLOption | None = None,
        trust_env: bool = True,
    ) -> None:
        from calyptia_logs import __version__  # noqa: PLC0415 - the package imports us first

        self._transport = Transport(
            base_url=check_base_url(base_url, allow_insecure_http=allow_insecure_http),
            credentials=resolve_credentials(token, project_token),
            user_agent=user_agent(__version__),
            timeout=timeout,
            deadline=deadline,
            retry=retry,
            retry_budget=retry_budget,
            session=session,
            connector_limit=connector_limit,
            trace_configs=trace_configs,
            max_response_size=max_response_size,
            on_retry=on_retry,
            on_response=on_response,
            follow_redirects=follow_redirects,
            adaptive_rate_limit=adaptive_rate_limit,
            max_rate=max_rate,
            proxy=proxy,
            ssl=ssl,
            trust_env=trust_env,
        )
        self.pipeline_logs = PipelineLogs(self._transport)

    @property
    def base_url(self) -> str:
        """The API root this client talks to."""
        return self._transport.base_url

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._transport.retry

    @property
    def retry_budget(self) -> RetryBudget:
        """The client-wide retry budget (its ``available`` tokens show how it stands)."""
        return self._transport.retry_budget

    @property
    def rate_limit(self) -> RateLimitState:
        """How the client-side rate limiter stands: pacing or not, rate, 429s seen."""
        return self._transport.limiter.state()

    @property
    def transport(self) -> Transport:
        """The transport (for instrumentation and tests; resources are the API)."""
        return self._transport

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._transport.closed

    async def close(self) -> None:
        """Close the HTTP session, if the client created it. Safe to call twice."""
        await self._transport.close()

    async def __aenter__(self) -> Self:
        if self.closed:
            msg = "this client is closed; create a new CalyptiaClient"
            raise CalyptiaError(msg)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        creds = self._transport.credentials
        return f"CalyptiaClient(base_url={self.base_url!r}, auth={creds.kind}, token=<redacted>)"
