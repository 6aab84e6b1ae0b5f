"""The bulk job: for many pipelines, ask for their logs, wait until filled, read, clean up.

:func:`collect_pipelines` is what :meth:`PipelineLogs.collect` returns. Per
distinct pipeline it creates a log request, polls it until the cluster has
filled it (``DONE``), and yields a :class:`~calyptia_logs.models.CollectResult`;
with ``delete_after`` it deletes each request once read, and, on the way out of
a run that is cancelled or fails, every request created but not read (best
effort, bounded in time, never raising over the original error).

Every request goes through the client's transport, so its retries, budget and
rate limiter apply; the waits between polls follow the server's
``pollingIntervalMs`` hint (looked up once per run), jittered so that many
pipelines never poll in one wave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from contextlib import aclosing
from typing import TYPE_CHECKING, Final
from uuid import UUID

from calyptia_logs import arguments
from calyptia_logs.errors import (
    AuthenticationError,
    CalyptiaError,
    InvalidIDError,
    WaitTimeoutError,
)
from calyptia_logs.models import CollectResult, PipelineLog, PipelineLogStatus
from calyptia_logs.resources.bulk import bounded_map, items_of, lightened
from calyptia_logs.resources.ids import as_uuid

if TYPE_CHECKING:
    from calyptia_logs.resources.pipeline_logs import PipelineLogs

__all__ = ["CLEANUP_SECONDS", "DEFAULT_COLLECT_TIMEOUT", "POLL_JITTER", "collect_pipelines"]

#: Seconds each pipeline's create-wait-read may take, unless told otherwise.
DEFAULT_COLLECT_TIMEOUT: Final = 120.0
#: The most seconds spent deleting unread requests on the way out of a failed run.
CLEANUP_SECONDS: Final = 5.0
#: Each wait between polls is the hint times a factor drawn from 1 +/- this.
POLL_JITTER: Final = 0.2
logger: Final = logging.getLogger("calyptia_logs")

PipelineIDs = Iterable[str | UUID] | AsyncIterable[str | UUID]
#: What the job runs per pipeline: its UUID, or the input that is not one and why.
_Item = UUID | tuple[str | UUID, InvalidIDError]


def collect_pipelines(
    logs: PipelineLogs,
    pipeline_ids: PipelineIDs,
    *,
    lines: int,
    concurrency: int,
    timeout: float | None,
    delete_after: bool,
) -> AsyncGenerator[CollectResult, None]:
    """Check the arguments now, and return the job's generator (see ``PipelineLogs.collect``).

    Raises:
        ValueError: ``lines``, ``concurrency`` or ``timeout`` is out of range.
        TypeError: One of them is of the wrong type.
    """
    return _Job(
        logs,
        lines=arguments.count(lines, "lines"),
        timeout=arguments.seconds(timeout, "timeout"),
        delete_after=delete_after,
    ).run(pipeline_ids, arguments.count(concurrency, "concurrency"))


class _Job:
    """One collect run: what it shares across pipelines."""

    def __init__(
        self, logs: PipelineLogs, *, lines: int, timeout: float | None, delete_after: bool
    ) -> None:
        self.logs = logs
        self.lines = lines
        self.timeout = timeout
        self.delete_after = delete_after
        self.seen: set[UUID] = set()  # distinct pipelines only (about 70 bytes each)
        self.unread: set[UUID] = set()  # created, not yet read and deleted (delete_after)
        self.dead: AuthenticationError | None = None  # the first 401: no further request
        self.interval: float | None = None  # the server's polling hint, looked up once
        self.hint_lookup = asyncio.Lock()

    async def run(
        self, pipeline_ids: PipelineIDs, concurrency: int
    ) -> AsyncGenerator[CollectResult, None]:
        limit = self.logs._transport.limiter.concurrency  # bulk follows the paced rate
        items = self._distinct(pipeline_ids)
        try:
            async with aclosing(
                bounded_map(items, self._one, concurrency=concurrency, limit=limit)
            ) as results:
                async for result in results:
                    yield result
        finally:
            if self.unread:
                await self._clean_up()

    async def _distinct(
        self, pipeline_ids: PipelineIDs
    ) -> AsyncGenerator[_Item, None]:
        async for raw in items_of(pipeline_ids):
            try:
                pipeline = _pipeline_uuid(raw)
            except InvalidIDError as error:
                yield (raw, error)
                continue
            if pipeline not in self.seen:
                self.seen.add(pipeline)
                yield pipeline

    async def _one(self, item: _Item) -> CollectResult:
        if isinstance(item, tuple):  # not a UUID: that item's error, nothing sent
            return CollectResult(pipeline_id=item[0], error=item[1])
        if self.dead is not None:
            return CollectResult(pipeline_id=item, error=self.dead)
        log_id: UUID | None = None
        try:
            async with asyncio.timeout(self.timeout):
                created = await self.logs.create(item, lines=self.lines)
                log_id = created.id
                if self.delete_after:
                    self.unread.add(log_id)
                log = await self._filled(log_id)
        except TimeoutError:
            what = f"log request {log_id} not filled" if log_id else "log request not created"
            error: CalyptiaError = WaitTimeoutError(
                f"pipeline {item}: {what} within {self.timeout or 0:g}s",
                log_id=None if log_id is None else str(log_id),
            )
        except AuthenticationError as exc:
            self.dead = self.dead or lightened(exc)
            error = self.dead
        except CalyptiaError as exc:
            error = lightened(exc)
        except Exception as exc:  # noqa: BLE001 - a hook's bug must not stop the others
            error = CalyptiaError(f"unexpected {type(exc).__name__} for this pipeline: {exc}")
        else:
            if self.delete_after:
                await self._delete(log_id)
            return CollectResult(pipeline_id=item, log_id=log_id, log=log)
        if self.delete_after and log_id is not None:
            await self._delete(log_id)
        return CollectResult(pipeline_id=item, log_id=log_id, error=error)

    async def _filled(self, log_id: UUID) -> PipelineLog:
        """Poll until the log is DONE: the server's interval, jittered."""
        while True:
            log = await self.logs.get(log_id)
            if log.status is PipelineLogStatus.DONE:
                return log
            async with self.hint_lookup:  # one lookup per run, not one per pipeline
                if self.interval is None:
                    self.interval = await self.logs._polling_hint(log.pipeline_id)
            await asyncio.sleep(self.interval * random.uniform(1 - POLL_JITTER, 1 + POLL_JITTER))

    async def _delete(self, log_id: UUID) -> None:
        """Delete a request once read (or given up); a failure is logged, left for the clean-up."""
        try:
            await self.logs.delete(log_id)
        except CalyptiaError as exc:
            logger.warning("could not delete log request %s: %s", log_id, exc)
        else:
            self.unread.discard(log_id)

    async def _clean_up(self) -> None:
        """Delete what was created and not read, on the way out: bounded, never raising."""
        unread, self.unread = list(self.unread), set()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLEANUP_SECONDS):
                async for result in self.logs.delete_many(unread):
                    if not result.ok:
                        logger.warning(
                            "could not delete log request %s: %s", result.id, result.error
                        )


def _pipeline_uuid(value: str | UUID) -> UUID:
    return as_uuid(value, "pipeline ID")
