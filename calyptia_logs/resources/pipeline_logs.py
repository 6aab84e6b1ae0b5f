"""The pipeline-logs resource: ``client.pipeline_logs``.

Each method says *what* to ask for and *what type* comes back; the transport
decides *how* (auth, retries, timeouts, errors, pagination).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import TYPE_CHECKING, Final
from uuid import UUID

from calyptia_logs import arguments
from calyptia_logs.errors import (
    AuthenticationError,
    CalyptiaError,
    WaitTimeoutError,
)
from calyptia_logs.models import (
    BulkResult,
    CollectResult,
    Created,
    Deleted,
    PipelineLog,
    PipelineLogCreate,
    PipelineLogsPage,
    PipelineLogStatus,
    PipelineLogUpdate,
    Updated,
)
from calyptia_logs.resources.bulk import bounded_map, lightened
from calyptia_logs.resources.collect import DEFAULT_COLLECT_TIMEOUT, PipelineIDs, collect_pipelines
from calyptia_logs.resources.ids import as_uuid, uuid_path

if TYPE_CHECKING:
    from calyptia_logs.transport import Transport
    from calyptia_logs.transport.core import Check

__all__ = ["PipelineLogs", "as_uuid", "uuid_path"]

#: The lines a log request asks for when not told (the API's default).
DEFAULT_LINES: Final = 100
#: Calls in flight at once in bulk operations, unless told otherwise.
DEFAULT_CONCURRENCY: Final = 16
#: Seconds between polls when neither the caller nor the server says.
DEFAULT_POLL_INTERVAL: Final = 1.0
#: Seconds :meth:`PipelineLogs.wait_until_done` waits by default.
DEFAULT_WAIT_TIMEOUT: Final = 60.0

IDs = Iterable[str | UUID] | AsyncIterable[str | UUID]
logger: Final = logging.getLogger("calyptia_logs")


def _uuid_int(canonical: str) -> int:
    """The 128-bit value of a canonical UUID string: cheaper than parsing a ``UUID``."""
    return int(canonical.replace("-", ""), 16)


def _is_log(path_id: str) -> Check[PipelineLog]:
    """Check that an answer is the log asked for (answers can shift on a poisoned connection)."""
    expected = _uuid_int(path_id)

    def check(log: PipelineLog) -> str | None:
        return None if log.id.int == expected else f"pipeline log {log.id}"

    return check


def _in_pipeline(path_id: str) -> Check[PipelineLogsPage]:
    """Check that every item of a page belongs to the pipeline asked for."""
    expected = _uuid_int(path_id)

    def check(page: PipelineLogsPage) -> str | None:
        for item in page.items:
            if item.pipeline_id.int != expected:
                return f"pipeline {item.pipeline_id} (log {item.id})"
        return None

    return check


def _items(page: PipelineLogsPage) -> list[PipelineLog]:
    return page.items


def _log_id(log: PipelineLog) -> UUID:
    return log.id


def _end_cursor(page: PipelineLogsPage) -> str | None:
    return page.end_cursor


def _status(value: PipelineLogStatus | str) -> PipelineLogStatus:
    try:
        return PipelineLogStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in PipelineLogStatus)
        msg = f"invalid status {value!r}: expected one of {known}"
        raise ValueError(msg) from None


class PipelineLogs:
    """The pipeline-log endpoints. Reach it as ``client.pipeline_logs``.

    Example:
        >>> async def show(client, log_id):  # doctest: +SKIP
        ...     log = await client.pipeline_logs.get(log_id)
        ...     print(log.status, log.logs)
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def get(self, log_id: str | UUID) -> PipelineLog:
        """Get one pipeline log.

        Args:
            log_id: The pipeline log's ID.

        Returns:
            The pipeline log.

        Raises:
            InvalidIDError: ``log_id`` is not a UUID (no request is sent).
            NotFoundError: There is no such pipeline log.
            CalyptiaError: Any other failure, after retries.
        """
        path_id = uuid_path(log_id)
        return await self._transport.request(
            "GET", f"/v1/pipeline_logs/{path_id}", PipelineLog, check=_is_log(path_id)
        )

    async def update(
        self,
        log_id: str | UUID,
        *,
        logs: str | None = None,
        lines: int | None = None,
        status: PipelineLogStatus | str | None = None,
    ) -> Updated:
        """Change a pipeline log; only the fields given are sent, the rest stay as they are.

        Args:
            log_id: The pipeline log's ID.
            logs: New log text.
            lines: New number of lines.
            status: New status (``DONE`` once the logs are filled).

        Returns:
            When it was updated.

        Raises:
            InvalidIDError: ``log_id`` is not a UUID.
            ValueError: ``lines`` (1 .. 2**63-1) or ``status`` is invalid (no request is sent).
            TypeError: ``lines`` is not an integer.
            CalyptiaError: Any failure of the call, after retries.
        """
        body = PipelineLogUpdate(
            logs=None if logs is None else arguments.text(logs, "logs"),
            lines=None if lines is None else arguments.count(lines, "lines"),
            status=None if status is None else _status(status),
        )
        return await self._transport.request(
            "PATCH", f"/v1/pipeline_logs/{uuid_path(log_id)}", Updated, json=body
        )

    async def delete(self, log_id: str | UUID) -> Deleted:
        """Delete a pipeline log.

        Returns:
            Whether it was deleted, and when.

        Raises:
            InvalidIDError: ``log_id`` is not a UUID.
            NotFoundError: There is no such pipeline log.
            CalyptiaError: Any other failure, after retries.
        """
        return await self._transport.request(
            "DELETE", f"/v1/pipeline_logs/{uuid_path(log_id)}", Deleted
        )

    async def create(
        self, pipeline_id: str | UUID, *, lines: int = DEFAULT_LINES, logs: str = ""
    ) -> Created:
        """Ask the cluster for the last ``lines`` log lines of a pipeline.

        The new pipeline log starts ``NEW``; the cluster fills it and sets it
        ``DONE`` later (see :meth:`wait_until_done`). A create is retried only
        when it cannot have reached the server, so it never creates twice.

        Returns:
            The new pipeline log's ID and creation time.

        Raises:
            InvalidIDError: ``pipeline_id`` is not a UUID.
            ValueError: ``lines`` is not 1 .. 2**63-1 (no request is sent).
            TypeError: ``lines`` is not an integer.
            CalyptiaError: Any failure of the call.
        """
        body = PipelineLogCreate(
            lines=arguments.count(lines, "lines"), logs=arguments.text(logs, "logs")
        )
        path = f"/v1/pipelines/{uuid_path(pipeline_id, 'pipeline ID')}/logs"
        return await self._transport.request("POST", path, Created, json=body)

    async def list(
        self,
        pipeline_id: str | UUID,
        *,
        last: int | None = None,
        status: PipelineLogStatus | str | None = None,
        before: str | None = None,
    ) -> PipelineLogsPage:
        """Get one page of a pipeline's log requests, newest first.

        Args:
            pipeline_id: The pipeline's ID.
            last: At most this many items (the page size).
            status: Only log requests with this status.
            before: The ``end_cursor`` of the previous page, for the next (older) one.

        Returns:
            The page; its ``end_cursor`` is ``None`` on the last page.

        Raises:
            InvalidIDError: ``pipeline_id`` is not a UUID.
            ValueError: ``last`` (1 .. 2**63-1) or ``status`` is invalid.
            TypeError: ``last`` is not an integer.
            CalyptiaError: Any failure of the call, after retries.
        """
        path_id = uuid_path(pipeline_id, "pipeline ID")
        return await self._transport.request(
            "GET",
            f"/v1/pipelines/{path_id}/logs",
            PipelineLogsPage,
            params=self._list_params(last, status, before),
            check=_in_pipeline(path_id),
        )

    async def iter(
        self,
        pipeline_id: str | UUID,
        *,
        status: PipelineLogStatus | str | None = None,
        page_size: int | None = None,
        before: str | None = None,
    ) -> AsyncGenerator[PipelineLog, None]:
        """Iterate over all of a pipeline's log requests, newest first, page after page.

        Pages are fetched lazily as you iterate, following ``endCursor``
        (or a ``Link: rel="next"`` header) until the last page. A log the
        server repeats on a later page is not yielded again; pages that never
        end (a cursor sent twice, ten pages in a row with nothing new) stop the
        walk with :class:`~calyptia_logs.PaginationError`.

        Args:
            pipeline_id: The pipeline's ID.
            status: Only log requests with this status.
            page_size: Items per request (the server's default when ``None``).
            before: Start after this cursor instead of at the newest.

        Yields:
            Each pipeline log, once.

        Raises:
            ValueError: ``page_size`` or ``status`` is invalid (before any request).
            PaginationError: The server's pages would never end.
            CalyptiaError: A page failed (after retries).
        """
        path_id = uuid_path(pipeline_id, "pipeline ID")
        items = self._transport.paginate(
            f"/v1/pipelines/{path_id}/logs",
            PipelineLogsPage,
            items_of=_items,
            key_of=_log_id,
            cursor_of=_end_cursor,
            params=self._list_params(page_size, status, before),
            check=_in_pipeline(path_id),
        )
        async with aclosing(items):
            async for item in items:
                yield item

    async def get_many(
        self, ids: IDs, *, concurrency: int = DEFAULT_CONCURRENCY, ordered: bool = False
    ) -> AsyncGenerator[BulkResult, None]:
        """Fetch many pipeline logs concurrently; one :class:`BulkResult` per input ID.

        IDs are consumed lazily and at most ``concurrency`` requests are in
        flight, so memory stays bounded however many IDs there are. A failure
        (an invalid ID, a 404, retries used up, the retry budget spent) is
        reported in that item's ``error`` and never stops the others, except
        a dead token: after the first 401 nothing more is sent, and every
        remaining item fails at once with that ``AuthenticationError``.
        Stopping early (``break``, or cancelling the consumer) cancels the
        requests in flight; use ``contextlib.aclosing`` to do it at once.

        Args:
            ids: Pipeline-log IDs: any iterable or async iterable.
            concurrency: The most requests in flight at once.
            ordered: Yield results in input order instead of as they complete.

        Yields:
            Exactly one result per input ID.

        Example:
            >>> async def fetch(client, ids):  # doctest: +SKIP
            ...     async for result in client.pipeline_logs.get_many(ids, concurrency=32):
            ...         if result.error:
            ...             print(result.id, "failed:", result.error)
        """

        async def one(log_id: str | UUID) -> BulkResult:
            return BulkResult(id=log_id, log=await self.get(log_id))

        concurrency = arguments.count(concurrency, "concurrency")
        async for result in self._bulk(ids, one, concurrency, ordered):
            yield result

    async def delete_many(
        self, ids: IDs, *, concurrency: int = DEFAULT_CONCURRENCY, ordered: bool = False
    ) -> AsyncGenerator[BulkResult, None]:
        """Delete many pipeline logs concurrently; same contract as :meth:`get_many`.

        Each result has ``deleted`` set on success, ``error`` on failure.
        """

        async def one(log_id: str | UUID) -> BulkResult:
            return BulkResult(id=log_id, deleted=await self.delete(log_id))

        concurrency = arguments.count(concurrency, "concurrency")
        async for result in self._bulk(ids, one, concurrency, ordered):
            yield result

    async def _bulk(
        self,
        ids: IDs,
        operation: Callable[[str | UUID], Awaitable[BulkResult]],
        concurrency: int,
        ordered: bool,
    ) -> AsyncGenerator[BulkResult, None]:
        """Run ``operation`` per ID, bounded; a failure becomes that item's ``error``.

        Whatever one item raises never stops the others: an exception that is
        not a ``CalyptiaError`` (a bug here, or in an ``on_retry`` /
        ``on_response`` hook) becomes that item's ``CalyptiaError``, chained to
        the original. Cancellation is not an item's failure, and passes through.
        While the server throttles, fewer calls are kept in flight (the rate
        limiter says how many): the rest would only wait in it.

        Fail fast on a dead token: after the first ``AuthenticationError`` (401)
        no further request is sent, and every remaining item fails at once with
        that same error (the calls already in flight, at most ``concurrency``,
        finish as they do). A 403 is about one item and stops nothing.
        """
        dead: list[AuthenticationError] = []  # the first 401 of the run, once there is one

        async def one(log_id: str | UUID) -> BulkResult:
            if dead:
                return BulkResult(id=log_id, error=dead[0])
            try:
                return await operation(log_id)
            except AuthenticationError as error:
                if not dead:
                    dead.append(lightened(error))
                return BulkResult(id=log_id, error=lightened(error))
            except CalyptiaError as error:
                return BulkResult(id=log_id, error=lightened(error))
            except Exception as exc:  # noqa: BLE001 - the second line of defence, see above
                msg = f"unexpected {type(exc).__name__} while processing this item: {exc}"
                wrapped = CalyptiaError(msg)
                wrapped.__cause__ = exc
                return BulkResult(id=log_id, error=wrapped)

        limit = self._transport.limiter.concurrency
        async for result in bounded_map(
            ids, one, concurrency=concurrency, ordered=ordered, limit=limit
        ):
            yield result

    def collect(
        self,
        pipeline_ids: PipelineIDs,
        *,
        lines: int = DEFAULT_LINES,
        concurrency: int = DEFAULT_CONCURRENCY,
        timeout: float | None = DEFAULT_COLLECT_TIMEOUT,
        delete_after: bool = False,
    ) -> AsyncGenerator[CollectResult, None]:
        """The bulk job: the last ``lines`` log lines of many pipelines, as each is ready.

        For every distinct pipeline ID: create a log request, wait until the
        cluster has filled it (``DONE``), read it and, with ``delete_after``,
        delete the request once read. One :class:`CollectResult` per distinct
        pipeline, streamed as each finishes; at most ``concurrency`` pipelines
        in progress, so memory follows ``concurrency``, not the number of IDs.
        Waits follow the server's polling hint, jittered; every request goes
        through the client's retries and rate limiter. After the first 401
        nothing more is sent and every remaining pipeline fails with that error.
        With ``delete_after``, requests created but not read when the run is
        cancelled or stopped are deleted on the way out (best effort, at most
        a few seconds, never raising over the original error).

        Args:
            pipeline_ids: Pipeline IDs: any iterable or async iterable; repeats are
                collected once.
            lines: Lines to ask for, per pipeline.
            concurrency: The most pipelines in progress at once.
            timeout: Seconds each pipeline's create-wait-read may take
                (``WaitTimeoutError`` in its result past it); ``None``: no limit.
            delete_after: Delete each log request once read.

        Returns:
            An async generator of results (use ``contextlib.aclosing`` to stop early).

        Raises:
            ValueError: ``lines``, ``concurrency`` or ``timeout`` is out of range
                (at the call, before anything is sent).

        Example:
            >>> async def errors(client, pipelines):  # doctest: +SKIP
            ...     async for result in client.pipeline_logs.collect(pipelines, delete_after=True):
            ...         if result.log is not None:
            ...             print(result.pipeline_id, list(result.log.records(min_level="error")))
        """
        return collect_pipelines(
            self,
            pipeline_ids,
            lines=lines,
            concurrency=concurrency,
            timeout=timeout,
            delete_after=delete_after,
        )

    async def wait_until_done(
        self,
        log_id: str | UUID,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float | None = None,
    ) -> PipelineLog:
        """Poll a pipeline log until the cluster has filled it (``status == DONE``).

        ``timeout`` bounds the whole wait: a poll still in flight at the
        deadline (retries and their backoff included) is cancelled.

        Args:
            log_id: The pipeline log's ID.
            timeout: Seconds to wait in all; ``None`` waits as long as it takes.
            poll_interval: Seconds between polls; by default the server's
                ``pollingIntervalMs`` hint (read once from the pipeline's list
                endpoint, clamped to 0.25 s .. 5 min), else one second. The hint
                is best-effort: if it cannot be read, the default applies.

        Returns:
            The filled pipeline log.

        Raises:
            InvalidIDError: ``log_id`` is not a UUID.
            ValueError: ``timeout`` or ``poll_interval`` is not a finite positive number.
            WaitTimeoutError: Still not ``DONE`` after ``timeout`` seconds (a
                ``TimeoutError``, not a connection error: the cluster is slow).
            CalyptiaError: A poll failed (after retries).
        """
        log_id = as_uuid(log_id)
        timeout = arguments.seconds(timeout, "timeout")
        interval = arguments.seconds(poll_interval, "poll_interval")
        last: PipelineLog | None = None
        try:
            async with asyncio.timeout(timeout):
                while True:
                    last = await self.get(log_id)
                    if last.status is PipelineLogStatus.DONE:
                        return last
                    if interval is None:
                        interval = await self._polling_hint(last.pipeline_id)
                    await asyncio.sleep(interval)
        except TimeoutError as exc:
            state = f"still {last.status}" if last is not None else "not read once"
            msg = f"pipeline log {log_id} is {state} after {timeout:g}s"
            raise WaitTimeoutError(
                msg, log_id=str(log_id), method="GET", url=f"/v1/pipeline_logs/{log_id}"
            ) from exc

    async def request_logs(
        self,
        pipeline_id: str | UUID,
        *,
        lines: int = DEFAULT_LINES,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float | None = None,
    ) -> PipelineLog:
        """Ask for a pipeline's last ``lines`` log lines and wait until they are there.

        :meth:`create` then :meth:`wait_until_done`; every argument is checked
        before the create is sent, and ``timeout`` bounds both together.

        Returns:
            The filled pipeline log.

        Raises:
            WaitTimeoutError: The create and the wait took more than ``timeout``.
            CalyptiaError: The create or a poll failed.
        """
        timeout = arguments.seconds(timeout, "timeout")
        arguments.seconds(poll_interval, "poll_interval")
        if timeout is None:
            created = await self.create(pipeline_id, lines=lines)
            return await self.wait_until_done(created.id, timeout=None, poll_interval=poll_interval)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                created = await self.create(pipeline_id, lines=lines)
        except TimeoutError as exc:
            msg = f"the log request for pipeline {pipeline_id} was not created within {timeout:g}s"
            path = f"/v1/pipelines/{uuid_path(pipeline_id, 'pipeline ID')}/logs"
            raise WaitTimeoutError(msg, method="POST", url=path) from exc
        # What is left of the timeout for the wait (a sliver at least: it reads the log once).
        remaining = max(deadline - loop.time(), 0.001)
        return await self.wait_until_done(
            created.id, timeout=remaining, poll_interval=poll_interval
        )

    async def _polling_hint(self, pipeline_id: UUID) -> float:
        """The server's polling hint in seconds (already clamped by the converter), or the default.

        Best-effort: waiting must not depend on it, so a failed lookup (a 403 on
        the list endpoint, a 503) means the default interval.
        """
        try:
            page = await self.list(pipeline_id, last=1)
        except CalyptiaError as exc:
            logger.debug("no polling hint (%s); polling every %gs", exc, DEFAULT_POLL_INTERVAL)
            return DEFAULT_POLL_INTERVAL
        if page.polling_interval_ms is None:
            return DEFAULT_POLL_INTERVAL
        return page.polling_interval_ms / 1000

    @staticmethod
    def _list_params(
        last: int | None, status: PipelineLogStatus | str | None, before: str | None
    ) -> dict[str, str]:
        params: dict[str, str] = {}
        if last is not None:
            params["last"] = str(arguments.count(last, "last"))
        if status is not None:
            params["status"] = _status(status).value
        if before is not None:
            params["before"] = arguments.cursor(before)
        return params
