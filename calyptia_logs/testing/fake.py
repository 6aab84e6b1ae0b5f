"""FakeCalyptiaCloud: an in-memory, aiohttp.web fake of the pipeline-log endpoints.

It answers with the real statuses and JSON shapes, checks tokens and UUIDs
like the API does, paginates backward with opaque cursors, plays the cluster
(log requests created ``NEW`` are filled and set ``DONE`` after
``fill_delay``), injects faults on cue, and records every request it saw.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs
import orjson
from aiohttp import web

from calyptia_logs import converter
from calyptia_logs.models import PipelineLog, PipelineLogStatus
from calyptia_logs.testing.faults import TRANSIENT_MIX, Fault, FaultRule

__all__ = [
    "DEFAULT_LINES",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TOKEN",
    "EXAMPLE_PIPELINE_ID",
    "MAX_LINES",
    "MAX_PAGE_SIZE",
    "FakeCalyptiaCloud",
    "RecordedRequest",
    "fluent_bit_lines",
]

#: The pipeline every example in the docs uses: ``fake-server`` always has it, so that the
#: examples run against it as written.
EXAMPLE_PIPELINE_ID: Final = uuid.UUID("9b2c0e8a-1d4f-4c5e-8f3a-6b7d2e1c0a9f")
#: The token a fake accepts when not told otherwise.
DEFAULT_TOKEN: Final = "fake-token"  # noqa: S105 - a test credential, by design
#: The page size of a list without ``last`` (or with ``last=0``, which the API's
#: spec allows, minimum 0, and the official Go client sends when it is unset).
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 1000
#: The lines a create asks for without ``lines`` (or with ``lines: 0``): the API's default.
DEFAULT_LINES: Final = 100
#: The most lines a log request may ask for in the fake (above it: 400). The fake
#: generates the text itself, on its event loop: this keeps that under ~50 ms and 1 MB.
MAX_LINES: Final = 10_000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """A request as the fake saw it: what crossed the wire."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


def fluent_bit_lines(
    count: int, *, seed: int = 0, tag: str = "tail.0", end: datetime | None = None
) -> str:
    """Generate ``count`` lines of Fluent Bit's own log output, deterministically.

    What a pipeline log's ``logs`` holds: one record per line, mostly ``info``,
    with the warnings and errors of a struggling output (retried and failed
    flushes, rejected bulk requests, timeouts), in the shapes Fluent Bit prints.
    ``tag`` names the input. With ``end``, the last line is dated then (the
    fake dates a log's text up to the moment it was filled, so that
    ``records --since 2h`` finds it); otherwise the times fall in 2023-24.
    """
    rng = random.Random(seed)
    when = 1_700_000_000 + rng.randrange(10_000_000)
    lines: list[tuple[int, str]] = []
    for _ in range(count):
        when += rng.choice((0, 0, 1, 1, 2))
        chunk = f"1-{when}.{rng.randrange(10**9):09d}.flb"
        task = rng.randrange(64)
        roll = rng.random()
        if roll < 0.03:
            status = rng.choice((400, 429, 503))
            line = (
                f"[error] [output:es:es.0] HTTP status={status} URI=/_bulk, response: "
                f'{{"error":{{"type":"es_rejected_execution_exception","status":{status}}}}}'
            )
        elif roll < 0.05:
            line = f"[error] [net] connection #{task + 40} timeout after 10 seconds to: es:9200"
        elif roll < 0.12:
            line = (
                f"[ warn] [engine] failed to flush chunk '{chunk}', retry in "
                f"{rng.randrange(1, 60)} seconds: task_id={task}, input={tag} > output=es.0 "
                "(out_id=0)"
            )
        elif roll < 0.5:
            line = (
                f"[ info] [engine] flush chunk '{chunk}' succeeded at retry 1: task_id={task}, "
                f"input={tag} > output=es.0 (out_id=0)"
            )
        else:
            line = (
                f"[ info] [input:tail:{tag}] inotify_fs_add(): inode={rng.randrange(10**7)} "
                f"watch_fd={task + 1} name=/var/log/containers/app-{task}.log"
            )
        lines.append((when, line))
    shift = 0 if end is None or not lines else int(end.timestamp()) - lines[-1][0]
    text = "\n".join(
        f"{datetime.fromtimestamp(at + shift, UTC).strftime('[%Y/%m/%d %H:%M:%S]')} {line}"
        for at, line in lines
    )
    return text + ("\n" if lines else "")


def _error(status: int, error: str, detail: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return _json(body, status)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class FakeCalyptiaCloud:
    """An in-memory fake of the Calyptia Cloud pipeline-log API.

    Args:
        tokens: User tokens accepted as ``Authorization: Bearer``.
        project_tokens: Project tokens accepted as ``X-Project-Token``.
        fill_delay: Seconds before a ``NEW`` log request is filled and set ``DONE``.
        polling_interval_ms: The ``pollingIntervalMs`` hint sent on list pages
            (``None``: leave it out, as older servers do).
        latency: Seconds every answer takes (so that concurrent requests
            overlap at the server, and ``max_in_flight`` means something).
        record_limit: How many requests to keep in :attr:`requests`.
        seed: Seeds the generated log lines.
        rate_limit: Requests per second allowed per token (``None``: no limit). A
            token bucket per token: a request that finds no token is answered
            429 with a ``Retry-After`` of the whole seconds until one is free (at
            least 1) and ``{"error": "too many requests", "quotaLimit": R,
            "quotaRemaining": 0}``. Change it any time (:attr:`rate_limit`).
        rate_burst: The bucket's size: requests a token may send at once after
            an idle spell (default: one second's worth, ``ceil(rate_limit)``).

    Example:
        >>> fake = FakeCalyptiaCloud(tokens=["t"])
        >>> pipeline = fake.add_pipeline()
        >>> len(fake.seed_logs(pipeline, 3))
        3
    """

    tokens: set[str]
    project_tokens: set[str]
    fill_delay: float
    polling_interval_ms: int | None
    latency: float
    seed: int
    logs: dict[uuid.UUID, PipelineLog]
    pipelines: set[uuid.UUID]
    rules: list[FaultRule]
    requests: collections.deque[RecordedRequest]
    request_count: int
    in_flight: int
    max_in_flight: int
    throttled_count: int
    success_count: int

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        project_tokens: Iterable[str] = (DEFAULT_TOKEN,),
        fill_delay: float = 0.0,
        polling_interval_ms: int | None = 250,
        latency: float = 0.0,
        record_limit: int = 100_000,
        seed: int = 0,
        rate_limit: float | None = None,
        rate_burst: float | None = None,
    ) -> None:
        self.tokens = set(tokens)
        self.project_tokens = set(project_tokens)
        self.fill_delay = fill_delay
        self.polling_interval_ms = polling_interval_ms
        self.latency = latency
        self.seed = seed
        self.logs: dict[uuid.UUID, PipelineLog] = {}
        self.pipelines: set[uuid.UUID] = set()
        self.rules: list[FaultRule] = []
        self.requests: collections.deque[RecordedRequest] = collections.deque(maxlen=record_limit)
        self.request_count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._order: dict[uuid.UUID, int] = {}
        self._sequence = 0
        self._fill_handles: set[asyncio.TimerHandle] = set()
        #: Requests answered 429 by the rate limit, and requests answered 2xx.
        self.throttled_count = 0
        self.success_count = 0
        self._rate_limit: float | None = None
        self._rate_burst: float | None = None
        self.rate_burst = rate_burst
        self._buckets: dict[str, tuple[float, float]] = {}  # token -> (tokens, at)
        self.rate_limit = rate_limit

    # --- data -----------------------------------------------------------------------------

    def add_pipeline(self, pipeline_id: uuid.UUID | str | None = None) -> uuid.UUID:
        """Register a pipeline (a new random ID when none is given) and return its ID."""
        pid = uuid.UUID(str(pipeline_id)) if pipeline_id is not None else uuid.uuid4()
        self.pipelines.add(pid)
        return pid

    def seed_logs(
        self,
        pipeline_id: uuid.UUID,
        count: int,
        *,
        status: PipelineLogStatus = PipelineLogStatus.DONE,
        lines: int = 10,
    ) -> list[uuid.UUID]:
        """Add ``count`` pipeline logs to a pipeline (oldest first) and return their IDs.

        Raises:
            ValueError: ``lines`` is over :data:`MAX_LINES`, or ``count`` is negative.
        """
        if not 0 <= lines <= MAX_LINES or count < 0:
            msg = f"lines must be 0 to {MAX_LINES} and count not negative"
            raise ValueError(msg)
        self.pipelines.add(pipeline_id)
        base = datetime.now(UTC) - timedelta(seconds=count)
        ids = []
        for i in range(count):
            when = base + timedelta(seconds=i)
            log_id = uuid.uuid4()
            done = status is PipelineLogStatus.DONE
            text = (
                fluent_bit_lines(lines, seed=self.seed + self._sequence, end=when) if done else ""
            )
            self._store(
                PipelineLog(
                    id=log_id,
                    pipeline_id=pipeline_id,
                    logs=text,
                    lines=lines,
                    status=status,
                    created_at=when,
                    updated_at=when,
                )
            )
            ids.append(log_id)
        return ids

    def _store(self, log: PipelineLog) -> None:
        if log.id not in self._order:
            self._sequence += 1
            self._order[log.id] = self._sequence
        self.logs[log.id] = log

    def _fill(self, log_id: uuid.UUID) -> None:
        """Play the cluster: fill a NEW log request and set it DONE."""
        log = self.logs.get(log_id)
        if log is None or log.status is PipelineLogStatus.DONE:
            return
        now = datetime.now(UTC)
        text = fluent_bit_lines(log.lines, seed=self.seed + self._order[log_id], end=now)
        self._store(attrs.evolve(log, logs=text, status=PipelineLogStatus.DONE, updated_at=now))

    # --- the rate limit -------------------------------------------------------------------

    @property
    def rate_limit(self) -> float | None:
        """Requests per second allowed per token; set it any time (``None``: no limit)."""
        return self._rate_limit

    @rate_limit.setter
    def rate_limit(self, value: float | None) -> None:
        if value is not None and not (isinstance(value, int | float) and 0 < value < math.inf):
            msg = f"rate_limit must be a positive number of requests per second, got {value!r}"
            raise ValueError(msg)
        now = time.monotonic()
        # Tokens earned so far are earned at the old rate; from now on, the new one.
        self._buckets = {key: (self._refill(key, now), now) for key in self._buckets}
        self._rate_limit = value

    @property
    def rate_burst(self) -> float:
        """The bucket size: the explicit ``rate_burst``, or one second's worth."""
        if self._rate_burst is not None:
            return self._rate_burst
        return float(max(1, math.ceil(self._rate_limit or 1)))

    @rate_burst.setter
    def rate_burst(self, value: float | None) -> None:
        if value is not None and not (isinstance(value, int | float) and 1 <= value < math.inf):
            msg = f"rate_burst must be a number of requests, at least 1, got {value!r}"
            raise ValueError(msg)
        self._rate_burst = value

    def _refill(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.rate_burst, now))
        if self._rate_limit is None:
            return self.rate_burst
        return min(self.rate_burst, tokens + (now - at) * self._rate_limit)

    def _take_token(self, key: str) -> web.Response | None:
        """Spend one of ``key``'s tokens, or answer 429 as a rate-limited API does."""
        rate = self._rate_limit
        if rate is None:
            return None
        now = time.monotonic()
        tokens = self._refill(key, now)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return None
        self._buckets[key] = (tokens, now)
        self.throttled_count += 1
        wait = max(1, math.ceil((1 - tokens) / rate))
        response = _json(
            {"error": "too many requests", "quotaLimit": rate, "quotaRemaining": 0}, 429
        )
        response.headers["Retry-After"] = str(wait)
        return response

    # --- faults ---------------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        times: int | None = 1,
        method: str | None = None,
        path: str | None = None,
        probability: float = 1.0,
        seed: int | None = None,
    ) -> FaultRule:
        """Make matching requests fail with ``fault``.

        Args:
            fault: What happens (see :class:`~calyptia_logs.testing.Fault`).
            times: How many requests it hits (``None``: until :meth:`clear_faults`).
            method: Only this HTTP method.
            path: Only paths matching this regular expression.
            probability: The chance a matching request is hit.
            seed: Seeds the rule's random choices.

        Returns:
            The rule; its ``hits`` counts the requests it failed.
        """
        rule = FaultRule(
            fault=fault, times=times, method=method, path=path, probability=probability, seed=seed
        )
        self.rules.append(rule)
        return rule

    def inject_transient_faults(
        self, rate: float, *, seed: int = 0, method: str | None = "GET"
    ) -> list[FaultRule]:
        """Fail a share ``rate`` of matching requests with :data:`TRANSIENT_MIX`, until cleared.

        Returns:
            The rules added; their ``hits`` add up to the faults injected.
        """
        return [
            self.inject(fault, times=None, method=method, probability=rate * share, seed=seed + i)
            for i, (fault, share) in enumerate(TRANSIENT_MIX)
        ]

    def clear_faults(self) -> None:
        """Remove every fault rule: from now on every request is answered normally."""
        self.rules.clear()

    # --- the web application --------------------------------------------------------------

    def app(self) -> web.Application:
        """Build the ``aiohttp.web`` application that serves this fake."""
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/v1/pipeline_logs/{log_id}", self._get)
        app.router.add_patch("/v1/pipeline_logs/{log_id}", self._update)
        app.router.add_delete("/v1/pipeline_logs/{log_id}", self._delete)
        app.router.add_post("/v1/pipelines/{pipeline_id}/logs", self._create)
        app.router.add_get("/v1/pipelines/{pipeline_id}/logs", self._list)
        app.on_cleanup.append(self._cancel_fills)
        return app

    async def _cancel_fills(self, _: web.Application) -> None:
        for handle in self._fill_handles:
            handle.cancel()
        self._fill_handles.clear()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.request_count += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            body = await request.read() if request.body_exists else b""
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.path,
                    query=dict(request.query),
                    headers=dict(request.headers),
                    body=body,
                )
            )
            if self.latency:
                await asyncio.sleep(self.latency)
            for rule in self.rules:
                if rule.take(request.method, request.path):
                    return await rule.fault.apply(request, self._authorized(handler))
            return await self._authorized(handler)(request)
        finally:
            self.in_flight -= 1

    def _authorized(self, handler: Handler) -> Handler:
        async def check(request: web.Request) -> web.StreamResponse:
            auth = request.headers.get("Authorization", "")
            bearer = auth[7:] if auth[:7].lower() == "bearer " else None
            project = request.headers.get("X-Project-Token")
            if bearer is not None and bearer in self.tokens:
                token = bearer
            elif project is not None and project in self.project_tokens:
                token = project
            else:
                return _error(401, "unauthorized", "missing or invalid token")
            throttled = self._take_token(token)
            if throttled is not None:
                return throttled
            response = await handler(request)
            if 200 <= response.status < 300:
                self.success_count += 1
            return response

        return check

    def _find(self, request: web.Request) -> PipelineLog | web.Response:
        log_id = _parse_uuid(request.match_info["log_id"])
        if log_id is None:
            return _error(400, "invalid pipeline log ID", "it must be a UUID")
        log = self.logs.get(log_id)
        if log is None:
            return _error(404, "pipeline log not found")
        return log

    def _pipeline(self, request: web.Request) -> uuid.UUID | web.Response:
        pipeline_id = _parse_uuid(request.match_info["pipeline_id"])
        if pipeline_id is None:
            return _error(400, "invalid pipeline ID", "it must be a UUID")
        if pipeline_id not in self.pipelines:
            return _error(404, "pipeline not found")
        return pipeline_id

    async def _get(self, request: web.Request) -> web.Response:
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        return _json(converter.unstructure(found))

    async def _update(self, request: web.Request) -> web.Response:
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        changes: dict[str, Any] = {}
        logs, lines, status = body.get("logs"), body.get("lines"), body.get("status")
        if logs is not None and not isinstance(logs, str):
            return _error(400, "invalid pipeline log", "logs must be a string")
        if lines is not None and (type(lines) is not int or not 0 <= lines <= MAX_LINES):
            return _error(400, "invalid pipeline log", f"lines must be 0 to {MAX_LINES}")
        if status is not None and status not in ("NEW", "DONE"):
            return _error(400, "invalid pipeline log", f"unknown status {status!r}")
        if logs is not None:
            changes["logs"] = logs
        if lines is not None:
            changes["lines"] = lines
        if status is not None:
            changes["status"] = PipelineLogStatus(status)
        now = datetime.now(UTC)
        self._store(attrs.evolve(found, updated_at=now, **changes))
        return _json({"updatedAt": converter.format_datetime(now)})

    async def _delete(self, request: web.Request) -> web.Response:
        found = self._find(request)
        if isinstance(found, web.Response):
            return found
        del self.logs[found.id]
        now = datetime.now(UTC)
        return _json({"deleted": True, "deletedAt": converter.format_datetime(now)})

    async def _create(self, request: web.Request) -> web.Response:
        pipeline = self._pipeline(request)
        if isinstance(pipeline, web.Response):
            return pipeline
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        lines = body.get("lines") or DEFAULT_LINES  # absent, null and 0 take the default
        if type(lines) is not int or not 1 <= lines <= MAX_LINES:
            return _error(400, "invalid pipeline log", f"lines must be 0 to {MAX_LINES}")
        now = datetime.now(UTC)
        log = PipelineLog(
            id=uuid.uuid4(),
            pipeline_id=pipeline,
            logs=str(body.get("logs") or ""),
            lines=lines,
            status=PipelineLogStatus.NEW,
            created_at=now,
            updated_at=now,
        )
        self._store(log)
        handle = asyncio.get_running_loop().call_later(self.fill_delay, self._fill, log.id)
        self._fill_handles.add(handle)
        return _json({"id": str(log.id), "createdAt": converter.format_datetime(now)}, 201)

    async def _list(self, request: web.Request) -> web.Response:
        pipeline = self._pipeline(request)
        if isinstance(pipeline, web.Response):
            return pipeline
        query = request.query
        raw_last = query.get("last", "0")
        if not (raw_last.isascii() and raw_last.isdigit() and len(raw_last) <= 6):
            return _error(400, "invalid last", f"last must be an integer, 0 to {MAX_PAGE_SIZE}")
        last = int(raw_last) or DEFAULT_PAGE_SIZE
        if last > MAX_PAGE_SIZE:
            return _error(400, "invalid last", f"last must be between 0 and {MAX_PAGE_SIZE}")
        status = query.get("status")
        if status is not None and status not in ("NEW", "DONE"):
            return _error(400, "invalid status", f"unknown status {status!r}")
        before: int | None = None
        if "before" in query:
            before = self._decode_cursor(query["before"])
            if before is None:
                return _error(400, "invalid cursor", "before must be an endCursor from this API")
        matching = [
            log
            for log in self.logs.values()
            if log.pipeline_id == pipeline and (status is None or log.status == status)
        ]
        matching.sort(key=lambda log: self._order[log.id], reverse=True)
        older = [log for log in matching if before is None or self._order[log.id] < before]
        page = older[:last]
        more = len(older) > last
        data: dict[str, Any] = {
            "items": converter.unstructure(page),
            "endCursor": self._encode_cursor(self._order[page[-1].id]) if more else None,
            "count": len(matching),
        }
        if self.polling_interval_ms is not None:
            data["pollingIntervalMs"] = self.polling_interval_ms
        return _json(data)

    @staticmethod
    def _encode_cursor(sequence: int) -> str:
        return base64.urlsafe_b64encode(f"seq:{sequence}".encode()).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(cursor: str) -> int | None:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        prefix, _, number = raw.partition(":")
        if prefix != "seq" or not number.isdigit():
            return None
        return int(number)

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError as exc:
            return _error(400, "invalid request body", str(exc))
        if not isinstance(body, dict):
            return _error(400, "invalid request body", "expected a JSON object")
        return body
