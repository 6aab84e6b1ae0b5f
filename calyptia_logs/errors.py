"""The exceptions raised by calyptia-logs.

Every failure the client can meet ends in one of these types; no aiohttp,
asyncio or cattrs exception escapes the public API (the original is kept as
``__cause__``). The tree::

    CalyptiaError                      anything raised by this library
    ├── InvalidIDError (ValueError)    an ID that is not a UUID; raised before any I/O
    ├── APIConnectionError             the server could not be reached, or the connection broke
    │   └── APITimeoutError            an attempt or the whole call ran out of time
    ├── APIStatusError                 the server answered with a non-2xx status
    │   ├── RedirectError              3xx, not followed (``location`` says where to)
    │   ├── BadRequestError            400
    │   ├── AuthenticationError        401
    │   ├── PermissionDeniedError      403
    │   ├── NotFoundError              404
    │   ├── ConflictError              409
    │   ├── RateLimitError             429 (``retry_after`` in seconds, when sent)
    │   └── ServerError                5xx
    ├── ResponseDecodeError            a 2xx body that is not JSON or not the expected shape
    │   └── ResponseTooLargeError      a body over the client's ``max_response_size``
    ├── PaginationError                list pages that never end (a cursor repeated, no new items)
    ├── WaitTimeoutError (TimeoutError) a wait for the cluster to fill a log request ran out
    └── RetryBudgetExhaustedError      the client-wide retry budget is spent; fails fast

Every error carries its evidence: the request's ``method`` and ``url`` (never
its credentials) and ``attempts``, the number of attempts made. Status errors
add ``status``, the server's ``message`` and ``detail``, a short ``body``
excerpt and the response ``headers`` (with credentials redacted).

Evidence is server text, so it is untrusted: every error makes its text one
line (control characters and line breaks escaped) and caps its length when it
is built, whoever builds it, and the transport removes the client's own
credentials from it (:meth:`CalyptiaError.redact`) before anyone sees it.
``str(error)`` is therefore always one line a log pipeline can trust.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Self
from urllib.parse import quote

from calyptia_logs.server_values import (
    DETAIL_MAX_CHARS,
    HEADER_VALUE_MAX_CHARS,
    MAX_KEPT_ITEMS,
    one_line,
)
from calyptia_logs.server_values import (
    error_fields as bounded_error_fields,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CalyptiaError",
    "ConflictError",
    "InvalidIDError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedirectError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "RetryBudgetExhaustedError",
    "ServerError",
    "WaitTimeoutError",
    "error_for_status",
]

#: How much of a response body an exception keeps, in characters.
BODY_EXCERPT_CHARS: Final = 500
#: The longest message an exception keeps. Our own messages may quote another
#: error (a retry-budget error quotes the last one), hence more than the server's part.
MESSAGE_CHARS: Final = 2000

_REDACTED: Final = "<redacted>"
_SECRET_HEADERS: Final = frozenset(
    {"authorization", "x-project-token", "cookie", "set-cookie", "proxy-authorization"}
)


def excerpt(body: bytes | str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """Return the start of ``body`` as one line of at most ``limit`` characters, marked if cut.

    Bytes are decoded leniently; only the start of a large body is decoded.
    """
    if isinstance(body, bytes):
        size = len(body)
        text = one_line(body[: limit * 4].decode("utf-8", "replace"))
        if size <= limit * 4 and len(text) <= limit:
            return text
        return f"{text[:limit]}... ({size} bytes in all)"
    return one_line(body, limit)


def attempts_text(attempts: int) -> str:
    """Say ``1 attempt`` or ``N attempts``."""
    return f"{attempts} attempt{'s' if attempts != 1 else ''}"


def redact_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Copy ``headers`` with every credential-bearing value replaced by ``<redacted>``.

    At most 50 headers are kept; names and values are made one line and capped.
    """
    if not headers:
        return {}
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if len(kept) >= MAX_KEPT_ITEMS:
            break
        safe = _REDACTED if name.lower() in _SECRET_HEADERS else value
        kept[one_line(name, 100)] = one_line(safe, HEADER_VALUE_MAX_CHARS)
    return kept


def _shows_secret(exc: BaseException, secrets: tuple[str, ...]) -> bool:
    """Whether ``exc``, or anything it chains, shows a secret in its ``str`` or ``repr``."""
    seen: BaseException | None = exc
    for _ in range(16):  # chains are short; a cycle must not loop
        if seen is None:
            return False
        text = f"{seen}{seen!r}"
        if any(secret in text or quote(secret, safe="") in text for secret in secrets):
            return True
        seen = seen.__cause__ or seen.__context__
    return True


class CalyptiaError(Exception):
    """Base class of every error raised by calyptia-logs.

    Attributes:
        message: What went wrong, in words a person can act on.
        method: The HTTP method of the request, when there was one.
        url: The request URL (credentials are never part of it).
        attempts: How many attempts were made before giving up.
        status: The HTTP status of the answer that failed the call; ``None`` when
            there was none (a connection error, a timeout, a bad argument).
        detail: The server's explanation, when it gave one (one line, capped).
    """

    message: str
    method: str | None
    url: str | None
    attempts: int
    status: int | None
    detail: str | None
    args: tuple[Any, ...]
    __cause__: BaseException | None
    __context__: BaseException | None

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        attempts: int = 1,
    ) -> None:
        message = one_line(message, MESSAGE_CHARS)
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = None if url is None else one_line(url, MESSAGE_CHARS)
        self.attempts = attempts
        self.status = None
        self.detail = None

    def redact(self, secrets: Iterable[str]) -> Self:
        """Remove every secret from this error's text (message, URL, evidence), in place.

        The transport calls this with the client's credentials on every error
        it raises, so that a server echoing the token cannot put it in an
        exception. A quoted ``last_error`` is redacted too, and a chained
        exception that would show a secret is dropped.

        Returns:
            The error itself.
        """
        secrets = tuple(secret for secret in secrets if secret)
        if not secrets:
            return self
        for name in ("message", "url", "detail", "body", "content_type"):
            value = getattr(self, name, None)
            if isinstance(value, str):
                setattr(self, name, one_line(value, None, secrets))
        headers = getattr(self, "headers", None)
        if isinstance(headers, dict):  # the subclasses that keep evidence
            setattr(self, "headers", {k: one_line(v, None, secrets) for k, v in headers.items()})  # noqa: B010
        fields = getattr(self, "error_fields", None)
        if isinstance(fields, dict):
            setattr(self, "error_fields", bounded_error_fields(fields, secrets))  # noqa: B010
        last = getattr(self, "last_error", None)
        if isinstance(last, CalyptiaError) and last is not self:
            last.redact(secrets)
        chained = self.__cause__ or self.__context__
        if chained is not None and _shows_secret(chained, secrets):
            # The original (aiohttp's parser error with its request headers, a converter
            # error quoting a field) cannot be redacted, so it is not kept.
            self.__cause__ = self.__context__ = None
            self.__suppress_context__ = True
        self.args = (self.message,)
        return self

    def __str__(self) -> str:
        where = f"{self.method} {self.url}" if self.method and self.url else self.url or ""
        tries = attempts_text(self.attempts)
        suffix = f" [{where}, {tries}]" if where else f" [{tries}]" if self.attempts > 1 else ""
        return f"{self.message}{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class InvalidIDError(CalyptiaError, ValueError):
    """An ID argument is not a UUID; raised before any network traffic."""


class APIConnectionError(CalyptiaError):
    """The server could not be reached, or the connection broke mid-exchange.

    Attributes:
        request_sent: False when the connection was never established, so the
            request cannot have reached the server (safe to retry even a POST).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        attempts: int = 1,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """An attempt exceeded the client's timeout, or the call exceeded its deadline."""


class APIStatusError(CalyptiaError):
    """The server answered with a status that is not a success.

    Attributes:
        status: The HTTP status code.
        message: The server's ``error`` field, or the reason phrase when the
            body is not a Calyptia error document (an HTML proxy page, say).
        detail: The server's ``detail`` field, if any.
        body: A short excerpt of the response body.
        headers: The response headers, credentials redacted.
        error_fields: The other fields of the error document
            (``index``, ``quotaLimit``, ``quotaRemaining``), when sent.
        retry_after: Seconds the server asked to wait (``Retry-After``), when sent.
    """

    status: int
    detail: str | None
    retry_after: float | None
    body: str
    headers: dict[str, str]
    error_fields: dict[str, Any]

    def __init__(
        self,
        message: str,
        *,
        status: int,
        detail: str | None = None,
        body: str = "",
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        url: str | None = None,
        attempts: int = 1,
        error_fields: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts)
        self.status = status
        self.retry_after = retry_after
        self.detail = None if detail is None else one_line(detail, DETAIL_MAX_CHARS)
        self.body = one_line(body, 2 * BODY_EXCERPT_CHARS)  # an excerpt already; a safety net
        self.headers = redact_headers(headers)
        self.error_fields = bounded_error_fields(error_fields or {})

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        base = f"{self.status} {self.message}{detail}"
        where = f"{self.method} {self.url}, " if self.method and self.url else ""
        return f"{base} [{where}{attempts_text(self.attempts)}]"


class RedirectError(APIStatusError):
    """A 3xx answer; redirects are not followed unless the client allows them.

    Attributes:
        location: The ``Location`` the server pointed to, if any.
    """

    @property
    def location(self) -> str | None:
        """The ``Location`` header of the redirect, if sent."""
        for name, value in self.headers.items():
            if name.lower() == "location":
                return value
        return None


class BadRequestError(APIStatusError):
    """400: the request was malformed (an invalid ID or cursor, a bad field)."""


class AuthenticationError(APIStatusError):
    """401: the token is missing, invalid or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the token is valid but may not access this resource."""


class NotFoundError(APIStatusError):
    """404: no such pipeline log (or pipeline)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's current state."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` says how long the server asked to wait."""


class ServerError(APIStatusError):
    """5xx: the server (or a proxy in front of it) failed."""


class ResponseDecodeError(CalyptiaError):
    """A success response whose body is not valid JSON or not the expected shape.

    Attributes:
        status: The HTTP status of the response.
        body: A short excerpt of the body.
        content_type: The response's ``Content-Type``, if any.
        syntax_error: True when the body is not JSON at all (possibly
            truncated in transit), False when it is JSON of the wrong shape.
        mismatch: True when the answer is about another object than the one
            asked for (``get(A)`` answered with log B): answers shifted on a
            keep-alive connection (RFC 9112 section 9.3). That connection is
            closed, and an idempotent call is retried on another.
    """

    status: int
    body: str
    content_type: str | None
    syntax_error: bool
    mismatch: bool

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body: str = "",
        content_type: str | None = None,
        syntax_error: bool = False,
        mismatch: bool = False,
        method: str | None = None,
        url: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, method=method, url=url, attempts=attempts)
        self.status = status
        self.body = one_line(body, 2 * BODY_EXCERPT_CHARS)
        self.content_type = None if content_type is None else one_line(content_type, 200)
        self.syntax_error = syntax_error
        self.mismatch = mismatch


class ResponseTooLargeError(ResponseDecodeError):
    """The (decompressed) response body exceeded the client's ``max_response_size``."""


class PaginationError(CalyptiaError):
    """A list walk (``iter``) stopped because the server's pages would never end.

    Raised when the server sends a cursor it had already sent, or ten pages in a
    row that bring no new item each with a fresh cursor (see docs/pagination.md).
    The items yielded before it are all distinct and real.
    """


class WaitTimeoutError(CalyptiaError, TimeoutError):
    """A wait for the cluster to fill a log request ran out of time.

    Raised by ``wait_until_done`` and ``request_logs``: the server answered, the
    cluster is slow. Not an :class:`APIConnectionError`, so an ``except`` written
    for network trouble does not catch it; a ``TimeoutError``, so an ``except
    TimeoutError`` does.

    Attributes:
        log_id: The log request waited for, or ``None`` if the create itself ran out.
    """

    def __init__(
        self,
        message: str,
        *,
        log_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.log_id = log_id


class RetryBudgetExhaustedError(CalyptiaError):
    """The client-wide retry budget is spent, so this call failed fast instead of retrying.

    The error that would have been retried is kept as ``__cause__`` and as
    ``last_error``. The budget refills as calls succeed.
    """

    def __init__(self, message: str, *, last_error: CalyptiaError, attempts: int) -> None:
        super().__init__(message, method=last_error.method, url=last_error.url, attempts=attempts)
        self.last_error = last_error


_BY_STATUS: Final[dict[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_for_status(status: int) -> type[APIStatusError]:
    """Return the exception class for an HTTP error ``status``."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 300 <= status < 400:
        return RedirectError
    if status >= 500:
        return ServerError
    return APIStatusError
