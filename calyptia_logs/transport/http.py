"""The aiohttp side of the transport: one session, one attempt, errors translated.

:class:`Transport` is the only code in the library that talks to aiohttp.
Resources call :meth:`Transport.request` and :meth:`Transport.paginate` with
a path and the type they expect back; the transport adds the base URL and
headers, runs each attempt under the retry policy, reads the body inside the
retried scope (a body cut short is retried like a reset), and turns every
aiohttp or asyncio failure into a :mod:`calyptia_logs.errors` exception.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import re
import time
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Hashable,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any, Final, NoReturn, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp.client_proto import ResponseHandler

from calyptia_logs import arguments, converter
from calyptia_logs.errors import (
    APIConnectionError,
    APITimeoutError,
    CalyptiaError,
    PaginationError,
    ResponseDecodeError,
    ResponseTooLargeError,
)
from calyptia_logs.ratelimit import AdaptiveRateLimiter
from calyptia_logs.retry import OnRetry, RetryBudget, RetryPolicy
from calyptia_logs.server_values import MESSAGE_MAX_CHARS, one_line
from calyptia_logs.transport.core import (
    REDIRECT_STATUSES,
    Check,
    Credentials,
    RawResponse,
    RecentKeys,
    ResponseInfo,
    build_headers,
    cursor_from_link,
    decode_success,
    error_from_response,
    mismatch,
    next_hop,
    path_template,
    request_id,
    throttle_hints,
)
from calyptia_logs.transport.network import SSLOption, resolve_proxy, resolve_ssl
from calyptia_logs.transport.slots import Slots

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "DEFAULT_TIMEOUT", "Transport"]

T = TypeVar("T")
ItemT = TypeVar("ItemT")
R = TypeVar("R")
logger: Final = logging.getLogger("calyptia_logs")

#: Seconds one attempt may take, connect to last byte.
DEFAULT_TIMEOUT: Final = 30.0
#: The largest (decompressed) response body accepted, in bytes.
DEFAULT_MAX_RESPONSE_SIZE: Final = 256 * 1024 * 1024
#: The shortest token scrubbed from server text. Calyptia tokens are far longer; scrubbing
#: a one-letter test token would remove that letter from every message.
MIN_SECRET_CHARS: Final = 8
#: Pages in a row that bring no new item before a list walk is given up. A real API
#: sends an empty page only at the end, without a cursor; ten leave room for filtering.
MAX_PAGES_WITHOUT_NEW_ITEMS: Final = 10
#: Cursors remembered in one list walk, to tell a cursor sent twice (a loop).
MAX_REMEMBERED_CURSORS: Final = 10_000
#: Item keys remembered in one list walk, to leave out repeats: a bound on memory
#: (about 10 MB), far above the log requests a pipeline keeps.
MAX_REMEMBERED_ITEMS: Final = 100_000
#: Request bodies larger than this are handed to aiohttp as a stream (its threshold).
LARGE_BODY: Final = 1024 * 1024
#: Connections the client's own session may open at once, unless told otherwise.
DEFAULT_CONNECTOR_LIMIT: Final = 100
#: The most redirects followed in one attempt, when following is enabled.
MAX_REDIRECTS: Final = 10


def _translate(
    exc: TimeoutError | aiohttp.ClientError, method: str, url: str, timeout: float | None
) -> APIConnectionError:
    """Turn an aiohttp or asyncio failure into this library's exception, in words."""
    if isinstance(exc, TimeoutError):
        connect = isinstance(exc, aiohttp.ConnectionTimeoutError)
        what = "connecting" if connect else "waiting for the response"
        msg = f"timed out {what} (timeout {timeout}s)"
        return APITimeoutError(msg, method=method, url=url, request_sent=not connect)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        # Before ClientConnectorError: its os_error raises on some aiohttp versions here.
        msg = (
            f"the server's certificate could not be verified ({exc.host}:{exc.port}): "
            f"{exc.certificate_error}; trust its CA with ssl= or SSL_CERT_FILE"
        )
        return APIConnectionError(msg, method=method, url=url, request_sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = getattr(exc.os_error, "reason", None)
        if reason in _NOT_TLS:  # https:// to a port that speaks plain HTTP
            msg = (
                f"the server at {exc.host}:{exc.port} does not speak TLS on this port "
                "(is the URL http:// rather than https://?)"
            )
        else:
            msg = f"cannot connect to {exc.host}:{exc.port}: {exc.os_error or exc}"
        return APIConnectionError(msg, method=method, url=url, request_sent=False)
    if isinstance(exc, aiohttp.ClientPayloadError):
        msg = _payload_words(exc)
    elif isinstance(exc, aiohttp.ServerDisconnectedError):
        msg = "the server closed the connection without a complete response"
    elif isinstance(exc, aiohttp.ClientResponseError):
        msg = f"invalid HTTP response: {exc.message}"
    else:
        msg = f"{type(exc).__name__}: {exc}"
    return APIConnectionError(msg, method=method, url=url)


#: OpenSSL's reasons for a handshake answered by something that is not TLS.
_NOT_TLS: Final = frozenset({"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE"})
_RECEIVED: Final = re.compile(r"received (\d+) of (\d+) bytes")
_PAYLOAD_ERRORS: Final = ("ContentLengthError", "TransferEncodingError", "ContentEncodingError")


def _payload_words(exc: aiohttp.ClientPayloadError) -> str:
    """A body that broke off, in words.

    aiohttp's own words read like an HTTP status (``<ContentLengthError: 400, ...>``);
    its parser error is named in the message (or is the cause), on every version.
    """
    text = f"{exc} {exc.__cause__!r}"
    name = next((n for n in _PAYLOAD_ERRORS if n in text), "")
    if name == "ContentLengthError":
        if counts := _RECEIVED.search(text):
            got, wanted = (int(n) for n in counts.groups())
            return f"the connection closed after {got:,} of {wanted:,} bytes of the response body"
        return "the connection closed before the whole response body (its Content-Length) arrived"
    if name == "TransferEncodingError":
        return "the response body's chunked framing was cut short or malformed"
    if name == "ContentEncodingError":
        return "the response body could not be decompressed (its Content-Encoding is broken)"
    return "the connection broke while reading the response body"


def _client_timeout(timeout: float | aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    """Check the per-attempt timeout (finite, positive seconds) and make it aiohttp's."""
    if isinstance(timeout, aiohttp.ClientTimeout):
        for name in ("total", "connect", "sock_read", "sock_connect"):
            arguments.seconds(getattr(timeout, name), f"timeout.{name}")
        return timeout
    return aiohttp.ClientTimeout(total=arguments.seconds(timeout, "timeout"))


def _discard(session: aiohttp.ClientSession) -> None:
    """Close the sockets of a session whose event loop has ended, without that loop.

    aiohttp's own close needs the loop; with the loop closed, its connector
    only forgets its connections, and their sockets leak until collected. The
    socket objects of asyncio's transports are closed here directly instead
    (private attributes, read defensively: on any surprise, nothing is done).
    """
    connector = session.connector
    if connector is None:
        return
    pooled = [proto for conns in getattr(connector, "_conns", {}).values() for proto, _ in conns]
    for proto in [*pooled, *getattr(connector, "_acquired", ())]:
        transport = getattr(proto, "transport", None)
        sock = getattr(transport, "_sock", None)
        if sock is not None:
            # What asyncio's own _call_connection_lost does, which needs the loop to run.
            sock.close()
            transport._sock = None  # type: ignore[union-attr]
    connector._close()  # marks it closed, so the session reports closed and never warns


class _Handler(ResponseHandler):
    """aiohttp's connection protocol, except that a connection holding unread data is not reusable.

    A server can write on an idle keep-alive connection (an extra response, a
    late duplicate). aiohttp keeps those bytes, and would hand them to the next
    request on that connection as its answer: every later answer on it would
    belong to the request before (RFC 9112 section 9.3: a client must not take
    such data as a response). aiohttp asks ``is_connected()`` of a pooled
    connection before it reuses it (and when it expires idle ones), and closes
    it when the answer is no: here the answer is also no while bytes wait unread.
    Written out rather than calling the parent's, to cost nothing per request.
    """

    def is_connected(self) -> bool:
        transport = self.transport
        return (
            transport is not None
            and not transport.is_closing()
            and not self._buffer  # a parsed message nobody asked for
            and not self._tail  # bytes not parsed yet
        )


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector, making its connections with :class:`_Handler`.

    ``_factory`` is aiohttp's private attribute (3.11 to 3.14 alike); without it,
    the connections are aiohttp's own, and the answer checks of ``get`` and
    ``list`` (which close a shifted connection) remain the defence.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if hasattr(self, "_factory"):
            handler: type[ResponseHandler] = _Handler
            self._factory = functools.partial(handler, loop=asyncio.get_running_loop())


class Transport:
    """Sends requests to the API with auth, timeouts, retries and error mapping.

    Args:
        base_url: The API root, already validated, no trailing ``/``.
        credentials: The token and its header.
        user_agent: The User-Agent header value.
        timeout: Seconds per attempt, or an ``aiohttp.ClientTimeout``.
        deadline: Seconds for a whole call, all attempts and waits included; ``None``: no limit.
        retry: The retry policy.
        retry_budget: The client-wide retry budget.
        session: A caller's own session (then never closed here); else one is
            created on first use inside the running loop.
        connector_limit: Connections the created session may open at once (default 100).
        trace_configs: aiohttp trace configs for the created session (OpenTelemetry etc.).
            With ``session``, ``proxy``, ``ssl``, ``connector_limit`` and
            ``trace_configs`` are refused: they would be silently ignored.
        max_response_size: The largest decompressed body accepted, in bytes.
        on_retry: Called with :class:`~calyptia_logs.retry.RetryDetails` before each retry.
        on_response: Called with a :class:`~calyptia_logs.transport.core.ResponseInfo`
            after every HTTP exchange (each attempt, each redirect hop).
        follow_redirects: Follow 3xx answers (at most 10 hops); credentials are
            never sent to another origin. Off by default: a 3xx is a ``RedirectError``.
        adaptive_rate_limit: Pace requests after a 429 (see :mod:`calyptia_logs.ratelimit`).
        max_rate: The most requests per second, ever.
        proxy: A forward proxy URL (``user:password@`` allowed); see
            :mod:`calyptia_logs.transport.network`.
        ssl: An ``ssl.SSLContext``, or the path of a CA bundle to trust.
        trust_env: Take the proxy (``HTTPS_PROXY``, ``NO_PROXY``, ...) and the CA
            bundle (``SSL_CERT_FILE``, ``SSL_CERT_DIR``) from the environment
            when not given.
    """

    base_url: str
    credentials: Credentials
    retry: RetryPolicy
    retry_budget: RetryBudget
    deadline: float | None
    limiter: AdaptiveRateLimiter
    max_response_size: int
    on_retry: OnRetry | None
    on_response: Callable[[ResponseInfo], None] | None
    follow_redirects: bool

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        user_agent: str,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        retry: RetryPolicy | None = None,
        retry_budget: RetryBudget | None = None,
        session: aiohttp.ClientSession | None = None,
        connector_limit: int | None = None,
        trace_configs: Sequence[aiohttp.TraceConfig] | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        on_retry: OnRetry | None = None,
        on_response: Callable[[ResponseInfo], None] | None = None,
        follow_redirects: bool = False,
        adaptive_rate_limit: bool = True,
        max_rate: float | None = None,
        proxy: str | None = None,
        ssl: SSLOption | None = None,
        trust_env: bool = True,
    ) -> None:
        if session is not None:
            given = {
                "proxy": proxy is not None,
                "ssl": ssl is not None,
                "connector_limit": connector_limit is not None,
                "trace_configs": bool(trace_configs),
            }
            if any(given.values()):
                # Ignored, they would look applied (an OpenTelemetry hook that never fires).
                names = ", ".join(f"{name}=" for name, on in given.items() if on)
                msg = f"{names} configure the client's own session: set them on yours instead"
                raise ValueError(msg)
        # Read once, here: the environment of the moment the client is made.
        self._proxy = (
            None if session is not None else resolve_proxy(base_url, proxy, trust_env=trust_env)
        )
        self._ssl = None if session is not None else resolve_ssl(ssl, trust_env=trust_env)
        self.base_url = base_url
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.retry_budget = retry_budget if retry_budget is not None else RetryBudget()
        self.deadline = arguments.seconds(deadline, "deadline")
        # One limiter for every call: dormant (one attribute check per request) until a 429.
        self.limiter = AdaptiveRateLimiter(
            adaptive=adaptive_rate_limit,
            max_rate=max_rate,
            max_pause=self.retry.max_retry_after,
            sleep=self.retry.sleep,
        )
        self.max_response_size = arguments.count(max_response_size, "max_response_size")
        # Never echoed back: every error built here has these removed (a server may echo them).
        # A token shorter than any real one cannot be told from ordinary text, so is left alone.
        token = credentials.token
        secrets = (token, *(() if self._proxy is None else self._proxy.secrets))
        self._secrets = tuple(s for s in secrets if len(s) >= MIN_SECRET_CHARS)
        self.on_retry = on_retry
        self.on_response = on_response
        self.follow_redirects = follow_redirects
        self._timeout = _client_timeout(timeout)
        self._headers = build_headers(credentials, user_agent)
        self._anonymous_headers = build_headers(None, user_agent)
        self._session = session
        self._owns_session = session is None
        # A session we create carries the headers as its defaults (cheaper per
        # request); a caller's session gets them with every request instead, and
        # so does ours when redirects may lead elsewhere, so that they can be left out.
        # Never with a proxy: aiohttp sends a session's default headers to the proxy
        # too (in the CONNECT of an https tunnel), and the token must not reach it.
        self._default_headers = self._owns_session and not follow_redirects and self._proxy is None
        self._proxy_url = None if self._proxy is None else self._proxy.url
        self._proxy_headers = None if self._proxy is None else self._proxy.headers()
        json_type = {"Content-Type": "application/json"}
        self._request_headers = None if self._default_headers else self._headers
        self._json_request_headers = (
            json_type if self._default_headers else self._headers | json_type
        )
        if self._proxy_headers is not None and base_url.startswith("http:"):
            # aiohttp sends proxy headers only on the CONNECT of an https tunnel; a plain-http
            # request goes to the proxy itself (absolute form) and must carry them, or an
            # authenticating proxy answers 407. Only for http: inside an https tunnel they
            # would reach the origin. (aiohttp's BasicAuth proxy_auth, which does the same,
            # is deprecated since 3.14.)
            self._headers = self._headers | self._proxy_headers
            self._request_headers = self._headers
            self._json_request_headers = self._headers | json_type
        self._connector_limit = arguments.count(
            DEFAULT_CONNECTOR_LIMIT if connector_limit is None else connector_limit,
            "connector_limit",
            minimum=0,
        )
        # Requests wait for a free connection here, before aiohttp's timeout starts,
        # so that a queue for the pool never counts against a request's timeout.
        limit = self._connector_limit if session is None else getattr(session.connector, "limit", 0)
        self._slots = Slots(limit) if limit else None
        self._trace_configs = list(trace_configs or ())
        self._closed = False
        # The event loop this transport's session belongs to, set on first use.
        self._loop: asyncio.AbstractEventLoop | None = None
        # One coroutine fewer per call when there are no redirects to follow.
        self._fetch = self._exchange if follow_redirects else self._send

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, credentials={self.credentials!r})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session in use, if one was given or has been created yet."""
        return self._session

    def _open_session(self) -> aiohttp.ClientSession:
        if self._closed:
            msg = "this client is closed; create a new CalyptiaClient"
            raise CalyptiaError(msg)
        self._loop = asyncio.get_running_loop()
        # Created here, inside the running loop, never at construction.
        connector = _Connector(
            limit=self._connector_limit, ssl=True if self._ssl is None else self._ssl
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers if self._default_headers else None,
            trace_configs=self._trace_configs or None,
        )
        return self._session

    async def close(self) -> None:
        """Close the session if this transport created it; a caller's own session stays open.

        Called from another event loop than the session's, it closes the
        session in its own loop (or, if that loop is gone, closes its sockets).
        """
        self._closed = True
        session, self._session = self._session, None
        if session is None or not self._owns_session or session.closed:
            return
        home = self._loop
        if home is None or home is asyncio.get_running_loop():
            await session.close()
        elif home.is_closed():
            _discard(session)
        else:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(session.close(), home))

    def _check_loop(self, method: str, url: str) -> None:
        """Refuse to use the session from an event loop other than the one it was made in."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            return
        if self._session is not None and self._owns_session and self._loop.is_closed():
            # Its loop ended with the session open (asyncio.run() returned while the
            # client was not closed): nothing can await its close now, so release its
            # sockets here rather than leak them.
            _discard(self._session)
        msg = (
            "this client was first used in another event loop; create one CalyptiaClient "
            "per event loop (each asyncio.run() call starts a new loop)"
        )
        raise CalyptiaError(msg, method=method, url=url)

    async def request(
        self,
        method: str,
        path: str,
        cls: type[T],
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        check: Check[T] | None = None,
    ) -> T:
        """Send one API call (with retries) and decode its answer into ``cls``.

        Args:
            method: The HTTP method.
            path: The path under the base URL, starting with ``/``.
            cls: The model the success body decodes to.
            params: Query parameters.
            json: A model or plain data to send as the JSON body.
            check: Says whether the decoded answer is about what was asked for
                (the log of the ID in the path); an answer about anything else
                is refused, its connection closed, and the attempt retried.

        Raises:
            CalyptiaError: Any failure, as the matching subclass.
        """
        url = self.base_url + path
        data = None if json is None else converter.dumps(json)
        headers = self._request_headers if data is None else self._json_request_headers
        if self.deadline is not None:
            return await self._retrying(
                lambda: self._attempt(method, url, params, data, headers, cls, check),
                method,
                path,
                url,
            )
        # The hot path: one attempt, no retry machinery and no closures until
        # something fails; decoding happens inside the retried scope, so a 503
        # or a body cut short in transit is retried like a reset.
        try:
            response = await self._fetch(method, url, params, data, headers)
            result = decode_success(response, cls)
            if check is not None and (about := check(result)) is not None:
                raise mismatch(response, about)
        except CalyptiaError as first:
            return await self.retry.recover(
                first,
                lambda: self._attempt(method, url, params, data, headers, cls, check),
                method=method,
                path=path_template(path),  # a label for logs and hooks: one per endpoint
                budget=self.retry_budget,
                on_retry=self.on_retry,
                limiter=self.limiter,
            )
        budget = self.retry_budget
        if budget.available < budget.capacity:  # a full budget has nothing to refund
            budget.refund(budget.success_refund)
        return result

    async def _attempt(  # noqa: PLR0917 - private, mirrors _exchange plus the type
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        cls: type[T],
        check: Check[T] | None,
    ) -> T:
        """One retryable attempt of :meth:`request`: exchange, decode, check."""
        response = await self._fetch(method, url, params, data, headers)
        result = decode_success(response, cls)
        if check is not None and (about := check(result)) is not None:
            raise mismatch(response, about)
        return result

    async def _retrying(
        self, attempt: Callable[[], Awaitable[R]], method: str, path: str, url: str
    ) -> R:
        """Run ``attempt`` under the retry policy, and the deadline if there is one."""
        call = self.retry.call(
            attempt,
            method=method,
            path=path_template(path),  # a label for logs and hooks: one per endpoint
            budget=self.retry_budget,
            on_retry=self.on_retry,
            limiter=self.limiter,
        )
        if self.deadline is None:
            return await call
        try:
            async with asyncio.timeout(self.deadline):
                return await call
        except TimeoutError as exc:
            msg = (
                f"the call did not complete within its deadline of {self.deadline:g}s "
                "(all attempts and waits included)"
            )
            raise APITimeoutError(msg, method=method, url=url) from exc

    async def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> RawResponse:
        """One attempt: send, read the whole body, follow redirects if allowed."""
        response = await self._send(method, url, params, data, headers)
        hops = 0
        while (
            self.follow_redirects
            and response.status in REDIRECT_STATUSES
            and "Location" in response.headers
        ):
            hops += 1
            if hops > MAX_REDIRECTS:
                error = error_from_response(response)
                error.message = f"more than {MAX_REDIRECTS} redirects; the last one not followed"
                raise error
            try:
                method, url, same_origin = next_hop(
                    method, url, response.status, response.headers["Location"]
                )
            except ValueError as exc:  # a junk Location: the answer is the error
                error = error_from_response(response)
                error.message = one_line(f"{error.message}: {exc}", MESSAGE_MAX_CHARS)
                raise error.redact(self._secrets) from None
            if method == "GET":
                data = None
            if not same_origin:
                # Never hand a credential to another origin (aiohttp would strip
                # only Authorization, and keep X-Project-Token).
                headers = self._anonymous_headers
                if self._proxy_headers is not None and url.startswith("http:"):
                    headers = headers | self._proxy_headers  # for the proxy (see __init__)
            params = None  # the Location carries its own query
            response = await self._send(method, url, None, data, headers)
        return response

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> RawResponse:
        """One HTTP exchange: send, read the whole body, translate any transport failure."""
        session = self._session or self._open_session()
        if self._loop is not asyncio.get_running_loop():
            self._check_loop(method, url)
        if not self._owns_session and session.closed:
            # aiohttp would raise a bare RuntimeError; a caller's session may have been closed
            # (ours is closed only by close(), after which _open_session() refuses).
            msg = "the aiohttp session this client uses is closed"
            raise CalyptiaError(msg, method=method, url=url)
        timed = self.on_response is not None or logger.isEnabledFor(logging.DEBUG)
        limiter = self.limiter
        if limiter.pacing:  # waits before taking a connection: a paced request holds none
            await limiter.acquire()
        cuts = limiter.cuts
        limiter.sent += 1
        slots = self._slots
        if slots is not None and not slots.try_take():
            await slots.take()
        started = time.perf_counter() if timed else 0.0
        failure: APIConnectionError | None = None
        try:
            async with session.request(
                method,
                url,
                params=params,
                # A large body as a stream: aiohttp warns (ResourceWarning) of raw bytes over
                # 1 MiB, which it sends in one write; a fresh stream for every attempt.
                data=data if data is None or len(data) <= LARGE_BODY else io.BytesIO(data),
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
                proxy=self._proxy_url,
                proxy_headers=self._proxy_headers,
            ) as resp:
                # Held to close its connection if the answer turns out to be about something
                # else. aiohttp's private attribute, read defensively: the public
                # resp.connection is None as soon as the body is in (small answers: at once).
                protocol = getattr(resp, "_protocol", None)
                length = resp.content_length
                if (
                    length is not None
                    and length <= self.max_response_size
                    and "Content-Encoding" not in resp.headers
                ):
                    body = await resp.read()
                else:
                    body = await self._read_capped(resp, method, url)
                response = RawResponse(
                    resp.status,
                    resp.headers,
                    body,
                    method,
                    url,
                    self._secrets,
                    protocol,
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            failure = _translate(exc, method, url, self._timeout.total)
            failure.__cause__ = exc
        finally:
            if slots is not None:
                slots.give()
        if failure is not None:
            # Raised here, outside the except block, so that the aiohttp exception is only the
            # cause, and redact() can drop it when it would show the token: a parser error's
            # request_info holds the request headers, and a redirect can put the token in a
            # URL that aiohttp quotes (both found by the wire fuzzer).
            raise failure.redact(self._secrets)
        if response.status == 429:
            retry_after, quota = throttle_hints(response)
            limiter.on_throttle(sent_at_cut=cuts, retry_after=retry_after, quota_limit=quota)
        if timed:
            self._observe(response, time.perf_counter() - started)
        return response

    async def _read_capped(self, resp: aiohttp.ClientResponse, method: str, url: str) -> bytes:
        """Read a body of unknown, compressed or excessive length, up to ``max_response_size``."""
        limit = self.max_response_size
        if resp.content_length is not None and "Content-Encoding" not in resp.headers:
            self._too_large(resp, method, url, resp.content_length)
        # Count what decompression yields, chunk by chunk: a gzip bomb stops here.
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_any():
            size += len(chunk)
            if size > limit:
                self._too_large(resp, method, url, size)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(
        self, resp: aiohttp.ClientResponse, method: str, url: str, size: int
    ) -> NoReturn:
        msg = (
            f"response body of at least {size} bytes exceeds max_response_size "
            f"({self.max_response_size} bytes)"
        )
        raise ResponseTooLargeError(
            msg,
            status=resp.status,
            content_type=resp.headers.get("Content-Type"),
            method=method,
            url=url,
        )

    def _observe(self, response: RawResponse, elapsed: float) -> None:
        """Log the exchange at DEBUG and hand it to ``on_response``: metadata only."""
        info = ResponseInfo(
            method=response.method,
            # A followed redirect's path is the server's text: it may echo the token.
            path=one_line(path_template(urlsplit(response.url).path), None, self._secrets),
            status=response.status,
            elapsed=elapsed,
            request_id=request_id(response.headers, response.secrets),
            rate_limit=self.limiter.rate,
        )
        logger.debug(
            "%s %s -> %d in %.1f ms%s",
            info.method,
            info.path,
            info.status,
            elapsed * 1000,
            f" (request id {info.request_id})" if info.request_id else "",
            extra={
                "calyptia_method": info.method,
                "calyptia_path": info.path,
                "calyptia_status": info.status,
                "calyptia_elapsed": elapsed,
                "calyptia_request_id": info.request_id,
            },
        )
        if self.on_response is not None:
            self.on_response(info)

    async def _page_attempt(
        self,
        url: str,
        query: Mapping[str, str],
        cls: type[T],
        cursor_param: str,
        check: Check[T] | None,
    ) -> tuple[T, str | None]:
        """One attempt at a page: the decoded page and the cursor of its ``Link`` header."""
        response = await self._fetch("GET", url, query, None, self._request_headers)
        page = decode_success(response, cls)
        if check is not None and (about := check(page)) is not None:
            raise mismatch(response, about)
        try:
            return page, cursor_from_link(response.headers.get("Link"), cursor_param)
        except ValueError as exc:
            msg = f"the Link header's next cursor is unusable: {exc}"
            raise ResponseDecodeError(
                msg, status=response.status, method="GET", url=response.url
            ) from exc

    async def paginate(
        self,
        path: str,
        cls: type[T],
        *,
        items_of: Callable[[T], Iterable[ItemT]],
        key_of: Callable[[ItemT], Hashable],
        cursor_of: Callable[[T], str | None],
        params: Mapping[str, str] | None = None,
        cursor_param: str = "before",
        check: Check[T] | None = None,
    ) -> AsyncGenerator[ItemT, None]:
        """Yield every item of a cursor-paginated list once, following the cursor to the end.

        The next cursor comes from the body (``cursor_of(page)``), or else from
        a ``Link: <...?before=X>; rel="next"`` header; no cursor ends the walk.
        An item whose key (``key_of``) was already yielded is left out: a server
        that repeats items across pages does not repeat them to the caller (the
        last :data:`MAX_REMEMBERED_ITEMS` keys are remembered).

        Raises:
            PaginationError: The server sent a cursor it had already sent, or
                :data:`MAX_PAGES_WITHOUT_NEW_ITEMS` pages in a row brought no new
                item (empty pages, or repeats, each with a fresh cursor): either
                would be followed forever, and the second without the caller's
                loop body ever running.
            CalyptiaError: A page failed (after retries).
        """
        query = dict(params or {})
        url = self.base_url + path
        cursors = RecentKeys(MAX_REMEMBERED_CURSORS)
        keys = RecentKeys(MAX_REMEMBERED_ITEMS)
        barren = 0  # pages in a row without a new item
        while True:
            page, link_cursor = await self._retrying(
                lambda: self._page_attempt(url, query, cls, cursor_param, check),
                "GET",
                path,
                url,
            )
            fresh = False
            for item in items_of(page):
                if keys.add(key_of(item)):
                    fresh = True
                    yield item
            cursor = cursor_of(page) or link_cursor
            if not cursor:
                return
            barren = 0 if fresh else barren + 1
            if not cursors.add(cursor):
                problem = f"sent cursor {cursor!r:.100} twice"
            elif barren >= MAX_PAGES_WITHOUT_NEW_ITEMS:
                problem = f"sent {barren} pages in a row without a new item, each with a cursor"
            else:
                query[cursor_param] = cursor
                continue
            msg = f"the server {problem}; stopping instead of following it forever"
            raise PaginationError(msg, method="GET", url=url).redact(self._secrets)
