"""Fault injection for the fake: what can go wrong between a client and the API, on cue.

A :class:`Fault` says *what* happens (a status, a delay, a dropped connection,
a broken body); a :class:`FaultRule` says *to which requests* (method, path
pattern, how many times, with what probability) it happens.
"""

from __future__ import annotations

import asyncio
import random
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
from aiohttp import web

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

__all__ = ["TRANSIENT_MIX", "Fault", "FaultKind", "FaultRule"]

FaultKind = Literal[
    "status", "html", "delay", "drop", "reset", "truncated", "invalid_json", "content_type"
]

_HTML_PAGE: Final = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@attrs.frozen(kw_only=True)
class Fault:
    """One kind of failure. Build it with the class methods.

    Attributes:
        kind: ``status`` (an API error document), ``html`` (a proxy's HTML
            page), ``delay`` (answer late), ``drop`` (close the connection
            mid-body), ``reset`` (close it before any header), ``truncated``
            (a 200 whose JSON is cut short but correctly framed),
            ``invalid_json`` (a 200 that is not JSON), or ``content_type``
            (the healthy answer labelled ``text/plain``).
        status: The HTTP status for ``status`` and ``html``.
        retry_after: A ``Retry-After`` value to send with ``status``.
        delay: Seconds to wait for ``delay`` before answering normally.
        error: The ``error`` field of the document ``status`` sends (the
            lowercased reason phrase when ``None``).
        detail: Its ``detail`` field.
        fields: More fields of that document (``{"quotaLimit": 300}``, say).
    """

    kind: FaultKind
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    error: str | None = None
    detail: str | None = "injected fault"
    fields: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def http_status(
        cls,
        status: int = 503,
        *,
        retry_after: str | float | None = None,
        error: str | None = None,
        detail: str | None = "injected fault",
        fields: Mapping[str, Any] | None = None,
    ) -> Fault:
        """Answer with ``status`` and an API error document (and ``Retry-After`` if given).

        ``retry_after`` may be seconds or an HTTP date (or anything, to test a malformed one);
        ``fields`` adds to the document (a 429's ``quotaLimit``, say).
        """
        return cls(
            kind="status",
            status=status,
            retry_after=None if retry_after is None else str(retry_after),
            error=error,
            detail=detail,
            fields=dict(fields or {}),
        )

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        """Answer with a proxy's HTML error page."""
        return cls(kind="html", status=status)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before answering (longer than the client's timeout, say)."""
        return cls(kind="delay", delay=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Send the headers and part of the body, then close the connection."""
        return cls(kind="drop")

    @classmethod
    def reset(cls) -> Fault:
        """Close the connection before sending anything."""
        return cls(kind="reset")

    @classmethod
    def truncated(cls) -> Fault:
        """Answer 200 with the JSON body cut in half (the framing says that is all)."""
        return cls(kind="truncated")

    @classmethod
    def invalid_json(cls) -> Fault:
        """Answer 200 with a body that is not JSON."""
        return cls(kind="invalid_json")

    @classmethod
    def wrong_content_type(cls) -> Fault:
        """Answer normally, but label the body ``text/plain``."""
        return cls(kind="content_type")

    async def apply(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Produce the faulty answer to ``request`` (``handler`` gives the healthy one)."""
        if self.kind == "delay":
            await asyncio.sleep(self.delay)
            return await handler(request)
        if self.kind in ("drop", "reset"):
            return await self._break_connection(request)
        if self.kind in ("content_type", "truncated"):
            return self._spoil(await handler(request))
        return self._canned()

    def _canned(self) -> web.Response:
        """The answers that need no healthy response: error documents, pages, non-JSON."""
        if self.kind == "status":
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            body: dict[str, Any] = {
                **self.fields,
                "error": self.error or HTTPStatus(self.status).phrase.lower(),
            }
            if self.detail is not None:
                body["detail"] = self.detail
            return web.json_response(body, status=self.status, headers=headers)
        if self.kind == "html":
            phrase = HTTPStatus(self.status).phrase
            page = _HTML_PAGE.format(status=self.status, phrase=phrase)
            return web.Response(status=self.status, text=page, content_type="text/html")
        return web.Response(status=200, text="{not json", content_type="application/json")

    def _spoil(self, healthy: web.StreamResponse) -> web.StreamResponse:
        """Mislabel the healthy answer, or cut its body in half (framed as complete)."""
        if self.kind == "content_type":
            healthy.content_type = "text/plain"
            return healthy
        payload = healthy.body if isinstance(healthy, web.Response) else None
        raw = payload if isinstance(payload, bytes) else b'{"items": []}'
        return web.Response(
            status=healthy.status, body=raw[: len(raw) // 2], content_type="application/json"
        )

    async def _break_connection(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if self.kind == "reset":
            if transport is not None:
                transport.close()
            return web.Response()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 4096
        await response.prepare(request)
        await response.write(b'{"id": "00000000-0000-')
        if transport is not None:
            transport.close()
        return response


@attrs.define(kw_only=True)
class FaultRule:
    """When to apply a fault: to which requests, how often, how many times.

    Attributes:
        fault: What happens.
        method: Only requests with this method (any when ``None``).
        path: Only requests whose path matches this regular expression (any when ``None``).
        times: How many more requests it applies to (``None``: no limit).
        probability: The chance that a matching request is hit (1.0: every one).
        seed: Seeds the rule's own random generator, for repeatable runs.
        hits: How many requests it has been applied to so far.
    """

    fault: Fault
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    probability: float = 1.0
    seed: int | None = None
    hits: int = 0
    _pattern: re.Pattern[str] | None = attrs.field(init=False, default=None)
    _random: random.Random = attrs.field(init=False, factory=random.Random)

    def __attrs_post_init__(self) -> None:
        self._pattern = re.compile(self.path) if self.path else None
        self._random = random.Random(self.seed)

    @property
    def exhausted(self) -> bool:
        """Whether it has been applied as many times as it may be."""
        return self.times is not None and self.hits >= self.times

    def take(self, method: str, path: str) -> bool:
        """Say whether this request is hit, counting it if so."""
        if self.exhausted:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self._pattern is not None and not self._pattern.search(path):
            return False
        if self.probability < 1.0 and self._random.random() >= self.probability:
            return False
        self.hits += 1
        return True


#: A realistic mix of transient faults, as shares of a fault rate: 503s (some with
#: ``Retry-After``), connections reset before the answer and cut mid-body. No 429s:
#: a 429 is a rate limit, which pauses the whole client; the fake's ``rate_limit``
#: plays one faithfully.
TRANSIENT_MIX: Final = (
    (Fault.http_status(503), 0.4),
    (Fault.http_status(503, retry_after=1), 0.1),
    (Fault.reset(), 0.25),
    (Fault.drop(), 0.25),
)
