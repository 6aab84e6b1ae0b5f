"""The pure core of the transport: requests in, responses out, no I/O.

Everything here works on plain values (status, headers, bytes), so it is
tested without an event loop or a socket: configuration checks, headers,
mapping an error response to an exception, decoding a success, and finding
the next page's cursor in a body field or an RFC 8288 ``Link`` header.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from http import HTTPStatus
from typing import Any, Final, NamedTuple, Protocol, TypeVar
from urllib.parse import parse_qs, urljoin, urlsplit

import attrs
import orjson

from calyptia_logs import converter, server_values
from calyptia_logs.errors import (
    APIStatusError,
    ResponseDecodeError,
    error_for_status,
    excerpt,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "Check",
    "Closable",
    "Credentials",
    "RawResponse",
    "RecentKeys",
    "ResponseInfo",
    "build_headers",
    "check_base_url",
    "cursor_from_link",
    "decode_success",
    "error_from_response",
    "is_loopback",
    "mismatch",
    "next_hop",
    "path_template",
    "request_id",
    "resolve_credentials",
    "throttle_hints",
    "user_agent",
]

T = TypeVar("T")

DEFAULT_BASE_URL: Final = "https://cloud-api.calyptia.com"
ENV_TOKEN: Final = "CALYPTIA_CLOUD_TOKEN"  # noqa: S105 - a variable name, not a secret
ENV_PROJECT_TOKEN: Final = "CALYPTIA_PROJECT_TOKEN"  # noqa: S105
ENV_URL: Final = "CALYPTIA_CLOUD_URL"
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_UUID_IN_PATH: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_REQUEST_ID_HEADERS: Final = ("X-Request-Id", "X-Amzn-Trace-Id", "Request-Id")
#: The redirect statuses :func:`next_hop` follows.
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})


@attrs.frozen(repr=False)
class Credentials:
    """A token and the header that carries it. Its repr never shows the token."""

    header: str
    token: str = attrs.field(repr=False)

    @property
    def kind(self) -> str:
        """``"user token"`` or ``"project token"``."""
        return "project token" if self.header == "X-Project-Token" else "user token"

    def headers(self) -> dict[str, str]:
        """The header to send."""
        if self.header == "Authorization":
            return {"Authorization": f"Bearer {self.token}"}
        return {self.header: self.token}

    def __repr__(self) -> str:
        return f"Credentials({self.kind}, token=<redacted>)"


def _check_token(token: str, what: str) -> str:
    token = token.strip()
    if not token:
        msg = f"the {what} is empty"
        raise ValueError(msg)
    if _CONTROL.search(token):
        # A CR/LF in a header value would let a token inject headers.
        msg = f"the {what} contains control characters (a stray newline?)"
        raise ValueError(msg)
    return token


def resolve_credentials(
    token: str | None,
    project_token: str | None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """Pick the credentials: explicit arguments win over the environment.

    Args:
        token: A user token, sent as ``Authorization: Bearer``.
        project_token: A project token, sent as ``X-Project-Token``.
        environ: Where to look for ``CALYPTIA_CLOUD_TOKEN`` / ``CALYPTIA_PROJECT_TOKEN``.

    Raises:
        ValueError: Both or neither were given, or a token is malformed.
    """
    if token is not None and project_token is not None:
        msg = "pass either token= (user token) or project_token=, not both"
        raise ValueError(msg)
    if token is not None:
        return Credentials("Authorization", _check_token(token, "token"))
    if project_token is not None:
        return Credentials("X-Project-Token", _check_token(project_token, "project token"))
    env = os.environ if environ is None else environ
    env_token, env_project = env.get(ENV_TOKEN), env.get(ENV_PROJECT_TOKEN)
    if env_token and env_project:
        msg = f"both {ENV_TOKEN} and {ENV_PROJECT_TOKEN} are set; unset one, or pass a token"
        raise ValueError(msg)
    if env_project:
        return Credentials("X-Project-Token", _check_token(env_project, ENV_PROJECT_TOKEN))
    if env_token:
        return Credentials("Authorization", _check_token(env_token, ENV_TOKEN))
    msg = (
        f"no credentials: pass token= (or project_token=), or set {ENV_TOKEN} "
        f"(or {ENV_PROJECT_TOKEN}) in the environment"
    )
    raise ValueError(msg)


def check_base_url(
    base_url: str | None,
    *,
    allow_insecure_http: bool = False,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Validate the base URL (argument, else ``CALYPTIA_CLOUD_URL``, else the default).

    Returns:
        The URL without a trailing ``/``.

    Raises:
        ValueError: Not http(s), no host, a query or fragment, or plain http to a
            non-loopback host without ``allow_insecure_http`` (the token would
            cross the network in clear).
    """
    env = os.environ if environ is None else environ
    url = (base_url or env.get(ENV_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname if parts.port is None or parts.port > 0 else None
    except ValueError:  # a port out of range, an unclosed IPv6 literal
        hostname = None
    shown = _without_userinfo(url)
    if hostname is None or parts.scheme not in ("http", "https"):
        msg = f"base_url must be an http(s) URL with a host, got {shown!r}"
        raise ValueError(msg)
    if parts.query or parts.fragment or parts.username or parts.password:
        msg = f"base_url must not carry a query, fragment or user info, got {shown!r}"
        raise ValueError(msg)
    if parts.scheme == "http" and not is_loopback(hostname) and not allow_insecure_http:
        msg = (
            f"refusing to send credentials over plain http to {hostname}; "
            "use https, or pass allow_insecure_http=True if you really mean it"
        )
        raise ValueError(msg)
    return url


def _without_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` replaced: messages never repeat credentials."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if sep and "@" in authority:
        authority = "<redacted>@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost``, 127.0.0.0/8 or ``::1``."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def user_agent(version: str) -> str:
    """The User-Agent: ``calyptia-logs/<version> python/<x.y> aiohttp/<v>``."""
    import aiohttp  # noqa: PLC0415 - only its version is needed, and it is imported anyway

    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"calyptia-logs/{version} python/{py} aiohttp/{aiohttp.__version__}"


def build_headers(credentials: Credentials | None, agent: str) -> dict[str, str]:
    """Build the headers every request carries (``None``: without credentials), once per client."""
    auth = credentials.headers() if credentials is not None else {}
    return {"User-Agent": agent, "Accept": "application/json", **auth}


class Closable(Protocol):
    """A connection an answer came on: closing it keeps it from being used again."""

    def close(self) -> None:
        """Close the connection."""


#: A check of a decoded answer against the call it answers: ``None`` when it fits,
#: else what the answer is about instead (``"pipeline log 3fa8..."``).
Check = Callable[[T], str | None]


class RawResponse(NamedTuple):
    """What came back: status, headers and the whole body, for the pure decoders.

    ``secrets`` are the client's credentials: any error built from this
    response has them removed, whatever the server echoed. ``connection`` is
    what the answer came on (anything with ``close()``), so that an answer found
    to be about another object can have its connection closed (:func:`mismatch`).
    A named tuple, not a frozen attrs class: one is built per request, and a
    tuple costs a fraction of the instructions (benchmarks/instructions.py).
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    method: str
    url: str
    secrets: tuple[str, ...] = ()
    connection: Closable | None = None

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, if sent."""
        return self.headers.get("Content-Type")


def _error_document(body: bytes) -> dict[str, Any] | None:
    """The API's ``{"error": ..., "detail": ...}`` document, or ``None`` for anything else."""
    if not body:
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data
    return None


def throttle_hints(response: RawResponse) -> tuple[float | None, float | None]:
    """What a 429 answer says about the rate limit: its ``Retry-After`` and ``quotaLimit``."""
    document = _error_document(response.body)
    quota = None if document is None else server_values.quota_limit(document.get("quotaLimit"))
    return server_values.retry_after(response.headers.get("Retry-After")), quota


def error_from_response(response: RawResponse, *, attempts: int = 1) -> APIStatusError:
    """Map a non-2xx response to the matching :class:`APIStatusError` subclass.

    The server's ``error`` and ``detail`` fields become ``message`` and
    ``detail``; an HTML page or empty body from a proxy gets the reason
    phrase and keeps a short excerpt of what was sent. Every value is read
    through :mod:`calyptia_logs.server_values`: one line, capped, no credentials.
    """
    status = response.status
    secrets = response.secrets
    doc = _error_document(response.body)
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown Status"
    if doc is not None:
        message = server_values.one_line(doc["error"], server_values.MESSAGE_MAX_CHARS, secrets)
        detail = doc.get("detail") if isinstance(doc.get("detail"), str) else None
        extra = server_values.error_fields(doc, secrets)
    else:
        kind = server_values.one_line(response.content_type or "no content type", 100)
        message = reason
        detail = (
            f"the body is not a Calyptia error document ({kind}, {len(response.body)} bytes)"
            if response.body
            else "empty body"
        )
        extra = {}
    cls = error_for_status(status)
    if 300 <= status < 400:
        location = response.headers.get("Location")
        where = server_values.one_line(location, 200) if location else "an unnamed location"
        message = f"{reason}: redirect to {where} not followed"
    error = cls(
        message,
        status=status,
        detail=detail,
        body=excerpt(response.body),
        headers=response.headers,
        method=response.method,
        url=response.url,
        attempts=attempts,
        error_fields=extra,
        retry_after=server_values.retry_after(response.headers.get("Retry-After")),
    )
    return error.redact(secrets)


def mismatch(response: RawResponse, about: str) -> ResponseDecodeError:
    """The error for a 2xx answer about another object than the call asked for.

    The connection it came on is closed first: a keep-alive connection whose
    answers have shifted by one (a server that wrote an extra response while the
    connection was idle) would hand every later request the answer to the one
    before (RFC 9112 section 9.3: a client must not take such data as a response).

    Args:
        response: The answer.
        about: What the answer is about instead, in words (no server text).
    """
    if response.connection is not None:
        response.connection.close()
    msg = (
        f"the answer is about {about}, not what was asked for; not taken as this "
        "call's answer, and its connection is closed"
    )
    error = ResponseDecodeError(
        msg,
        status=response.status,
        body=excerpt(response.body),
        content_type=response.content_type,
        mismatch=True,
        method=response.method,
        url=response.url,
    )
    return error.redact(response.secrets)


def decode_success(response: RawResponse, cls: type[T]) -> T:
    """Decode a response into ``cls``, or raise the error it stands for.

    Raises:
        APIStatusError: The status is not 2xx.
        ResponseDecodeError: The body is not JSON of the expected shape.
    """
    if not 200 <= response.status < 300:
        raise error_from_response(response)
    try:
        return converter.decode(
            response.body, cls, status=response.status, content_type=response.content_type
        )
    except ResponseDecodeError as exc:
        # The converter knows nothing of requests; add where the body came from,
        # and take out anything of ours the server echoed.
        exc.method, exc.url = response.method, response.url
        exc.redact(response.secrets)
        raise


_LINK: Final = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL_NEXT: Final = re.compile(r"""rel\s*=\s*"?([^";]*)"?""", re.IGNORECASE)


def cursor_from_link(link: str | None, cursor_param: str = "before") -> str | None:
    """Read the next page's cursor from an RFC 8288 ``Link: <...?before=X>; rel="next"`` header.

    Returns:
        The value of ``cursor_param`` in the ``rel="next"`` target, or ``None``
        (also for a header longer than any server sends, left unparsed).

    Raises:
        ValueError: The cursor is longer than
            :data:`~calyptia_logs.server_values.CURSOR_MAX_CHARS`.
    """
    if not link or len(link) > server_values.HEADER_MAX_CHARS:
        return None
    for target, params in _LINK.findall(link):
        rel = _REL_NEXT.search(params)
        if rel and "next" in rel.group(1).split():
            values = parse_qs(urlsplit(target).query).get(cursor_param)
            return server_values.cursor(values[0]) if values else None
    return None


def path_template(path: str) -> str:
    """Replace the IDs in a path by ``{id}``: low-cardinality labels for logs and metrics."""
    return _UUID_IN_PATH.sub("{id}", path)


def request_id(headers: Mapping[str, str], secrets: tuple[str, ...] = ()) -> str | None:
    """The server's request ID header, if it sent one: one line, at most 200 characters.

    ``secrets`` (the client's credentials) are removed: a server may echo anything there.
    """
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return server_values.request_id(value, secrets)
    return None


@attrs.frozen(kw_only=True)
class ResponseInfo:
    """Metadata about one HTTP exchange, handed to ``on_response`` hooks (never a credential).

    Attributes:
        method: The HTTP method.
        path: The path template, IDs replaced by ``{id}``.
        status: The HTTP status.
        elapsed: Seconds from sending to the whole body read.
        request_id: The server's request ID header, if any.
        rate_limit: The client's paced rate in requests per second after this
            exchange, or ``None`` while the rate limiter is dormant.
    """

    method: str
    path: str
    status: int
    elapsed: float
    request_id: str | None
    rate_limit: float | None = None


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, parts.port or default


#: The longest redirect target followed; a real ``Location`` is a short URL.
LOCATION_MAX_CHARS: Final = 2048
_URL_UNSAFE: Final = re.compile(r"[\x00-\x20\x7f-\x9f\ud800-\udfff]")


def _redirect_target(url: str, location: str) -> str:
    """The absolute URL a ``Location`` names, checked before anything is sent to it.

    Raises:
        ValueError: Not an http(s) URL with a host and a valid port; user info
            (``user:pw@``), which would put credentials in a request; white space
            or control characters; longer than :data:`LOCATION_MAX_CHARS`.
    """
    if len(location) > LOCATION_MAX_CHARS:
        msg = f"a Location of {len(location)} characters"
        raise ValueError(msg)
    if _URL_UNSAFE.search(location.strip(" \t")):
        msg = "a Location with white space or control characters"
        raise ValueError(msg)
    try:
        target = urljoin(url, location.strip(" \t"))
        parts = urlsplit(target)
        port = parts.port  # raises for a port that is not a number or out of range
        host = parts.hostname
        if host is not None:
            host.encode("idna")  # raises for a label no DNS name can have
    except (ValueError, UnicodeError) as exc:
        msg = f"a Location that is not a valid URL ({exc})"
        raise ValueError(msg) from None
    if parts.scheme not in ("http", "https") or not host or port == 0:
        msg = "a Location that is not an http(s) URL with a host"
        raise ValueError(msg)
    if parts.username is not None or parts.password is not None:
        msg = "a Location with user info (user:password@)"
        raise ValueError(msg)
    return target


def next_hop(method: str, url: str, status: int, location: str) -> tuple[str, str, bool]:
    """Where a redirect leads: the next method, the absolute URL, and whether it stays on origin.

    A 303 (and a 301/302 answering a POST, as browsers do) turns into a GET;
    307 and 308 keep the method and body.

    Returns:
        ``(method, url, same_origin)``.

    Raises:
        ValueError: The ``Location`` is not a URL the client will send a request
            to (see :func:`_redirect_target`); the redirect is not followed.
    """
    target = _redirect_target(url, location)
    same_origin = _origin(url) == _origin(target)
    if status == 303 or (status in (301, 302) and method == "POST"):
        method = "GET"
    return method, target, same_origin


class RecentKeys:
    """A set that remembers only its newest ``size`` keys: bounded memory for long walks."""

    __slots__ = ("_keys", "_order", "_size")

    def __init__(self, size: int) -> None:
        self._keys: set[Hashable] = set()
        self._order: deque[Hashable] = deque()
        self._size = size

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; ``False`` if it is remembered already (seen recently)."""
        if key in self._keys:
            return False
        self._keys.add(key)
        self._order.append(key)
        if len(self._order) > self._size:
            self._keys.discard(self._order.popleft())
        return True

    def __len__(self) -> int:
        return len(self._keys)
